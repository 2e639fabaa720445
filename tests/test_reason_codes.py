"""Every reason code of the README's table produced by a real crawl of a loopback site, with the
exact decision set of that site (tests/sites/codes.py; the signal codes also in
test_crawl_signals.py and test_crawl.py, the browser's in test_render.py, politeness codes in
test_politeness.py, `withdrawn` in test_withdraw.py and here)."""

from __future__ import annotations

import re
import urllib.request

import pytest

from policies import reasons
from tests.conftest import (
    REPO,
    assert_payloads_as_served,
    require_module,
    run_crawl,
    site_process,
)
from tests.sites.codes import IPTC_PROHIBITED, REFUSED
from tests.sites.media import marker


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with site_process("tests.sites.codes", tmp_path_factory.mktemp("codes")) as process:
        yield process


@pytest.fixture(scope="module")
def crawl(site, tmp_path_factory):
    o = site.origins
    result = run_crawl(
        tmp_path_factory.mktemp("crawl"),
        # Scrapy's LinkExtractor skips links to images: the photo is a seed.
        urls=[f"{o['access']}/", f"{o['access']}/photo.jpg", f"{o['rsl']}/", f"{o['busy']}/"],
    )
    assert result.returncode == 0, result.output
    return result


def test_access_refusals_and_response_signals_have_their_codes(crawl, site):
    a, rsl, busy = site.origins["access"], site.origins["rsl"], site.origins["busy"]
    assert crawl.decisions() == {
        f"{a}/": ("kept", ()),
        f"{a}/ok": ("kept", ()),
        f"{a}/to-ftp": ("excluded", (reasons.REDIRECTED,)),
        "ftp://127.0.0.1/file": ("excluded", (reasons.UNSUPPORTED_SCHEME,)),
        f"{a}/401": ("excluded", (reasons.AUTH_REQUIRED,)),
        f"{a}/402": ("excluded", (reasons.PAYMENT_REQUIRED,)),
        f"{a}/403": ("excluded", (reasons.FORBIDDEN,)),
        f"{a}/407": ("excluded", (reasons.AUTH_REQUIRED,)),
        f"{a}/451": ("excluded", (reasons.UNAVAILABLE_FOR_LEGAL_REASONS,)),
        f"{a}/signal-header": ("excluded", (reasons.CONTENT_SIGNAL_RESERVED,)),
        f"{a}/photo.jpg": ("excluded", (reasons.IPTC_RESERVED,)),
        f"{rsl}/": ("excluded", (reasons.RSL_RESERVED,)),
        f"{busy}/": ("excluded", (reasons.ROBOTS_UNREACHABLE,)),  # robots.txt answered 429
    }
    # Each refusal was asked for once: no second try with credentials, another agent, …
    paths = crawl.paths(site, "access")
    for status in REFUSED:
        assert paths.count(f"/{status}") == 1
    assert "/" not in crawl.paths(site, "rsl")  # refused before fetching: never requested
    assert set(crawl.paths(site, "busy")) == {"/robots.txt"}


def test_refused_bytes_never_reach_a_warc_file(crawl, site):
    stored = b"".join(body for *_, body in crawl.records())
    for body in REFUSED.values():
        assert body.encode() not in stored
    assert b"Reserved by a Content-Signal header." not in stored
    assert IPTC_PROHIBITED not in stored and b"Reserved by an RSL licence." not in stored
    kept = {url for url, (outcome, _) in crawl.decisions().items() if outcome == "kept"}
    responses = {
        h["WARC-Target-URI"] for _, _, h, _ in crawl.records() if h["WARC-Type"] == "response"
    }
    assert kept <= responses
    assert assert_payloads_as_served(crawl, site) >= len(kept)  # byte for byte as the server sent


def test_a_redirect_to_another_scheme_is_unsupported_scheme(crawl, site):
    a = site.origins["access"]
    decisions = crawl.decisions()
    assert decisions[f"{a}/to-ftp"] == ("excluded", (reasons.REDIRECTED,))
    assert decisions["ftp://127.0.0.1/file"] == ("excluded", (reasons.UNSUPPORTED_SCHEME,))


def test_a_page_that_turns_451_withdraws_its_earlier_capture(site, tmp_path):
    legal = site.origins["legal"]
    first = run_crawl(tmp_path, urls=[f"{legal}/"])
    assert first.returncode == 0, first.output
    assert first.decisions() == {f"{legal}/": ("kept", ()), f"{legal}/page": ("kept", ())}
    (record_id,) = first.sql("SELECT record_id FROM captures WHERE url = ?", f"{legal}/page")[0]
    with urllib.request.urlopen(f"{legal}/flip", timeout=10) as answer:  # a court order
        assert answer.status == 200
    second = run_crawl(tmp_path, urls=[f"{legal}/"])
    assert second.returncode == 0, second.output
    runs = [r for (r,) in second.sql("SELECT id FROM runs ORDER BY started_at")]
    rows = second.sql(
        "SELECT outcome, reasons, stage, json_extract(detail, '$.detail.withdraws.record_id') "
        "FROM decisions WHERE url = ? AND run_id = ? ORDER BY id",
        f"{legal}/page",
        runs[-1],
    )
    assert [(o, r, s) for o, r, s, _ in rows if s != "withdrawal"] == [
        ("excluded", '["unavailable-for-legal-reasons"]', "after-fetch")
    ]
    withdrawals = [(o, r, w) for o, r, s, w in rows if s == "withdrawal"]
    assert len(withdrawals) == 1
    outcome, codes, withdraws = withdrawals[0]
    assert outcome == "excluded" and reasons.WITHDRAWN in codes and withdraws == record_id
    assert REFUSED[451].encode() not in b"".join(body for *_, body in second.records())


def test_c2pa_reserved(site_factory, tmp_path):
    """A JPEG whose C2PA manifest (signed by c2pa-python, tests/sites/media.py) says
    `cawg.training-mining` notAllowed; the whole media site is crawled in test_embedded_crawl.py."""
    require_module("pyexiv2", "pyexiv2 writes the media site's fixtures: pip install -e '.[test]'")
    media = site_factory("tests.sites.media").origins["media"]
    result = run_crawl(tmp_path, urls=[f"{media}/c2pa-reserved.jpg", f"{media}/c2pa-allowed.png"])
    assert result.returncode == 0, result.output
    assert result.decisions() == {
        f"{media}/c2pa-reserved.jpg": ("excluded", (reasons.C2PA_RESERVED,)),
        f"{media}/c2pa-allowed.png": ("kept", ()),
    }
    assert marker("/c2pa-reserved.jpg") not in b"".join(body for *_, body in result.records())


def test_every_reason_code_is_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)*)`", readme))
    assert set(reasons.ALL) - documented == set()
