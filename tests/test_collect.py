"""What a crawl collects (documents, images, media), its scope and its sitemaps: one real crawl of
tests/sites/collect.py with `-a collect=html,documents,images -a scope=prefix -a exclude=/drafts/`
(the CDN, on another port, is outside the prefix), then the defaults on the same site."""

from __future__ import annotations

import json

import pytest

from policies import reasons
from tests.conftest import run_crawl, scrapy_command, site_process
from tests.sites.collect import BIG_PDF_SIZE, EXCLUDE, LASTMOD

DOCUMENT_CAP = 4000
assert DOCUMENT_CAP < BIG_PDF_SIZE


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with site_process("tests.sites.collect", tmp_path_factory.mktemp("collect")) as process:
        yield process


@pytest.fixture(scope="module")
def crawl(site, tmp_path_factory):
    result = run_crawl(
        tmp_path_factory.mktemp("crawl"),
        urls=[f"{site.origins['main']}/"],
        args={"collect": "html,documents,images", "scope": "prefix", "exclude": EXCLUDE},
        settings={"COLLECT_MAX_SIZE": json.dumps({"documents": DOCUMENT_CAP})},
    )
    assert result.returncode == 0, result.output
    return result


def _detail(crawl, url: str) -> dict:
    """The decision's own `detail` (inside the provenance JSON of the `decisions.detail` column)."""
    row = json.loads(crawl.sql("SELECT detail FROM decisions WHERE url = ?", url)[0][0])
    return row.get("detail", {})


def test_exactly_the_collected_kinds_are_decided(site, crawl):
    m, c = site.origins["main"], site.origins["cdn"]
    kept = ("kept", ())
    assert crawl.decisions() == {
        f"{m}/": kept,
        f"{m}/papers/a.pdf": kept,
        f"{m}/books/b.epub": kept,
        f"{m}/fake.pdf": kept,  # a page named .pdf: followed as a page
        f"{m}/after-fake": kept,
        f"{m}/papers/big.pdf": ("excluded", (reasons.TOO_LARGE,)),  # the documents cap
        f"{m}/gallery": kept,
        f"{m}/img/open.png": kept,
        f"{m}/img/fallback.png": kept,
        f"{m}/img/large.png": kept,  # the largest srcset candidate, not /img/small.png
        f"{m}/img/wide.png": kept,  # <picture><source srcset>: 2x over 1x
        f"{m}/img/pic.png": kept,
        f"{m}/img/linked.png": kept,  # an <a href> to an image
        f"{m}/img/noimageai.png": ("excluded", (reasons.NOAI_HEADER,)),
        f"{m}/img/still.jpg": ("excluded", (reasons.IPTC_RESERVED,)),  # its XMP plus:DataMining
        f"{m}/img/signed.jpg": ("excluded", (reasons.C2PA_RESERVED,)),  # its C2PA manifest
        f"{c}/img/blocked.png": ("excluded", (reasons.ROBOTS_DISALLOWED,)),  # the CDN's robots.txt
        f"{c}/media/ok.png": kept,  # embedded from another origin: outside the page scope
        f"{m}/from-sitemap": kept,
        f"{m}/from-text": kept,
    }


def test_what_is_not_collected_or_out_of_scope_is_never_requested(site, crawl):
    main = set(crawl.paths(site, "main"))
    for path in ("/drafts/one", "/drafts/listed", "/films/c.mp4", "/sound.mp3", "/img/small.png",
                 "/img/narrow.png", "/secret", "/private-maps/sitemap.xml"):  # fmt: skip
        assert path not in main, path
    policy_documents = {"/robots.txt", "/.well-known/tdmrep.json", "/ai.txt"}
    # Not the image its robots.txt disallows, nor the page a sitemap listed out of scope.
    assert set(crawl.paths(site, "cdn")) - policy_documents == {"/media/ok.png"}


def test_decisions_record_kind_and_sitemap_provenance(site, crawl):
    m, c = site.origins["main"], site.origins["cdn"]
    kinds = {url: _detail(crawl, url).get("kind") for url in crawl.decisions()}
    assert kinds[f"{m}/papers/a.pdf"] == "document"
    assert kinds[f"{m}/books/b.epub"] == "document"
    assert kinds[f"{m}/img/open.png"] == "image"
    assert kinds[f"{c}/img/blocked.png"] == "image"  # decided before fetching: as requested
    assert kinds[f"{m}/gallery"] == "html"
    fake = _detail(crawl, f"{m}/fake.pdf")
    assert (fake["kind"], fake["requested_as"]) == ("html", "document")
    big = _detail(crawl, f"{m}/papers/big.pdf")
    assert big["limit"] == DOCUMENT_CAP and big["kind"] == "document"
    evidence = dict(crawl.sql("SELECT url, record_id FROM evidence WHERE kind = 'sitemap'"))
    assert set(evidence) == {f"{m}/maps/index.xml", f"{m}/maps/pages.xml.gz", f"{m}/maps/more.txt"}
    listed = _detail(crawl, f"{m}/from-sitemap")["sitemap"]
    assert listed == {
        "url": f"{m}/maps/pages.xml.gz",
        "record": evidence[f"{m}/maps/pages.xml.gz"],
        "lastmod": LASTMOD,
    }
    assert _detail(crawl, f"{m}/from-text")["sitemap"]["url"] == f"{m}/maps/more.txt"
    assert "sitemap" not in _detail(crawl, f"{m}/papers/a.pdf")


def test_exactly_the_kept_files_are_archived_and_verify_passes(site, crawl):
    kept = {url for url, (outcome, _) in crawl.decisions().items() if outcome == "kept"}
    records = crawl.records()
    responses = {h["WARC-Target-URI"] for _, _, h, _ in records if h["WARC-Type"] == "response"}
    sitemaps = {u for (u,) in crawl.sql("SELECT url FROM evidence WHERE record_id IS NOT NULL")}
    assert responses == kept | sitemaps  # policy documents and sitemaps are archived as evidence
    stored = b"".join(body for *_, body in records)
    from tests.sites.collect import png

    assert png(80) not in stored  # the noimageai image
    assert b"embedded-still" not in stored and b"embedded-signed" not in stored
    verify = scrapy_command(
        "verify", "--warc-dir", str(crawl.warc_dir), "--db", f"sqlite:///{crawl.db_path}"
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_default_collect_is_html_and_documents(site, tmp_path):
    m = site.origins["main"]
    result = run_crawl(tmp_path, urls=[f"{m}/"], settings={"SITEMAPS": "false"})
    assert result.returncode == 0, result.output
    assert set(result.decisions()) == {
        f"{m}/",
        f"{m}/papers/a.pdf",
        f"{m}/papers/big.pdf",
        f"{m}/books/b.epub",
        f"{m}/fake.pdf",
        f"{m}/after-fake",
        f"{m}/gallery",
        f"{m}/drafts/one",  # no exclude given
    }
    assert result.decisions()[f"{m}/papers/big.pdf"] == ("kept", ())  # under the 100 MiB default
    requested = set(result.paths(site, "main"))
    assert not any(p.startswith("/maps/") or p == "/sitemap.xml" for p in requested)
    assert "/img/open.png" not in requested and "/img/linked.png" not in requested


def test_bad_collect_argument_is_one_line(tmp_path):
    from tests.conftest import crawl_command

    result = scrapy_command(
        *crawl_command(tmp_path, urls=["http://127.0.0.1:9/"], args={"collect": "html,pictures"})
    )
    assert result.returncode != 0
    assert (
        "rightscrawl: error: -a collect= takes html, documents, images, audio, video, not 'pictures'"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
