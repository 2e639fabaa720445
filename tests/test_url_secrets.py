"""The password of a database or Redis URL never appears in a message nor in the run's recorded
settings (issue #11 item 3.12)."""

from __future__ import annotations

import json

import pytest
from scrapy.settings import Settings
from sqlalchemy import select

from crawler.contracts import hide_password
from pipelines import models
from pipelines.provenance import recorded_settings
from tests.conftest import run_crawl

SECRET = "s3cretpw"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cretpw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("rediss://bob:s3cretpw@cache:6380/1", "rediss://bob:***@cache:6380/1"),
        ("unix://:s3cretpw@/run/redis.sock?db=0", "unix://:***@/run/redis.sock?db=0"),
        ("postgresql+psycopg://bob:s3cretpw@db/x", "postgresql+psycopg://bob:***@db/x"),
        ("redis://:s3c@retpw@host/0", "redis://:***@host/0"),  # an unencoded "@" in it
        ("bob:s3cretpw@db/x", "bob:***@db/x"),  # no scheme: urllib sees no authority
        ("http://[::1:s3cretpw@host/", "http://[:***@host/"),  # urllib refuses it
        ("sqlite:///data/provenance.sqlite", "sqlite:///data/provenance.sqlite"),
        ("redis://127.0.0.1:6379/0?name=a@b", "redis://127.0.0.1:6379/0?name=a@b"),
    ],
)
def test_hide_password(url, shown):
    assert hide_password(url) == shown


def test_recorded_settings_hold_no_password():
    settings = Settings(
        {
            "PROVENANCE_DB_URL": f"postgresql+psycopg://bob:{SECRET}@db:5432/x",
            "WARC_DIR": f"s3://key:{SECRET}@bucket/warc",  # any URL with a password
            "CRAWLER_CONTACT": "mailto:crawler@example.org",  # not a password
        }
    )
    recorded = recorded_settings(settings)
    assert SECRET not in json.dumps(recorded)
    assert recorded["CRAWLER_CONTACT"] == "mailto:crawler@example.org"
    assert recorded["PROVENANCE_DB_URL"] == "postgresql+psycopg://bob:***@db:5432/x"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DISTRIBUTED_REDIS_URL", f"redis://:{SECRET}@127.0.0.1:notaport/0"),
        ("DISTRIBUTED_REDIS_URL", f"redis://bob:{SECRET}@127.0.0.1:6379/0?db=x"),
        ("PROVENANCE_DB_URL", f"bob:{SECRET}@127.0.0.1/provenance"),
    ],
)
def test_a_rejected_service_url_is_reported_without_its_password(gate_site, tmp_path, name, value):
    if name == "DISTRIBUTED_REDIS_URL":
        pytest.importorskip("scrapy_redis", reason="distributed mode needs scrapy-redis")
    result = run_crawl(tmp_path, urls=[f"{gate_site.origins['open']}/"], settings={name: value})
    assert result.returncode != 0
    assert f"Setting {name}" in result.output
    assert SECRET not in result.output


def test_a_crawl_with_a_database_password_never_shows_or_stores_it(
    gate_site, tmp_path, postgres_schema
):
    # The server trusts loopback connections, so any password is accepted: it must not show.
    db_url = postgres_schema.replace("postgres@", f"postgres:{SECRET}@", 1)
    result = run_crawl(
        tmp_path,
        urls=[f"{gate_site.origins['open']}/"],
        settings={"PROVENANCE_DB_URL": db_url, "LOG_LEVEL": "DEBUG"},
    )
    assert result.returncode == 0, result.output
    assert SECRET not in result.output
    engine = models.create_engine(db_url)
    try:
        with engine.connect() as connection:
            (settings,) = connection.execute(select(models.Run.settings)).one()
    finally:
        engine.dispose()
    assert SECRET not in json.dumps(settings)
    assert "postgres:***@" in json.dumps(settings)
