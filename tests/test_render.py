"""Rendering crawls: the browser keeps script-written text, honours script-inserted reservations,
and requests nothing the gate refuses (the server's log is the proof)."""

from __future__ import annotations

import json
import time

import pytest
from warcio.archiveiterator import ArchiveIterator

from pipelines.warc_writer import page_of, rendered_dom_uri
from tests.conftest import (
    CHROMIUM,
    assert_consistent,
    assert_paced,
    require,
    require_module,
    run_crawl,
    scrapy_command,
    site_process,
    warcio_check,
)

BROWSER = CHROMIUM


@pytest.fixture(autouse=True, scope="module")
def _rendering_parts():
    """scrapy-playwright and Chromium, or a skip (a failure in CI) saying what is missing."""
    require_module("scrapy_playwright", "rendering needs scrapy-playwright (.[browser])")
    require(BROWSER, "no Chromium on PATH (apt-get install chromium)")


NEVER_REQUESTED = [
    ("site", "/private/data.json"),  # fetch() of a robots-disallowed URL
    ("site", "/reserved/data.json"),  # fetch() of a declared-reserved URL
    ("site", "/private/frame"),  # an iframe into the disallowed path
    ("site", "/private/pixel.png"),  # where an allowed image redirects to
    ("other", "/pixel.png"),  # third-party media
]
SCRIPT_RESERVED = b"Reserved by script-inserted meta."
# The gate lets a browser request out when it continues the route; Chromium then sends it from its
# own processes, a little later by a delay the crawler does not control (with two test workers on
# two cores, a 0.5 s gap arrived as 0.318 s): more than conftest's ARRIVAL_JITTER for one gap.
# Requests let out together (no pacing) still arrive far closer, and the run's span is held to it.
BROWSER_JITTER = 0.25


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with site_process("tests.sites.render", tmp_path_factory.mktemp("render")) as process:
        yield process


@pytest.fixture(scope="module")
def registry(site, tmp_path_factory):
    path = tmp_path_factory.mktemp("registry") / "declared.csv"
    path.write_text(
        "scope,value,party,channel,source,date\n"
        f"prefix,{site.origins['site']}/reserved/,Example Rights Holder,public notice,"
        "https://rights.example/notice,2026-05-04\n"
    )
    return path


@pytest.fixture(scope="module")
def rendered(site, registry, tmp_path_factory):
    result = run_crawl(
        tmp_path_factory.mktemp("rendered"),
        urls=[f"{site.origins['site']}/"],
        args={"render": "js"},
        settings={"POLICY_REGISTRIES": str(registry)},
    )
    assert result.returncode == 0, result.output
    return result


def _url(site, origin: str, path: str) -> str:
    return f"{site.origins[origin]}{path}"


def _records(crawl, record_type: str) -> dict[str, bytes]:
    return {
        page_of(headers["WARC-Target-URI"]): body
        for _, _, headers, body in crawl.records()
        if headers["WARC-Type"] == record_type
    }


def test_script_written_text_is_kept_in_a_conversion_record(site, rendered):
    page = _url(site, "site", "/js-text")
    assert rendered.decisions()[page] == ("kept", ())
    assert b"Rendered by JavaScript." in _records(rendered, "conversion")[page]
    assert b"Rendered by JavaScript." not in _records(rendered, "response")[page]


def test_the_decision_says_the_page_was_rendered_and_why(site, rendered):
    ((detail,),) = rendered.sql(
        "SELECT detail FROM decisions WHERE url = ?", _url(site, "site", "/js-text")
    )
    assert json.loads(detail)["detail"]["rendered"] == {
        "subrequests_refused": 0,
        "reason": "render-js",
    }


def test_a_compressed_page_is_archived_decoded_and_labelled_so(site, rendered):
    page = _url(site, "site", "/gzipped")
    assert rendered.decisions()[page] == ("kept", ())
    assert b"Decoded and rendered." in _records(rendered, "conversion")[page]
    assert _records(rendered, "response")[page].startswith(b"<!doctype html>")
    for path in rendered.warc_files():
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response" and record.rec_headers["WARC-Target-URI"] == page:
                    assert record.http_headers.get_header("Content-Encoding") is None


def test_links_written_by_script_are_followed(site, rendered):
    page = _url(site, "site", "/js-link")
    assert rendered.decisions()[page] == ("kept", ())
    assert b"Reached through a script link." in _records(rendered, "conversion")[page]


