"""Kinds, scope and sitemap parsing, one rule a test (crawls: test_collect.py)."""

from __future__ import annotations

import gzip

import pytest
from scrapy.http import HtmlResponse

from crawler.collect import (
    CollectError,
    confirmed_kind,
    embedded_media,
    kind_of_url,
    parse_collect,
    parse_max_size,
    srcset_candidates,
)
from crawler.commands.crawl import join_repeated
from crawler.scope import Scope, ScopeError, registrable_domain, seed_prefix
from crawler.sitemaps import MAX_BYTES, MAX_URLS, parse_sitemap
from crawler.spiders.corpus import CorpusSpider

# -- kinds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://a.example/paper.PDF", "document"),
        ("https://a.example/book.epub?download=1", "document"),
        ("https://a.example/slides.pptx#p2", "document"),
        ("https://a.example/photo.jpeg", "image"),
        ("https://a.example/song.mp3", "audio"),
        ("https://a.example/film.webm", "video"),
        ("https://a.example/page", "html"),
        ("https://a.example/v1.2/", "html"),
        ("https://a.example/archive.tar.gz", "html"),  # not a kind we collect: a link like any
    ],
)
def test_kind_of_url(url, kind):
    assert kind_of_url(url) == kind


@pytest.mark.parametrize(
    ("requested", "content_type", "kind"),
    [
        ("document", "text/html; charset=utf-8", "html"),  # a .pdf that answers HTML is HTML
        ("html", "application/pdf", "document"),
        (
            "html",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "document",
        ),
        ("image", "application/octet-stream", "image"),  # says nothing: the request's kind
        ("image", "", "image"),
        ("html", "video/mp4", "video"),
        ("html", "application/json", "other"),
    ],
)
def test_content_type_confirms_the_kind(requested, content_type, kind):
    assert confirmed_kind(requested, content_type) == kind


def test_collect_names_and_errors():
    assert parse_collect(None) == {"html", "document"}
    assert parse_collect("html, images,VIDEO") == {"html", "image", "video"}
    with pytest.raises(CollectError, match="not 'pictures'"):
        parse_collect("html,pictures")
    with pytest.raises(CollectError, match="must include html"):
        parse_collect("documents")


def test_max_size_merges_with_defaults_and_is_checked():
    sizes = parse_max_size({"images": 100}, html_limit=64)
    assert sizes["image"] == 100 and sizes["document"] == 100 * 1024 * 1024 and sizes["html"] == 64
    with pytest.raises(CollectError, match="no kind 'fonts'"):
        parse_max_size({"fonts": 1}, html_limit=64)
    with pytest.raises(CollectError, match="whole number"):
        parse_max_size({"video": "big"}, html_limit=64)


def test_srcset_candidates_follow_the_html_parser():
    assert srcset_candidates("a.png 100w, b.png 800w") == [("a.png", 100.0), ("b.png", 800.0)]
    assert srcset_candidates("a.png, b.png 2x") == [("a.png", 1.0), ("b.png", 2.0)]
    assert srcset_candidates("i.php?s=1,2 2x") == [("i.php?s=1,2", 2.0)]  # commas inside a URL
    assert srcset_candidates("  ") == []


def test_embedded_media_by_kind():
    body = (
        b'<img src="a.png" srcset="s.png 1x, l.png 3x"><picture><source srcset="p.webp"></picture>'
        b'<video poster="v.jpg"><source src="v.mp4"></video><audio src="s.mp3"></audio>'
    )
    selector = HtmlResponse("https://a.example/", body=body).selector
    assert sorted(embedded_media(selector, frozenset({"image"}))) == [
        ("a.png", "image"), ("l.png", "image"), ("p.webp", "image"), ("v.jpg", "image"),
    ]  # fmt: skip
    assert list(embedded_media(selector, frozenset({"audio", "video"}))) == [
        ("s.mp3", "audio"), ("v.mp4", "video"),
    ]  # fmt: skip


# -- scope ------------------------------------------------------------------------------------


def test_host_scope_is_the_seed_hosts_any_port():
    scope = Scope.build("host", ["https://a.example/x"])
    assert scope.allows("http://a.example:8080/y")
    assert not scope.allows("https://www.a.example/")


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.example.co.uk", "example.co.uk"),
        ("alice.github.io", "alice.github.io"),  # PSL private section: one registrant each
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "localhost"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ],
)
def test_registrable_domain_from_the_public_suffix_list(host, domain):
    assert registrable_domain(host) == domain


def test_domain_scope_takes_subdomains_not_lookalikes():
    scope = Scope.build("domain", ["https://www.example.co.uk/"])
    assert scope.allows("https://shop.example.co.uk/a")
    assert scope.allows("https://example.co.uk/")
    assert not scope.allows("https://badexample.co.uk/")
    assert not scope.allows("https://other.co.uk/")


def test_prefix_scope_is_the_seed_directory():
    assert seed_prefix("https://x.example/docs/index.html") == "https://x.example/docs/"
    scope = Scope.build("prefix", ["https://x.example/docs/index.html"])
    assert scope.allows("https://x.example/docs/a/b")
    assert not scope.allows("https://x.example/blog/")


