"""`scrapy audit` reports the crawl's true numbers (checked against SQL on the same database)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import scrapy_command


@pytest.fixture(scope="module")
def crawl(gate_corpus):
    return gate_corpus


def _audit(crawl, *extra):
    return scrapy_command("audit", "--db", f"sqlite:///{crawl.db_path}", *extra)


def test_json_figures_match_the_database(crawl):
    result = _audit(crawl, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    kept, excluded = (
        crawl.sql("SELECT count(*) FROM decisions WHERE outcome = ?", o)[0][0]
        for o in ("kept", "excluded")
    )
    assert data["decisions"] == {"kept": kept, "excluded": excluded, "withdrawn": 0}
    reasons = {}
    for (row,) in crawl.sql("SELECT reasons FROM decisions WHERE outcome = 'excluded'"):
        for reason in json.loads(row):
            reasons[reason] = reasons.get(reason, 0) + 1
    assert data["excluded_by_reason"] == reasons
    assert data["warc_bytes"] == crawl.sql("SELECT sum(warc_length) FROM captures")[0][0]
    ((run_id, profile),) = crawl.sql("SELECT id, profile FROM runs")
    assert [r["id"] for r in data["runs"]] == [run_id]
    assert (
        data["runs"][0]["spider"] == "corpus" and data["runs"][0]["profile"] == profile == "strict"
    )
    assert data["runs"][0]["finished_at"].endswith("+00:00")
    assert data["signals_seen"]["robots.txt"] >= kept
    assert sum(d["kept"] for d in data["domains"]) == kept


def test_text_report_shows_the_tables(crawl):
    result = _audit(crawl)
    assert result.returncode == 0, result.stderr
    for title in (
        "Runs",
        "Excluded by reason",
        "Domains (by bytes kept)",
        "Signals seen",
        "robots-unreachable",
    ):
        assert title in result.stdout


def test_bad_format_is_a_usage_error(crawl):
    assert _audit(crawl, "--format", "pdf").returncode == 2


def test_html_report_renders_offline_with_charts_and_tables(crawl, tmp_path, chromium):
    out = tmp_path / "audit.html"
    result = _audit(crawl, "--format", "html", "--out", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert "<script" not in html and "http://" not in html.split("<body>")[0]  # self-contained
    rendered = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", out.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    dom = rendered.stdout
    assert rendered.returncode == 0 and "<svg" in dom, rendered.stderr[-2000:]
    for element in ('id="chart-reasons"', 'id="chart-domains"', 'id="chart-timeline"', 'id="table-runs"',
                    'id="table-domains"', 'id="table-signals"'):  # fmt: skip
        assert element in dom
    data = json.loads(_audit(crawl, "--format", "json").stdout)
    for reason, count in data["excluded_by_reason"].items():
        assert f'data-label="{reason}" data-value="{count}"' in dom
    assert f'data-kept="{data["decisions"]["kept"]}"' in dom


@pytest.fixture(scope="module")
def withdrawn(crawl, gate_site, tmp_path_factory):
    """The crawl's database, after a complaint withdrew one kept page: (database, that URL)."""
    db = tmp_path_factory.mktemp("audit-withdrawn") / "provenance.sqlite"
    shutil.copy(crawl.db_path, db)
    url = f"{gate_site.origins['main']}/articles/2"
    result = scrapy_command(
        "withdraw", "--url", url, "--reason", "complaint", "--ref", "C-1", "--db", f"sqlite:///{db}"
    )
    assert result.returncode == 0 and "1 capture(s) withdrawn" in result.stdout, result.stderr
    return db, url


def test_a_withdrawn_page_is_counted_withdrawn_not_kept(crawl, withdrawn):
    db, url = withdrawn
    result = scrapy_command("audit", "--db", f"sqlite:///{db}", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    kept, excluded = (
        crawl.sql("SELECT count(*) FROM decisions WHERE outcome = ?", o)[0][0]
        for o in ("kept", "excluded")
    )
    assert data["decisions"] == {"kept": kept - 1, "excluded": excluded, "withdrawn": 1}
    assert "withdrawn" not in data["excluded_by_reason"]  # a withdrawal excludes no fetch
    (length,) = crawl.sql("SELECT warc_length FROM captures WHERE url = ?", url)[0]
    assert data["warc_bytes"] == crawl.sql("SELECT sum(warc_length) FROM captures")[0][0] - length
    captures = crawl.sql("SELECT count(*) FROM captures")[0][0]
    assert sum(data["content_types"].values()) == captures - 1
    corpus, withdraw = data["runs"]
    assert (corpus["spider"], corpus["kept"], corpus["withdrawn"]) == ("corpus", kept - 1, 1)
    assert (withdraw["spider"], withdraw["withdrawals"], withdraw["excluded"]) == ("withdraw", 1, 0)
    assert sum(d["kept"] for d in data["domains"]) == kept - 1
    assert sum(d["withdrawn"] for d in data["domains"]) == 1
    assert sum(p["kept"] for p in data["timeline"]) == kept - 1
    assert sum(p["withdrawn"] for p in data["timeline"]) == 1
    # One run shown: its capture withdrawn by another run still counts as withdrawn.
    one = scrapy_command(
        "audit", "--db", f"sqlite:///{db}", "--format", "json", "--run", corpus["id"]
    )
    assert json.loads(one.stdout)["decisions"] == data["decisions"]


def test_text_and_html_headlines_say_how_many_were_withdrawn(crawl, withdrawn, tmp_path):
    db, _ = withdrawn
    kept = crawl.sql("SELECT count(*) FROM decisions WHERE outcome = 'kept'")[0][0]
    text = scrapy_command("audit", "--db", f"sqlite:///{db}")
    assert text.returncode == 0, text.stderr
    assert f"{kept - 1} kept, " in text.stdout and "1 withdrawn since" in text.stdout
    out = tmp_path / "audit.html"
    html = scrapy_command("audit", "--db", f"sqlite:///{db}", "--format", "html", "--out", str(out))
    assert html.returncode == 0, html.stderr
    page = out.read_text()
    assert f'data-kept="{kept - 1}"' in page and 'data-withdrawn="1"' in page
    assert "<b>1</b> withdrawn since" in page