def test_a_reservation_inserted_by_script_excludes_the_page(site, rendered):
    decisions = rendered.decisions()
    assert decisions[_url(site, "site", "/js-noai")] == ("excluded", ("noai-meta",))
    assert decisions[_url(site, "site", "/js-tdm")] == ("excluded", ("tdm-reservation-meta",))
    detail = json.loads(
        rendered.sql("SELECT detail FROM decisions WHERE url = ?", _url(site, "site", "/js-noai"))[
            0
        ][0]
    )
    assert any(s["source"].startswith("rendered:") for s in detail["signals"])
    stored = b"".join(body for *_, body in rendered.records())
    assert SCRIPT_RESERVED not in stored
    uris = {
        page_of(headers["WARC-Target-URI"])
        for _, _, headers, _ in rendered.records()
        if "WARC-Target-URI" in headers
    }
    assert _url(site, "site", "/js-noai") not in uris


def test_gated_browser_requests_are_never_sent(site, rendered):
    requested = {(r["origin"], r["path"]) for r in site.requests()}
    for refused in NEVER_REQUESTED:
        assert refused not in requested
    # what the gate allowed did leave: a third-party script (after that origin's robots.txt)
    assert ("other", "/robots.txt") in requested and ("other", "/lib.js") in requested
    assert ("site", "/hop.png") in requested  # allowed; only its redirect target is refused
    page = _url(site, "site", "/fetcher")
    assert b"Library loaded." in _records(rendered, "conversion")[page]


def test_refused_subrequests_are_recorded_with_their_reasons(site, rendered):
    rows = {
        url: (outcome, tuple(json.loads(reasons)), stage, json.loads(detail))
        for url, outcome, reasons, stage, detail in rendered.sql(
            "SELECT url, outcome, reasons, stage, detail FROM decisions"
        )
    }
    expected = {
        ("site", "/private/data.json"): "robots-disallowed",
        ("site", "/reserved/data.json"): "declared-reservation",
        ("site", "/private/frame"): "robots-disallowed",
        ("site", "/private/pixel.png"): "robots-disallowed",
        ("other", "/pixel.png"): "third-party-media",
    }
    fetcher = _url(site, "site", "/fetcher")
    for (origin, path), reason in expected.items():
        outcome, reasons, stage, detail = rows[_url(site, origin, path)]
        assert (outcome, reasons, stage) == ("excluded", (reason,), "before-fetch")
        assert detail["detail"]["browser"]["subresource_of"] == fetcher
    hop = rows[_url(site, "site", "/private/pixel.png")][3]["detail"]["browser"]
    assert hop["redirected_from"] == _url(site, "site", "/hop.png")


def test_a_subresource_reserved_by_its_own_response_never_reaches_the_page(site, rendered):
    page = _url(site, "site", "/loader")
    assert rendered.decisions()[page] == ("kept", ())  # a script whose server hung up included
    dom = _records(rendered, "conversion")[page]
    assert b"Open API text." in dom
    assert b"Header-reserved API text." not in dom and b"reserved fetch refused" in dom
    decisions = rendered.decisions()
    assert decisions[_url(site, "site", "/api/reserved.txt")] == ("excluded", ("noai-header",))
    assert decisions[_url(site, "site", "/frame-noai")] == ("excluded", ("noai-meta",))
    stored = b"".join(body for *_, body in rendered.records())
    assert b"Header-reserved API text." not in stored
    assert b"Frame reserved by its meta." not in stored


def test_subresources_are_archived_when_configured(site, registry, tmp_path):
    page = _url(site, "site", "/loader")
    crawl = run_crawl(
        tmp_path,
        urls=[page],
        args={"render": "js"},
        settings={
            "POLICY_REGISTRIES": str(registry),
            "RENDER_KEEP_SUBRESOURCES": "true",
            "DEPTH_LIMIT": "0",
        },
    )
    assert crawl.returncode == 0, crawl.output
    responses = _records(crawl, "response")
    assert responses[_url(site, "site", "/logo.png")] == b"\x89PNG same-origin logo"
    assert responses[_url(site, "site", "/chunked.js")] == b"var a = 1"
    for path in crawl.warc_files():  # the body is stored without its chunked framing: say so
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                uri = record.rec_headers["WARC-Target-URI"]
                if record.rec_type == "response" and uri == _url(site, "site", "/chunked.js"):
                    assert record.http_headers.get_header("Transfer-Encoding") is None
    assert responses[_url(site, "site", "/api/open.txt")] == b"Open API text."
    for reserved in ("/api/reserved.txt", "/frame-noai"):
        assert _url(site, "site", reserved) not in responses
    captured = {url for (url,) in crawl.sql("SELECT url FROM captures")}
    assert {page, _url(site, "site", "/logo.png"), _url(site, "site", "/api/open.txt")} <= captured
    assert_consistent(crawl.warc_dir, f"sqlite:///{crawl.db_path}")