def test_include_widens_exclude_narrows(tmp_path):
    patterns = tmp_path / "exclude.txt"
    patterns.write_text("# sessions\n\\?sid=\n\n/print/\n")
    scope = Scope.build(
        "host", ["https://a.example/"], include=r"^https://cdn\.example/docs/",
        exclude=f"/login\n@{patterns}",
    )  # fmt: skip
    assert scope.allows("https://cdn.example/docs/a.pdf")
    assert not scope.allows("https://a.example/login")
    assert not scope.allows("https://a.example/page?sid=1")
    assert not scope.allows("https://a.example/print/1")
    assert scope.excluded("https://cdn.example/print/1.png")


def test_any_scope_and_bad_arguments():
    assert Scope.build("any", ["https://a.example/"]).allows("https://b.example/")
    with pytest.raises(ScopeError, match="takes host, domain, prefix, any"):
        Scope.build("site", ["https://a.example/"])
    with pytest.raises(ScopeError, match="not a regular expression"):
        Scope.build("host", ["https://a.example/"], exclude="(")
    with pytest.raises(ScopeError, match="cannot read"):
        Scope.build("host", ["https://a.example/"], include="@/nonexistent/patterns")


def test_repeated_include_and_exclude_are_joined():
    given = ["urls=https://a.example/", "exclude=A", "include=I", "exclude=B"]
    assert join_repeated(given) == ["urls=https://a.example/", "exclude=A\nB", "include=I"]


def test_spider_scope_arguments():
    spider = CorpusSpider(urls="https://www.a.example/", scope="domain", exclude="/x/\n/y/")
    assert spider.allowed_domains == ["a.example"]
    assert [p.pattern for p in spider.scope.exclude] == ["/x/", "/y/"]
    assert {"collect", "scope", "include", "exclude"} <= set(CorpusSpider.arguments)


# -- sitemaps ---------------------------------------------------------------------------------

URLSET = (
    b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    b"<url><loc> https://a.example/1 </loc><lastmod>2024-05-01</lastmod></url>"
    b"<url><loc>ftp://a.example/2</loc></url><url><lastmod>2024</lastmod></url></urlset>"
)


def test_urlset_keeps_http_locs_and_lastmod():
    parsed = parse_sitemap(URLSET, "https://a.example/sitemap.xml")
    assert parsed.type == "urlset"
    assert [(e.loc, e.lastmod) for e in parsed.entries] == [("https://a.example/1", "2024-05-01")]


def test_index_and_gzip():
    index = (
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://a.example/s1.xml.gz</loc></sitemap></sitemapindex>"
    )
    parsed = parse_sitemap(gzip.compress(index), "https://a.example/sitemap.xml")
    assert parsed.type == "sitemapindex"
    assert [e.loc for e in parsed.entries] == ["https://a.example/s1.xml.gz"]


def test_text_sitemap():
    body = b"\xef\xbb\xbfhttps://a.example/1\r\n\nnot a url\nhttp://a.example/2\n"
    parsed = parse_sitemap(body, "https://a.example/sitemap.txt")
    assert parsed.type == "text"
    assert [e.loc for e in parsed.entries] == ["https://a.example/1", "http://a.example/2"]


def test_more_than_50000_urls_reads_the_first_50000():
    body = "".join(f"https://a.example/{n}\n" for n in range(MAX_URLS + 5)).encode()
    parsed = parse_sitemap(body, "https://a.example/sitemap.txt")
    assert len(parsed.entries) == MAX_URLS and parsed.problems == ("too-many-urls",)
    xml = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + b"".join(b"<url><loc>https://a.example/%d</loc></url>" % n for n in range(MAX_URLS + 1))
        + b"</urlset>"
    )
    parsed = parse_sitemap(xml, "https://a.example/sitemap.xml")
    assert len(parsed.entries) == MAX_URLS and parsed.problems == ("too-many-urls",)


def test_past_50_mib_uncompressed_is_not_read():
    body = b"https://a.example/\n" + b" " * MAX_BYTES
    assert parse_sitemap(body, "u").problems == ("too-large",)
    assert parse_sitemap(gzip.compress(body), "u").problems == ("too-large",)  # a gzip bomb too
    assert parse_sitemap(gzip.compress(body[: MAX_BYTES - 1]), "u").entries  # within: read


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html><body>Not found</body></html>", "not-a-sitemap"),  # a soft 404
        (b"\x1f\x8bnot gzip", "bad-gzip"),
        (b"<", "bad-xml"),
    ],
)
def test_unreadable_sitemaps_are_problems_not_exceptions(body, problem):
    parsed = parse_sitemap(body, "https://a.example/sitemap.xml")
    assert parsed.entries == () and problem in parsed.problems


def test_entities_are_not_resolved():
    body = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://a.example/&e;</loc></url></urlset>"
    )
    parsed = parse_sitemap(body, "https://a.example/sitemap.xml")
    assert all("root:" not in e.loc for e in parsed.entries)
