"""crawler/links.py returns the URLs Scrapy's LinkExtractor returns, in its order.

The corpus spider follows what `PageLinks` gives it; it replaced `LinkExtractor` for speed only
(benchmarks/README.md), so any difference on any page is a bug. Hypothesis writes pages meant to
find one: relative and absolute hrefs, whitespace, `<base href>`, bad ports and hosts, non-ASCII
in several encodings, denied extensions in any case, other schemes, duplicates, elements that are
not links, XHTML parsed as XML.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.linkextractors import IGNORED_EXTENSIONS, LinkExtractor

from crawler.links import PageLinks

PAGE_URL = "http://example.com/dir/page.html?q=1"

HREF_PARTS = [
    "/p/1", "p/2", "../up", "./same", "?only=query", "#frag", "", " ", "//cdn.example.org/x",
    "http://example.com/a b", "https://Example.COM:443/", "HTTP://example.com/Caps",
    "mailto:someone@example.com", "javascript:void(0)", "data:text/plain,hi", "ftp://f/x",
    "file:///etc/x", "tel:+1", "http://[::1]/v6", "http://[::1", "http://example.com:99999/",
    "http://exa mple.com/", "/doc.PDF", "/photo.JpG", "/archive.tar.gz", "/x.pdf?download=1",
    "/café/ünïcode", "/日本語", "/%E2%82%AC/ok", "/sp ace/", "\t/tab\n", "\u00a0/nbsp",
    "/a?b=ü&c=€", "http://bücher.example/", "https://user:pw@example.com/private",
    "/dup", "/dup", "HTTPS://EXAMPLE.com/dup", "/path;params", "/.hidden", "/a//b",
]  # fmt: skip
TAGS = ["a", "area", "A", "AREA", "link", "img", "div", "iframe"]
ENCODINGS = ["utf-8", "latin-1", "cp1251", "shift_jis"]


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def element(tag: str, href: str | None, text: str) -> str:
    attrs = "" if href is None else f' href="{_escape(href)}"'
    if tag.lower() == "area":
        return f'<map name="m"><{tag}{attrs} alt="{text}"></map>'
    if tag.lower() in ("link", "img"):
        return f"<{tag}{attrs}>"
    return f"<{tag}{attrs} rel=nofollow>{text}</{tag}>"


elements = st.lists(
    st.tuples(
        st.sampled_from(TAGS),
        st.one_of(
            st.none(),
            st.sampled_from(HREF_PARTS),
            st.builds(lambda a, b: a + b, st.sampled_from(HREF_PARTS), st.sampled_from(HREF_PARTS)),
            st.text(max_size=12),
        ),
        st.text(alphabet="abc <>&", max_size=5),
    ),
    max_size=25,
)
bases = st.one_of(
    st.none(),
    st.sampled_from(
        ["http://other.example/base/", "/rooted/", "sub/", "  https://b.example  ", "mailto:x"]
    ),
)


def both(response, deny: list[str]) -> tuple[list[str], list[str]]:
    expected = [link.url for link in LinkExtractor(deny_extensions=deny).extract_links(response)]
    return PageLinks(deny_extensions=deny).urls(response), expected


def html_page(parts: list[tuple[str, str | None, str]], base: str | None) -> str:
    head = f'<base href="{_escape(base)}">' if base is not None else ""
    body = "".join(element(*part) for part in parts)
    return f"<html><head>{head}<title>t</title></head><body>{body}</body></html>"


@settings(max_examples=300, deadline=None)
@given(
    parts=elements,
    base=bases,
    encoding=st.sampled_from(ENCODINGS),
    collect_documents=st.booleans(),
)
def test_html_pages_give_the_urls_linkextractor_gives(parts, base, encoding, collect_documents):
    page = html_page(parts, base)
    body = page.encode(encoding, errors="xmlcharrefreplace")
    response = HtmlResponse(
        url=PAGE_URL, body=body, headers={"Content-Type": f"text/html; charset={encoding}"}
    )
    deny = [e for e in IGNORED_EXTENSIONS if not (collect_documents and e in ("pdf", "gz"))]
    got, expected = both(response, deny)
    assert got == expected


@settings(max_examples=100, deadline=None)
@given(parts=elements)
def test_xhtml_parsed_as_xml_gives_the_same_urls(parts):
    links = "".join(
        f'<{tag.lower()} href="{_escape(href)}">x</{tag.lower()}>'
        for tag, href, _ in parts
        if href is not None and tag.lower() in ("a", "area", "div")
    )
    page = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<html xmlns="http://www.w3.org/1999/xhtml"><body>'
        f'{links}<other:a xmlns:other="urn:x" href="/not-xhtml">o</other:a>'
        "</body></html>"
    )
    response = XmlResponse(url=PAGE_URL, body=page.encode("utf-8", "xmlcharrefreplace"))
    got, expected = both(response, list(IGNORED_EXTENSIONS))
    assert got == expected


def test_a_page_of_links_of_every_kind():
    parts = [(tag, href, "t") for href in HREF_PARTS for tag in ("a", "AREA", "img")]
    page = html_page(parts, None)
    response = HtmlResponse(url=PAGE_URL, body=page.encode("utf-8"), encoding="utf-8")
    got, expected = both(response, list(IGNORED_EXTENSIONS))
    assert got == expected
    assert "http://example.com/p/1" in got
    assert "http://example.com/dup" in got and got.count("http://example.com/dup") == 1
    assert not any(url.lower().endswith((".pdf", ".jpg")) for url in got)
    assert not any(url.startswith(("mailto:", "javascript:", "data:")) for url in got)


def test_a_base_href_after_the_first_4096_characters_is_not_read_as_linkextractor_does_not():
    page = f"<html><head><title>{'x' * 5000}</title><base href='/late/'></head>"
    page += "<body><a href='rel'>r</a></body></html>"
    response = HtmlResponse(url=PAGE_URL, body=page.encode(), encoding="utf-8")
    got, expected = both(response, list(IGNORED_EXTENSIONS))
    assert got == expected == ["http://example.com/dir/rel"]
