"""RSL licences named by a page's `Link` header or HTML `<link>`, end to end (issue #13 item 6):
crawls of tests/sites/rsl_links.py with `strict` (fails closed on policy files).

The page waits for its licence: a reserving licence drops it before its bytes are kept; a licence
read for one page also excludes, before fetching, the origin's later pages its `content/@url`
covers; each licence is fetched once, gated by its own host's robots.txt, archived as evidence.
"""

from __future__ import annotations

import json

import pytest

from policies import reasons
from policies.signals.licence import link_header_licences
from tests.conftest import QUICK_BACK_OFF, run_crawl, site_process

RESERVED = ("excluded", (reasons.RSL_RESERVED,))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with site_process("tests.sites.rsl_links", tmp_path_factory.mktemp("rsl_links")) as process:
        yield process


@pytest.fixture(scope="module")
def strict(served, tmp_path_factory):
    result = run_crawl(
        tmp_path_factory.mktemp("strict"),
        urls=[f"{served.origins['pub']}/"],
        settings={"POLICY_PROFILE": "strict", "SITEMAPS": "false", **QUICK_BACK_OFF},
    )
    assert result.returncode == 0, result.output
    return result


@pytest.fixture(scope="module")
def non_commercial(served, tmp_path_factory):
    result = run_crawl(
        tmp_path_factory.mktemp("non_commercial"),
        urls=[f"{served.origins['pub']}/user"],
        settings={
            "POLICY_PROFILE": "strict",
            "SITEMAPS": "false",
            "RSL_USER_TYPE": "non-commercial",
        },
    )
    assert result.returncode == 0, result.output
    return result


def _detail(result, url):
    ((detail,),) = result.sql("SELECT detail FROM decisions WHERE url = ?", url)
    return json.loads(detail)


def _rsl_evidence(result):
    rows = result.sql("SELECT url, status, record_id FROM evidence WHERE kind = 'rsl'")
    return {url: (status, record_id) for url, status, record_id in rows}


def test_pages_are_decided_with_the_licences_they_name(strict, served):
    pub, decisions = served.origins["pub"], strict.decisions()
    assert decisions[f"{pub}/intro"] == ("kept", ())
    assert decisions[f"{pub}/members"] == RESERVED
    assert decisions[f"{pub}/club/1"] == RESERVED  # covered, never named
    for path in ("/paid", "/paid-too"):
        assert decisions[f"{pub}{path}"] == ("excluded", (reasons.RSL_LICENSE_REQUIRED,))
    assert decisions[f"{pub}/broken"] == ("excluded", (reasons.POLICY_ERROR,))
    assert decisions[f"{pub}/hidden"] == ("kept", ())  # robots.txt forbids us its licence
    # Permitted to non-commercial users only; we are commercial unless RSL_USER_TYPE says not.
    assert decisions[f"{pub}/user"] == RESERVED


def test_a_licence_for_other_user_types_is_not_ours(strict, non_commercial, served):
    url = f"{served.origins['pub']}/user"
    (signal,) = [s for s in _detail(strict, url)["signals"] if s["kind"] == "rsl"]
    assert "user type commercial" in signal["value"]
    assert non_commercial.decisions()[url] == ("kept", ())


def test_a_reserved_page_is_never_kept(strict, served):
    pub = served.origins["pub"]
    responses = {
        headers["WARC-Target-URI"]
        for _, _, headers, _ in strict.records()
        if headers["WARC-Type"] == "response"
    }
    for path in ("/members", "/club/1", "/paid", "/paid-too", "/broken"):
        assert f"{pub}{path}" not in responses
    assert f"{pub}/intro" in responses
    # Covered by a licence read for an earlier page: excluded before it was requested.
    assert "/club/1" not in strict.paths(served, "pub")


def test_each_licence_is_fetched_once_gated_by_its_hosts_robots_and_archived(strict, served):
    pub, lic = served.origins["pub"], served.origins["lic"]
    assert strict.paths(served, "pub").count("/rsl/site.xml") == 1
    assert strict.paths(served, "lic").count("/licences/paid.xml") == 1
    assert "/private/terms.xml" not in strict.paths(served, "lic")
    assert "/robots.txt" in strict.paths(served, "lic")
    evidence = _rsl_evidence(strict)
    assert evidence[f"{pub}/rsl/site.xml"][0] == "200"
    assert evidence[f"{lic}/licences/paid.xml"][0] == "200"
    records = {h["WARC-Record-ID"]: h.get("WARC-Target-URI") for _, _, h, _ in strict.records()}
    for url in (f"{pub}/rsl/site.xml", f"{lic}/licences/paid.xml"):
        assert records[evidence[url][1]] == url


def test_the_decision_cites_the_archived_licence(strict, served):
    pub, lic = served.origins["pub"], served.origins["lic"]
    evidence = _rsl_evidence(strict)
    for page, licence, reason in (
        ("/members", f"{pub}/rsl/site.xml", reasons.RSL_RESERVED),
        ("/club/1", f"{pub}/rsl/site.xml", reasons.RSL_RESERVED),
        ("/paid", f"{lic}/licences/paid.xml", reasons.RSL_LICENSE_REQUIRED),
    ):
        signals = _detail(strict, f"{pub}{page}")["signals"]
        (signal,) = [s for s in signals if s["kind"] == "rsl"]
        assert signal["source"] == licence and signal["reason"] == reason
        assert signal["evidence_record"] == evidence[licence][1]
    header = [s for s in _detail(strict, f"{pub}/paid")["signals"] if s["kind"] == "rsl-link"]
    assert [(s["source"], s["value"]) for s in header] == [
        ("header:Link", f"{lic}/licences/paid.xml")
    ]
    (broken,) = [s for s in _detail(strict, f"{pub}/broken")["signals"] if s["kind"] == "rsl"]
    assert broken["unreachable"] is True


@pytest.mark.parametrize(
    ("value", "found"),
    [
        (
            '<https://l.example/a.xml>; rel="license"; type="application/rsl+xml"',
            ["https://l.example/a.xml"],
        ),
        ('</a.xml>;rel="LICENSE alternate";type=application/rsl+xml', ["/a.xml"]),
        (
            '</a.xml>; title="x, y; z"; rel=license; type="application/rsl+xml", </n>; rel=next',
            ["/a.xml"],
        ),
        ("</a.xml>; rel=license", []),  # a licence, but not an RSL document
        ('</a.xml>; rel=licensed; type="application/rsl+xml"', []),
        ('</a.xml>; rel=license; rel=next; type="application/rsl+xml"', ["/a.xml"]),  # first rel
        ('</a.xml>; rel=next; rel=license; type="application/rsl+xml"', []),
    ],
)
def test_link_header_rsl_licences(value, found):
    # RFC 8288 §3: rel is a space-separated list; only its first occurrence counts (§3.3).
    assert list(link_header_licences([("Link", value)])) == found
