"""The provenance schema under Alembic, on SQLite and on the PostgreSQL server of this machine."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import inspect, text

from pipelines import models, schema
from tests.conftest import LOOPBACK_SETTINGS, REPO, assert_consistent, run_crawl, scrapy_command


def test_head_constant_matches_the_migrations():
    assert schema.HEAD == schema.head()


def test_the_migrations_build_the_schema_of_the_models(tmp_path):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = models.create_engine(f"sqlite:///{tmp_path / 'migrated.sqlite'}")
    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection), "head")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), models.Base.metadata)
    assert differences == []


def test_a_new_sqlite_database_is_migrated_to_head(tmp_path):
    engine = models.create_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    assert schema.upgrade(engine) == schema.head()
    assert schema.current(engine) == schema.head()
    assert schema.upgrade(engine) == schema.head()  # idempotent


def _database_at(engine, revision: str) -> None:
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection), revision)


def test_a_database_from_before_migrations_is_stamped_and_kept(tmp_path):
    engine = models.create_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    _database_at(engine, schema.FIRST_REVISION)  # the tables as the first version made them
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO runs (id, spider, started_at, user_agent, profile, profile_sha256, "
                                "settings, version, hostname) VALUES ('r', 's', '2026-01-01', 'ua', 'p', 'x', '{}', "
                                "'0', 'h')"))  # fmt: skip
    schema.upgrade(engine)
    assert schema.current(engine) == schema.head()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM runs")).scalar() == 1


def _gains_the_recrawl_columns(url: str) -> None:
    engine = models.create_engine(url)
    try:
        _database_at(engine, "0001")
        assert schema.upgrade(engine) == schema.head()
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("captures")}
            indexes = {
                i["name"]: i["column_names"] for i in inspect(connection).get_indexes("captures")
            }
        assert {"etag", "last_modified", "revisit_of", "revisit_profile"} <= columns
        # 0003: recovery's last recorded capture per WARC file walks an index
        assert indexes["ix_captures_warc_file_offset"] == ["warc_file", "warc_offset"]
    finally:
        engine.dispose()


def test_a_first_revision_database_gains_the_recrawl_columns(tmp_path):
    _gains_the_recrawl_columns(f"sqlite:///{tmp_path / 'p.sqlite'}")


def test_a_first_revision_postgresql_database_gains_the_recrawl_columns(postgres_schema):
    _gains_the_recrawl_columns(postgres_schema)


def test_scrapy_db_command(tmp_path):
    db = f"sqlite:///{tmp_path / 'p.sqlite'}"
    assert f"none; head is {schema.head()}" in scrapy_command("db", "current", "--db", db).stdout
    assert f"at revision {schema.head()}" in scrapy_command("db", "upgrade", "--db", db).stdout
    assert scrapy_command("db", "downgrade", "--db", db).returncode == 2


def test_two_crawls_write_concurrently_to_postgresql(gate_site, postgres_schema, tmp_path):
    o = gate_site.origins
    commands = []
    for index, seed in enumerate((f"{o['main']}/", f"{o['open']}/")):
        command = [sys.executable, "-m", "scrapy", "crawl", "corpus", "-a", f"urls={seed}"]
        for name, value in {**LOOPBACK_SETTINGS, "WARC_DIR": str(tmp_path / f"warc{index}"),
                            "PROVENANCE_DB_URL": postgres_schema, "PROVENANCE_BATCH_SIZE": "2"}.items():  # fmt: skip
            command += ["-s", f"{name}={value}"]
        commands.append(
            subprocess.Popen(
                command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    outputs = [process.communicate(timeout=180)[0] for process in commands]
    assert all(process.returncode == 0 for process in commands), outputs
    engine = models.create_engine(postgres_schema)
    with engine.connect() as connection:
        runs = connection.execute(text("SELECT count(*) FROM runs")).scalar()
        kept = connection.execute(
            text("SELECT count(*) FROM decisions WHERE outcome = 'kept'")
        ).scalar()
        captures = connection.execute(text("SELECT count(*) FROM captures")).scalar()
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert runs == 2 and kept == captures > 0
    assert revision == schema.head()
    merged = tmp_path / "all-warc"  # each worker wrote its own files; the database is shared
    merged.mkdir()
    for index in range(2):
        for path in (tmp_path / f"warc{index}").glob("*.warc.gz"):
            (merged / path.name).write_bytes(path.read_bytes())
    assert_consistent(merged, postgres_schema)


def test_a_crawl_into_postgresql_verifies(gate_site, postgres_schema, tmp_path):
    result = run_crawl(
        tmp_path,
        urls=[f"{gate_site.origins['open']}/"],
        settings={"PROVENANCE_DB_URL": postgres_schema},
    )
    assert result.returncode == 0, result.output
    assert_consistent(result.warc_dir, postgres_schema)


def test_recovery_reads_the_last_capture_of_each_file_from_the_index(tmp_path):
    """pipelines/warc_recovery.py `recorded_until` runs at every start: no full-table scan."""
    from sqlalchemy import func, select

    engine = models.create_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    try:
        schema.upgrade(engine)
        query = select(models.Capture.warc_file, func.max(models.Capture.warc_offset)).group_by(
            models.Capture.warc_file
        )
        compiled = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        with engine.connect() as connection:
            plan = " ".join(
                str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
        assert "ix_captures_warc_file_offset" in plan, plan
    finally:
        engine.dispose()
