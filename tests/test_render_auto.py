"""`-a render=auto`: every page fetched plainly, only those whose HTML lacks their content rendered
(real loopback site, real Chromium). Which pages a browser rendered is proven from the server's
side too: each page loads an image of its own that only a browser asks for."""

from __future__ import annotations

import json

import pytest
from scrapy.http import HtmlResponse
from scrapy.settings import Settings

from crawler.render.auto import DEFAULTS, AutoHeuristic
from pipelines.warc_writer import page_of
from tests.conftest import (
    CHROMIUM,
    require,
    require_module,
    run_crawl,
    scrapy_command,
    site_process,
    warcio_check,
)
from tests.sites.render_auto import (
    DISALLOWED,
    RESERVED,
    SCRIPT_RESERVED,
    SCRIPTED,
    STATIC,
    marker,
    pages,
)

BROWSER = CHROMIUM
RENDERED = {**SCRIPTED, SCRIPT_RESERVED: "app-root-empty"}  # rendered, and why


def _browser():
    require_module("scrapy_playwright", "rendering needs scrapy-playwright (.[browser])")
    require(BROWSER, "no Chromium on PATH (apt-get install chromium)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with site_process("tests.sites.render_auto", tmp_path_factory.mktemp("auto")) as process:
        yield process


@pytest.fixture(scope="module")
def auto(site, tmp_path_factory):
    _browser()
    result = run_crawl(
        tmp_path_factory.mktemp("auto-crawl"),
        urls=[f"{site.origins['site']}/"],
        args={"render": "auto"},
    )
    assert result.returncode == 0, result.output
    return result


def _url(site, path: str) -> str:
    return f"{site.origins['site']}{path}"


def _rendered(crawl) -> dict[str, dict]:
    """detail.rendered of every decision that has one, by URL."""
    found = {}
    for url, detail in crawl.sql("SELECT url, detail FROM decisions"):
        rendered = json.loads(detail).get("detail", {}).get("rendered")
        if rendered is not None:
            found[url] = rendered
    return found


def _records(crawl, record_type: str) -> dict[str, list[bytes]]:
    found: dict[str, list[bytes]] = {}
    for _, _, headers, body in crawl.records():
        if headers["WARC-Type"] == record_type:
            found.setdefault(page_of(headers["WARC-Target-URI"]), []).append(body)
    return found


# -- the heuristic, on the site's pages as served (no browser) -----------------------------------


def _verdict(path: str, **settings):
    heuristic = AutoHeuristic.from_settings(Settings({**DEFAULTS, **settings}))
    return heuristic.verdict(HtmlResponse(f"http://site{path}", body=pages()[path].body))


@pytest.mark.parametrize("path", [*STATIC, "/", *SCRIPTED])
def test_the_heuristic_names_each_script_page_and_no_static_one(path):
    assert _verdict(path).reason == SCRIPTED.get(path)


def test_an_app_root_with_text_or_a_json_data_block_is_not_a_reason():
    heuristic = AutoHeuristic.from_settings(Settings(DEFAULTS))
    prose = "<p>" + "Plenty of server-rendered words here. " * 20 + "</p>"
    for body in (
        f'<div id="root">{prose}</div><script src="/app.js"></script>',  # server-side rendered
        prose + '<script type="application/json">' + "[1]," * 2000 + "</script>",
    ):
        page = HtmlResponse("http://site/", body=f"<html><body>{body}</body></html>".encode())
        assert heuristic.verdict(page).reason is None


def test_app_roots_are_a_setting_and_a_negation_is_searched_for():
    prose = "<p>" + "Plenty of server-rendered words here. " * 20 + "</p>"
    page = HtmlResponse(
        "http://site/", body=f"<html><body><main></main>{prose}</body></html>".encode()
    )
    for roots, reason in ((["main:not(.x)"], "app-root-empty"), ([], None), (["#main"], None)):
        heuristic = AutoHeuristic.from_settings(
            Settings({**DEFAULTS, "RENDER_AUTO_APP_ROOTS": roots})
        )
        assert heuristic.verdict(page).reason == reason, roots


# -- a crawl -------------------------------------------------------------------------------------


def test_auto_renders_exactly_the_script_pages_and_says_why(site, auto):
    rendered = _rendered(auto)
    assert {url: r["reason"] for url, r in rendered.items()} == {
        _url(site, path): reason for path, reason in RENDERED.items()
    }
    heavy = rendered[_url(site, "/heavy")]["measured"]
    assert heavy["script"] >= 3 * heavy["text"] > 0
    # the same in the WARC: the page's metadata record
    ((record,),) = [_records(auto, "metadata")[_url(site, "/app")]]
    assert json.loads(record)["detail"]["rendered"]["reason"] == "app-root-empty"
    # the browser asked for the images of those pages only: the others were never rendered
    images = {r["path"] for r in auto.requests_to(site) if r["path"].startswith("/img/")}
    assert images == {f"/img{path}.png" for path in RENDERED}


def test_script_written_text_is_kept_and_static_pages_are_kept_as_served(site, auto):
    conversions = _records(auto, "conversion")
    responses = _records(auto, "response")
    for path in SCRIPTED:
        written = marker(path).encode()
        assert auto.decisions()[_url(site, path)] == ("kept", ())
        assert [written in dom for dom in conversions[_url(site, path)]] == [True]
        assert written not in responses[_url(site, path)][0]
    for path in STATIC:
        assert auto.decisions()[_url(site, path)] == ("kept", ())
        assert _url(site, path) not in conversions
    stored = b"".join(body for *_, body in auto.records())
    for path in STATIC:  # their scripts never ran
        assert marker(path).encode() not in stored


def test_each_page_is_fetched_once_and_archived_once(site, auto):
    fetched = [r["path"] for r in auto.requests_to(site) if not r["path"].startswith("/img/")]
    assert sorted(p for p in fetched if p in pages()) == sorted(set(pages()) - {DISALLOWED})
    for url, bodies in _records(auto, "response").items():
        assert len(bodies) == 1, url
    warcio_check(auto.warc_files())
    verify = scrapy_command(
        "verify", "-s", f"WARC_DIR={auto.warc_dir}",
        "-s", f"PROVENANCE_DB_URL=sqlite:///{auto.db_path}",
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_reserved_page_is_never_rendered(site, auto):
    decisions = auto.decisions()
    assert decisions[_url(site, RESERVED)] == ("excluded", ("noai-meta",))
    assert decisions[_url(site, DISALLOWED)] == ("excluded", ("robots-disallowed",))
    assert _url(site, RESERVED) not in _rendered(auto)
    requested = {r["path"] for r in auto.requests_to(site)}
    assert DISALLOWED not in requested
    assert f"/img{RESERVED}.png" not in requested and f"/img{DISALLOWED}.png" not in requested
    assert "'render/auto/not_rendered_excluded': 1" in auto.output


def test_a_reservation_a_script_inserts_still_excludes_the_page(site, auto):
    url = _url(site, SCRIPT_RESERVED)
    assert auto.decisions()[url] == ("excluded", ("noai-meta",))
    ((detail,),) = auto.sql("SELECT detail FROM decisions WHERE url = ?", url)
    assert any(s["source"].startswith("rendered:") for s in json.loads(detail)["signals"])
    stored = b"".join(body for *_, body in auto.records())
    assert marker(SCRIPT_RESERVED).encode() not in stored


def test_the_script_text_reaches_the_export(site, auto, tmp_path):
    result = scrapy_command(
        "export", "--format", "jsonl", "--out", str(tmp_path),
        "--warc-dir", str(auto.warc_dir), "--db", f"sqlite:///{auto.db_path}", timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    with open(result.stdout.strip(), encoding="utf-8") as rows:
        text = {row["url"]: row["text"] for row in map(json.loads, rows)}
    assert marker("/app") in text[_url(site, "/app")]


def test_the_thresholds_are_tunable(site, tmp_path):
    _browser()
    crawl = run_crawl(
        tmp_path,
        urls=[_url(site, "/static/1"), _url(site, "/heavy")],
        args={"render": "auto"},
        # static/1 has ~370 characters of text: now too little; the script ratio rule is off
        settings={
            "DEPTH_LIMIT": "0",
            "RENDER_AUTO_MIN_TEXT": "500",
            "RENDER_AUTO_SCRIPT_RATIO": "0",
        },
    )
    assert crawl.returncode == 0, crawl.output
    assert {url: r["reason"] for url, r in _rendered(crawl).items()} == {
        _url(site, "/static/1"): "little-text"
    }
    assert marker("/static/1").encode() in _records(crawl, "conversion")[_url(site, "/static/1")][0]


@pytest.mark.parametrize(
    ("args", "settings", "message"),
    [
        ({"render": "sometimes"}, {}, "-a render= takes js, auto or none, not 'sometimes'"),
        (
            {"render": "auto"},
            {"RENDER_AUTO_SCRIPT_RATIO": "-1"},
            "Setting RENDER_AUTO_SCRIPT_RATIO must be 0 (off) or more",
        ),
        (
            {},
            {"RENDER_AUTO": "true", "RENDER_JS": "true"},
            "Settings RENDER_JS and RENDER_AUTO are both on",
        ),
    ],
)
def test_a_bad_value_is_one_line_and_a_failed_exit(site, tmp_path, args, settings, message):
    result = run_crawl(tmp_path, urls=[_url(site, "/")], args=args, settings=settings, timeout=60)
    assert result.returncode != 0
    errors = [line for line in result.output.splitlines() if "error" in line.lower()]
    assert errors == [f"rightscrawl: error: {errors[0].split('error: ', 1)[1]}"], result.output
    assert message in errors[0]
    assert "Traceback" not in result.output
    assert result.requests_to(site) == []
    assert not result.warc_files()
