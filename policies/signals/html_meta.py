"""The `<meta name=… content=…>` pairs of an HTML document, for the signals carried in HTML."""

from __future__ import annotations

from typing import Any

from lxml import etree

MetaTags = tuple[tuple[str, str], ...]  # (name lower-cased, content stripped), in document order


def meta_from_tree(root: Any) -> MetaTags:
    """Meta pairs from an lxml HTML tree (a crawler passes the tree it already parsed)."""
    if root is None:
        return ()
    tags = []
    for element in root.iter("meta"):
        name = element.get("name")
        content = element.get("content")
        if name is not None and content is not None:
            tags.append((name.strip().lower(), content.strip()))
    return tuple(tags)


def parse_html(html: str | bytes) -> Any:
    """An lxml tree of an HTML document, or None; never raises on malformed markup."""
    if not html:
        return None
    try:
        return etree.fromstring(html, parser=etree.HTMLParser(recover=True))
    except (etree.LxmlError, ValueError):
        return None


def extract_meta(html: str | bytes) -> MetaTags:
    """Every meta name/content pair; never raises on malformed markup."""
    return meta_from_tree(parse_html(html))
