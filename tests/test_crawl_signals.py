"""Crawls of one origin per reservation signal: what is refused before fetching is never requested."""

from __future__ import annotations

import json

import pytest

from tests.conftest import QUICK_BACK_OFF, run_crawl, site_process

NEVER_REQUESTED = {
    "tdm": ["/reserved/a"],
    "usage": ["/no-train/x"],
    "signal": ["/"],
    "aiagents": ["/"],
    "aitxt": ["/doc.pdf"],
    "rsl": ["/premium/x"],
    "broken": ["/"],
    "declared": ["/film/1"],
}
RESERVED_TEXT = [
    b"Reserved by",
    b"Reserved against",
    b"Reserved: RSL",
    b"Reserved PDF body",
    b"Teaser of a paywalled",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with site_process("tests.sites.signals", tmp_path_factory.mktemp("signals")) as process:
        yield process


@pytest.fixture(scope="module")
def registry(site, tmp_path_factory):
    path = tmp_path_factory.mktemp("registry") / "declared.csv"
    path.write_text(
        "scope,value,party,channel,source,date\n"
        f"prefix,{site.origins['declared']}/film/,Example Film Association,public notice by a CMO,"
        "https://cmo.example/notice,2026-05-04\n"
    )
    return path


@pytest.fixture(scope="module")
def strict(site, registry, tmp_path_factory):
    result = run_crawl(
        tmp_path_factory.mktemp("strict"),
        # Scrapy's LinkExtractor skips links to .pdf files: give them as seeds.
        urls=[f"{url}/" for url in site.origins.values()]
        + [f"{site.origins['aitxt']}/doc.pdf", f"{site.origins['meta']}/paper.pdf"],
        # the `broken` origin's tdmrep.json answers 503: 11 s of back-off otherwise
        settings={"POLICY_REGISTRIES": str(registry), **QUICK_BACK_OFF},
    )
    assert result.returncode == 0, result.output
    return result


def _url(site, name, path):
    return f"{site.origins[name]}{path}"


def test_strict_decides_each_signal(site, strict):
    expected = {
        ("tdm", "/reserved/a"): ("excluded", ("tdmrep-reserved",)),
        ("tdm", "/header-reserved"): ("excluded", ("tdm-reservation-header",)),  # header beats file
        ("tdm", "/open"): ("kept", ()),
        ("usage", "/no-train/x"): ("excluded", ("content-usage-reserved",)),
        ("usage", "/header-no"): ("excluded", ("content-usage-reserved",)),
        ("usage", "/"): ("kept", ()),
        ("signal", "/"): ("excluded", ("content-signal-reserved",)),
        ("aiagents", "/"): ("excluded", ("robots-ai-agent-disallowed",)),
        ("aitxt", "/doc.pdf"): ("excluded", ("ai-txt-reserved",)),
        ("aitxt", "/"): ("kept", ()),
        ("rsl", "/premium/x"): ("excluded", ("rsl-license-required",)),
        ("rsl", "/"): ("kept", ()),
        ("broken", "/"): ("excluded", ("policy-error",)),  # tdmrep.json 503: strict fails closed
        ("soft404", "/"): ("kept", ()),  # a soft-404 page is not a tdmrep.json
        ("meta", "/paywalled"): ("excluded", ("paywalled",)),
        ("meta", "/paper.pdf"): ("excluded", ("tdmrep-reserved",)),  # XMP inside the PDF
        ("meta", "/licensed"): ("kept", ()),
        ("declared", "/film/1"): ("excluded", ("declared-reservation",)),
        ("declared", "/news"): ("kept", ()),
    }
    decisions = strict.decisions()
    for (origin, path), outcome in expected.items():
        assert decisions[_url(site, origin, path)] == outcome, (origin, path)


def test_refused_before_fetching_means_never_requested(site, strict):
    requested = {(r["origin"], r["path"]) for r in site.requests()}
    for origin, paths in NEVER_REQUESTED.items():
        for path in paths:
            assert (origin, path) not in requested
    stages = dict(strict.sql("SELECT url, stage FROM decisions"))
    assert stages[_url(site, "tdm", "/reserved/a")] == "before-fetch"
    assert stages[_url(site, "tdm", "/header-reserved")] == "after-fetch"


def test_reserved_bytes_are_not_kept(strict):
    stored = b"".join(body for *_, body in strict.records())
    for marker in RESERVED_TEXT:
        assert marker not in stored


def test_decisions_carry_their_findings_and_evidence(site, strict):
    detail = json.loads(
        strict.sql(
            "SELECT detail FROM decisions WHERE url = ?", _url(site, "tdm", "/header-reserved")
        )[0][0]
    )
    kinds = {s["kind"]: s for s in detail["signals"]}
    assert (
        kinds["tdmrep.json"]["verdict"] == "not_reserved"
        and kinds["tdmrep.json"]["in_force"] is False
    )
    assert kinds["tdm-reservation-header"]["reason"] == "tdm-reservation-header"
    evidence = dict(strict.sql("SELECT url, record_id FROM evidence"))
    assert (
        kinds["tdmrep.json"]["evidence_record"]
        == evidence[_url(site, "tdm", "/.well-known/tdmrep.json")]
    )
    paywalled = json.loads(
        strict.sql("SELECT detail FROM decisions WHERE url = ?", _url(site, "meta", "/paywalled"))[
            0
        ][0]
    )
    assert paywalled["access"] == {"status": 200, "credentials_sent": False, "paywall": True}
    licensed = json.loads(
        strict.sql("SELECT detail FROM decisions WHERE url = ?", _url(site, "meta", "/licensed"))[
            0
        ][0]
    )
    assert any(s["kind"] == "license" and "by/4.0" in s["value"] for s in licensed["signals"])
    # The licence found is the provenance JSON's top-level `license`, in the row and the record.
    assert licensed["license"] == "https://creativecommons.org/licenses/by/4.0/"
    unlicensed = json.loads(
        strict.sql("SELECT detail FROM decisions WHERE url = ?", _url(site, "meta", "/"))[0][0]
    )
    assert unlicensed["license"] is None
    records = {
        json.loads(payload)["url"]: json.loads(payload)
        for _, _, headers, payload in strict.records()
        if headers["WARC-Type"] == "metadata" and b'"role"' not in payload
    }
    assert records[_url(site, "meta", "/licensed")]["license"] == licensed["license"]


def test_research_profile_records_reservations_without_excluding(site, registry, tmp_path):
    urls = [_url(site, name, "/") for name in ("aiagents", "signal", "broken")]
    result = run_crawl(
        tmp_path,
        urls=urls,
        settings={"POLICY_PROFILE": "eu-dsm-art3", "DEPTH_LIMIT": "1", **QUICK_BACK_OFF},
    )
    assert result.returncode == 0, result.output
    decisions = result.decisions()
    assert all(decisions[url] == ("kept", ()) for url in urls)
    detail = json.loads(result.sql("SELECT detail FROM decisions WHERE url = ?", urls[0])[0][0])
    assert detail["policy"]["profile"] == "eu-dsm-art3"
    assert any(
        s["reason"] == "robots-ai-agent-disallowed" for s in detail["signals"] if "reason" in s
    )
