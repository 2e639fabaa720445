"""Incremental re-crawls: conditional requests, revisit records, reservations read again."""

from __future__ import annotations

import json

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import assert_consistent, run_crawl, scrapy_command, site_process
from tests.sites.recrawl import LAST_MODIFIED

PAGES = ("/", "/etag", "/dated", "/plain", "/changing", "/later", "/moving")


def warc_records(crawl) -> list[tuple[str, str, dict[str, str]]]:
    found = []
    for path in crawl.warc_files():
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                headers = dict(record.rec_headers.headers)
                found.append((record.rec_type, headers.get("WARC-Target-URI"), headers))
    return found


@pytest.fixture
def recrawl_site(tmp_path, monkeypatch):
    """The changing site, and the folder of its state (robots.txt, version)."""
    state = tmp_path / "state"
    state.mkdir()
    (state / "version").write_text("1")
    monkeypatch.setenv("RECRAWL_DIR", str(state))
    with site_process("tests.sites.recrawl", tmp_path) as site:
        yield site, state


def test_a_second_run_writes_revisits_and_honours_new_reservations(tmp_path, recrawl_site):
    site, state = recrawl_site
    base = site.origins["recrawl"]
    first = run_crawl(tmp_path / "out", urls=[f"{base}/"])
    assert first.returncode == 0, first.output
    assert sorted(u for (u,) in first.sql("SELECT url FROM captures")) == sorted(
        base + p for p in PAGES
    )
    originals = dict(first.sql("SELECT url, record_id FROM captures"))
    first_requests = len(site.requests())

    # Between the runs: /changing changes, and the site reserves /plain for AI training.
    (state / "version").write_text("2")
    (state / "robots.txt").write_text("User-agent: *\nDisallow: /plain\n")
    (state / "moved").write_text("")  # and /moving now redirects
    second = run_crawl(tmp_path / "out", urls=[f"{base}/"])
    assert second.returncode == 0, second.output
    requests = site.requests()[first_requests:]

    asked = {r["path"]: r for r in requests}
    assert asked["/"]["if-none-match"] == '"index-1"'
    assert asked["/etag"]["if-none-match"] == '"etag-1"'
    assert asked["/dated"]["if-modified-since"] == LAST_MODIFIED
    assert "/plain" not in asked  # reserved now: refused before it is requested
    assert "/later" in asked  # found through the links of the stored, unchanged index
    assert asked["/moving"]["if-modified-since"] == LAST_MODIFIED
    assert "if-modified-since" not in asked["/moved-here"]  # validators stay with their URL

    (run1,), (run2,) = second.sql("SELECT id FROM runs ORDER BY started_at")
    rows = second.sql(
        "SELECT url, status, revisit_of, revisit_profile FROM captures WHERE run_id = ?", run2
    )
    by_url = {url[len(base) :]: (status, of, profile) for url, status, of, profile in rows}
    assert by_url["/"] == (304, originals[f"{base}/"], "server-not-modified")
    assert by_url["/etag"] == (304, originals[f"{base}/etag"], "server-not-modified")
    assert by_url["/dated"] == (304, originals[f"{base}/dated"], "server-not-modified")
    assert by_url["/later"] == (200, originals[f"{base}/later"], "identical-payload-digest")
    assert by_url["/changing"] == (200, None, None)  # changed: a new response record
    assert by_url["/moved-here"] == (200, None, None)
    assert "/moving" not in by_url  # it redirected: decided `redirected`, nothing kept
    assert "/plain" not in by_url

    # The WARC: revisit records refer to the stored responses; nothing is stored twice.
    records = warc_records(second)
    revisits = [h for kind, _, h in records if kind == "revisit"]
    assert len(revisits) == 4
    for headers in revisits:
        assert headers["WARC-Refers-To"] in originals.values()
        assert headers["WARC-Refers-To-Target-URI"] == headers["WARC-Target-URI"]
        assert headers["WARC-Profile"].startswith("http://netpreserve.org/warc/1.1/revisit/")
    pages = {base + p for p in PAGES}
    responses = [u for kind, u, _ in records if kind == "response" and u in pages]
    assert sorted(responses) == sorted(
        [base + p for p in PAGES] + [f"{base}/changing"]
    )  # run 1's pages, and the changed page

    # /plain became reserved: excluded in run 2, and its run-1 capture withdrawn.
    withdrawals = second.sql(
        "SELECT reasons, detail FROM decisions WHERE stage = 'withdrawal' AND url = ?",
        f"{base}/plain",
    )
    assert len(withdrawals) == 1
    reasons, detail = withdrawals[0]
    assert json.loads(reasons) == ["withdrawn", "robots-disallowed"]
    assert json.loads(detail)["detail"]["withdraws"]["record_id"] == originals[f"{base}/plain"]

    assert_consistent(second.warc_dir, f"sqlite:///{second.db_path}")

    # Revisits without the files they refer to are reported: a corpus must travel whole.
    alone = second.warc_dir.parent / "second-run-only"
    alone.mkdir()
    newest = max(second.warc_files(), key=lambda path: path.name)
    (alone / newest.name).write_bytes(newest.read_bytes())
    partial = scrapy_command(
        "verify", "--warc-dir", str(alone), "--db", f"sqlite:///{second.db_path}"
    )
    assert partial.returncode == 1
    assert "which is not a response record in the WARC files" in partial.stdout

    # The training-content summary counts each stored document once, not once per run.
    summary = scrapy_command(
        "summary", "--template", "eu-ai-act", "--format", "json",
        "--db", f"sqlite:///{second.db_path}", "--warc-dir", str(second.warc_dir),
    )  # fmt: skip
    assert summary.returncode == 0, summary.stderr
    counted = sum(json.loads(summary.stdout)["section_1_3"]["content_types"].values())
    # Each URL by its latest decision: a page captured twice or revisited counts once; /plain
    # (withdrawn) and /moving (redirected now, its run-1 capture kept as history) not at all.
    latest = second.sql(
        "SELECT d.url, d.outcome FROM decisions d WHERE d.id = "
        "(SELECT max(id) FROM decisions WHERE url = d.url)"
    )
    assert counted == sum(outcome == "kept" for _, outcome in latest) == len(PAGES) - 1


def test_recrawl_can_be_switched_off(tmp_path, recrawl_site):
    site, _ = recrawl_site
    base = site.origins["recrawl"]
    settings = {"RECRAWL_ENABLED": "false"}
    assert run_crawl(tmp_path / "out", urls=[f"{base}/"], settings=settings).returncode == 0
    again = run_crawl(tmp_path / "out", urls=[f"{base}/"], settings=settings)
    assert again.returncode == 0, again.output
    assert not any("if-none-match" in r for r in site.requests())
    assert again.sql("SELECT count(*) FROM captures WHERE revisit_of IS NOT NULL") == [(0,)]


def test_which_exclusions_withdraw_earlier_captures():
    from pipelines.withdraw import NOT_RESERVATIONS
    from policies import reasons

    withdrawing = set(reasons.ALL) - NOT_RESERVATIONS - {reasons.WITHDRAWN}
    assert withdrawing == {
        "robots-disallowed", "robots-ai-agent-disallowed", "tdmrep-reserved",
        "tdm-reservation-header", "tdm-reservation-meta", "noai-header", "noai-meta",
        "content-usage-reserved", "content-signal-reserved", "declared-reservation",
        "blocklisted", "unavailable-for-legal-reasons", "ai-txt-reserved", "rsl-reserved",
        "rsl-license-required", "c2pa-reserved", "iptc-reserved", "natural-language-reservation",
    }  # fmt: skip
