"""`scrapy withdraw`: the complaint path records withdrawals and deletes nothing."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import copy_of, scrapy_command


@pytest.fixture(scope="module")
def crawl(gate_corpus, tmp_path_factory):
    return copy_of(gate_corpus, tmp_path_factory.mktemp("withdraw"))


def _withdraw(db, *args):
    return scrapy_command("withdraw", "--db", f"sqlite:///{db}", *args)


def test_withdrawal_by_prefix_then_domain(crawl, gate_site, tmp_path):
    db = tmp_path / "p.sqlite"
    shutil.copy(crawl.db_path, db)
    main, open_ = gate_site.origins["main"], gate_site.origins["open"]
    captures_before = crawl.sql("SELECT count(*) FROM captures")[0][0]
    result = _withdraw(
        db, "--prefix", f"{main}/articles/", "--reason", "rights holder asked", "--ref", "C-17"
    )
    assert result.returncode == 0, result.stderr
    assert "3 capture(s) withdrawn (ref C-17)" in result.stdout
    again = _withdraw(db, "--prefix", f"{main}/articles/", "--reason", "again", "--ref", "C-18")
    assert "0 capture(s) withdrawn" in again.stdout  # already withdrawn
    # Every origin of the loopback site is on 127.0.0.1 (one port each): a domain is a host name,
    # whatever the port, so --domain withdraws every capture not withdrawn yet, on both origins.
    by_domain = _withdraw(db, "--domain", "127.0.0.1", "--reason", "r", "--ref", "C-19")
    assert by_domain.returncode == 0, by_domain.stderr
    assert f"{captures_before - 3} capture(s) withdrawn" in by_domain.stdout

    import sqlite3

    connection = sqlite3.connect(db)
    assert (
        connection.execute("SELECT count(*) FROM captures").fetchone()[0] == captures_before
    )  # nothing deleted
    rows = connection.execute(
        "SELECT url, outcome, reasons, stage, detail FROM decisions WHERE stage = 'withdrawal'"
    ).fetchall()
    assert len(rows) == captures_before  # each capture withdrawn once
    assert {r[0] for r in rows} == {u for (u,) in crawl.sql("SELECT url FROM captures")}
    assert f"{open_}/about" in {r[0] for r in rows}
    url, outcome, reasons, stage, detail = next(r for r in rows if r[0] == f"{main}/articles/1")
    detail = json.loads(detail)
    assert (outcome, json.loads(reasons)) == ("excluded", ["withdrawn"])
    assert detail["complaint"] == {"reason": "rights holder asked", "ref": "C-17"}
    record_id = connection.execute(
        "SELECT record_id FROM captures WHERE url = ?", (url,)
    ).fetchone()[0]
    assert detail["withdraws"]["record_id"] == record_id
    spiders = {s for (s,) in connection.execute("SELECT spider FROM runs")}
    assert spiders == {"corpus", "withdraw"}


def test_withdraw_needs_one_selector_a_reason_and_a_ref(crawl):
    assert _withdraw(crawl.db_path, "--reason", "r", "--ref", "x").returncode == 2
    assert (
        _withdraw(
            crawl.db_path, "--url", "http://a/", "--domain", "a", "--reason", "r", "--ref", "x"
        ).returncode
        == 2
    )
    assert _withdraw(crawl.db_path, "--url", "http://a/").returncode == 2
