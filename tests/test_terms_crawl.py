"""Natural-language reservations, end to end (issue #13 item 4): crawls of tests/sites/terms.py.

The home page of each origin is kept before its terms are read (its links name them); every page
requested after is decided with what the terms say. `strict` excludes on a reservation, with the
terms page's evidence record; `eu-dsm-art4` keeps the pages and lists it for review; a page that
only mentions AI, or grants TDM, reserves nothing; robots.txt keeps us from terms it disallows.
"""

from __future__ import annotations

import json

import pytest

from policies import reasons
from tests.conftest import run_crawl, site_process
from tests.sites import terms as site

NL = reasons.NATURAL_LANGUAGE_RESERVATION


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with site_process("tests.sites.terms", tmp_path_factory.mktemp("terms")) as process:
        yield process


def _crawl(served, tmp_path_factory, profile):
    result = run_crawl(
        tmp_path_factory.mktemp(profile),
        urls=[f"{served.origins[name]}/" for name in site.ORIGINS],
        settings={"POLICY_PROFILE": profile, "SITEMAPS": "false"},
    )
    assert result.returncode == 0, result.output
    return result


@pytest.fixture(scope="module")
def strict(served, tmp_path_factory):
    return _crawl(served, tmp_path_factory, "strict")


@pytest.fixture(scope="module")
def eu(served, tmp_path_factory):
    return _crawl(served, tmp_path_factory, "eu-dsm-art4")


def _terms_url(served, name):
    return served.origins[name] + site.TERMS_PATHS[name]


def _evidence(result):
    rows = result.sql("SELECT url, status, record_id FROM evidence WHERE kind = 'terms'")
    return {url: (status, record_id) for url, status, record_id in rows}


def _detail(result, url):
    ((detail,),) = result.sql("SELECT detail FROM decisions WHERE url = ?", url)
    return json.loads(detail)


def _kept(origin, *paths):
    return {f"{origin}{path}": ("kept", ()) for path in paths}


def test_strict_excludes_the_later_pages_of_origins_whose_terms_reserve(strict, served):
    o = served.origins
    excluded = ("excluded", (NL,))
    assert strict.decisions() == {
        # Decided before the terms were read: stays kept.
        f"{o['en']}/": ("kept", ()),
        f"{o['en']}/a": excluded,
        f"{o['en']}/b": excluded,
        f"{o['en']}/about": excluded,
        _terms_url(served, "en"): excluded,  # as a page, too: read as evidence only
        f"{o['vi']}/": ("kept", ()),
        f"{o['vi']}/a": excluded,
        f"{o['vi']}/b": excluded,
        f"{o['vi']}/about": excluded,
        _terms_url(served, "vi"): excluded,
        **_kept(o["mention"], "/", "/a", "/b", "/c", "/about", site.TERMS_PATHS["mention"]),
        **_kept(o["grant"], "/", "/a", "/b", "/c", "/about", site.TERMS_PATHS["grant"]),
        **_kept(o["hidden"], "/", "/a", "/b", "/c", "/about"),
        _terms_url(served, "hidden"): ("excluded", (reasons.ROBOTS_DISALLOWED,)),
    }
    # Excluded before fetch: never requested as pages; each terms page fetched once.
    for name in ("en", "vi"):
        assert sorted(strict.paths(served, name)) == sorted(
            ["/robots.txt", "/.well-known/tdmrep.json", "/ai.txt", "/", site.TERMS_PATHS[name]]
        )
    assert site.TERMS_PATHS["hidden"] not in strict.paths(served, "hidden")


def test_the_finding_cites_the_sentence_and_the_archived_terms_page(strict, served):
    evidence = _evidence(strict)
    assert set(evidence) == {_terms_url(served, n) for n in ("en", "vi", "mention", "grant")}
    for status, record_id in evidence.values():
        assert status == "200" and record_id
    for name, sentence in (("en", site.EN_SENTENCE), ("vi", site.VI_SENTENCE)):
        terms = _terms_url(served, name)
        detail = _detail(strict, f"{served.origins[name]}/a")
        (finding,) = [s for s in detail["signals"] if s["kind"] == NL]
        assert finding["value"] == sentence
        assert finding["source"] == terms
        assert finding["reason"] == NL and finding["verdict"] == "unknown"
        assert finding["evidence_record"] == evidence[terms][1]
        home = _detail(strict, f"{served.origins[name]}/")
        assert not [s for s in home["signals"] if s["kind"] == NL]
    for name in ("mention", "grant"):
        detail = _detail(strict, f"{served.origins[name]}/a")
        assert not [s for s in detail["signals"] if s["kind"] == NL]


def test_each_terms_page_is_archived_once(strict, served):
    responses = [
        headers["WARC-Target-URI"]
        for _, _, headers, _ in strict.records()
        if headers["WARC-Type"] == "response"
    ]
    for name in ("en", "vi"):  # excluded as pages: archived as evidence only
        assert responses.count(_terms_url(served, name)) == 1
    records = {h["WARC-Record-ID"] for _, _, h, _ in strict.records()}
    assert {record_id for _, record_id in _evidence(strict).values()} <= records
    assert "'terms/reservations': 2" in strict.output


def test_eu_art4_keeps_the_pages_and_lists_the_reservation_for_review(eu, served):
    o = served.origins
    assert eu.decisions() == {
        **{
            url: ("kept", ())
            for name in ("en", "vi", "mention", "grant")
            for url in [f"{o[name]}{p}" for p in ("/", "/a", "/b", "/c", "/about")]
            + [_terms_url(served, name)]
        },
        **_kept(o["hidden"], "/", "/a", "/b", "/c", "/about"),
        _terms_url(served, "hidden"): ("excluded", (reasons.ROBOTS_DISALLOWED,)),
    }
    evidence = _evidence(eu)
    for name, sentence in (("en", site.EN_SENTENCE), ("vi", site.VI_SENTENCE)):
        terms = _terms_url(served, name)
        (review,) = _detail(eu, f"{o[name]}/a")["detail"]["review"]
        assert review == {
            "reason": NL,
            "kind": NL,
            "source": terms,
            "value": sentence,
            "evidence_record": evidence[terms][1],
        }
        assert "review" not in _detail(eu, f"{o[name]}/").get("detail", {})
    for name in ("mention", "grant"):
        assert "review" not in _detail(eu, f"{o[name]}/a").get("detail", {})