def _arrivals(site, origin: str) -> list[float]:
    return sorted(
        r["t"]
        for r in site.requests()
        if r["origin"] == origin
        and (r["path"] in ("/", "/next", "/next2") or r["path"].startswith("/img/"))
    )


def test_browser_requests_keep_the_origins_crawl_delay(site, tmp_path):
    result = run_crawl(
        tmp_path,
        urls=[_url(site, "paced", "/")],
        args={"render": "js"},
        settings={"DEPTH_LIMIT": "1"},
    )
    assert result.returncode == 0, result.output
    times = _arrivals(site, "paced")  # three pages and their eight images, in whatever order
    assert len(times) == 11
    # Crawl-delay: 0.5, on one clock for the pages and the browser's requests (server clock)
    assert_paced(times, 0.5, jitter=BROWSER_JITTER)


def test_a_page_is_rendered_with_what_got_a_turn_in_time(site, tmp_path):
    result = run_crawl(
        tmp_path,
        urls=[_url(site, "slow-paced", "/")],
        args={"render": "js"},
        settings={"DEPTH_LIMIT": "0", "RENDER_TIMEOUT": "3"},
    )
    assert result.returncode == 0, result.output
    assert result.decisions()[_url(site, "slow-paced", "/")] == ("kept", ())
    times = _arrivals(site, "slow-paced")
    assert 1 <= len(times) < 5  # Crawl-delay 2 s: not every image fits in the page's 3 s
    if len(times) > 1:
        assert_paced(times, 2.0, jitter=BROWSER_JITTER)


def test_rendered_warc_passes_warcio_check_and_verify(rendered):
    warcio_check(rendered.warc_files())
    verify = scrapy_command(
        "verify",
        "-s",
        f"WARC_DIR={rendered.warc_dir}",
        "-s",
        f"PROVENANCE_DB_URL=sqlite:///{rendered.db_path}",
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_conversion_records_refer_to_their_response(rendered):
    records = rendered.records()
    responses = {
        headers["WARC-Record-ID"]: headers["WARC-Target-URI"]
        for _, _, headers, _ in records
        if headers["WARC-Type"] == "response"
    }
    conversions = [headers for _, _, headers, _ in records if headers["WARC-Type"] == "conversion"]
    assert conversions
    for headers in conversions:
        assert headers["WARC-Target-URI"] == rendered_dom_uri(responses[headers["WARC-Refers-To"]])
        assert headers["Content-Type"].startswith("text/html")


def test_without_rendering_the_plain_downloader_fetches_the_page(site, tmp_path):
    result = run_crawl(
        tmp_path, urls=[f"{site.origins['site']}/js-text"], settings={"DEPTH_LIMIT": "0"}
    )
    assert result.returncode == 0, result.output
    assert result.decisions() == {_url(site, "site", "/js-text"): ("kept", ())}
    assert not _records(result, "conversion")
    assert "playwright" not in result.output.lower()


def test_a_missing_browser_is_a_clear_error_at_start(site, tmp_path):
    before = len(site.requests())
    started = time.monotonic()
    result = run_crawl(
        tmp_path,
        urls=[f"{site.origins['site']}/"],
        args={"render": "js"},
        settings={"RENDER_BROWSER_PATH": str(tmp_path / "no-such-chromium")},
        timeout=60,
    )
    assert result.returncode != 0
    assert "RENDER_BROWSER_PATH: no executable browser at" in result.output
    assert time.monotonic() - started < 30
    assert len(site.requests()) == before
    assert not result.warc_files()


def test_render_argument_takes_js_or_none(site, tmp_path):
    result = run_crawl(tmp_path, urls=[f"{site.origins['site']}/"], args={"render": "yes"})
    assert result.returncode != 0
    assert "-a render= takes js, auto or none" in result.output
