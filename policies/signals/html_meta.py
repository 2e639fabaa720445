"""The `<meta name=… content=…>` pairs of an HTML document, for the signals carried in HTML.

libxml2's HTML parser (lxml, and parsel's selector in Scrapy) stops without an error once elements
nest deeper than its limit (2,048 levels with `huge_tree`, measured with libxml2 2.14), and a
`<meta charset=utf-16>` that the bytes do not honour turns the rest into noise. Either way a meta
reservation later in the document is never seen. `unread_html` detects a parse that did not read the
whole document, and the caller fails closed (`policy-error`).
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

# Open elements at the parser's depth limit form the chain of last children: a chain this deep
# means the parse stopped there (libxml2 halts at 2,048; HTML that really nests 1,900 deep is not
# a page a person wrote).
MAX_HTML_DEPTH = 1_900
# What a meta reservation says, looked for in the raw bytes to check the parse saw every one.
_WORDS = (b"noai", b"noimageai", b"tdm-reservation")
_RESERVATION_WORDS = re.compile(rb"noai|noimageai|tdm-reservation", re.IGNORECASE)
_AFTER_NAME = frozenset({b" ", b"\t", b"\n", b"\r", b"\f", b"/"})  # `<meta ` but not `<metadata`
_TAG_REACH = 2_048  # bytes back from a word to its `<meta`
_MAX_TAGS = 10_000  # `<meta` openings looked at in the raw bytes

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
        return etree.fromstring(html, parser=etree.HTMLParser(recover=True, huge_tree=True))
    except (etree.LxmlError, ValueError):
        return None


def extract_meta(html: str | bytes) -> MetaTags:
    """Every meta name/content pair; never raises on malformed markup."""
    return meta_from_tree(parse_html(html))


def _chain_depth(root: Any) -> int:
    depth, node = 0, root
    while len(node) and depth <= MAX_HTML_DEPTH:
        node, depth = node[-1], depth + 1
    return depth


def _raw_meta_reservations(body: bytes) -> int:
    """How many `<meta …>` tags of the raw bytes carry a reservation word (ASCII-compatible
    encodings; in UTF-16 nothing matches and the parsed tree is trusted). A word counts for the
    tag whose `<` is the last one before it, within _TAG_REACH bytes, with no `>` between."""
    lowered = body.lower()
    count = tags = 0
    start = lowered.find(b"<meta")
    while start >= 0 and tags < _MAX_TAGS:
        tags += 1
        if lowered[start + 5 : start + 6] in _AFTER_NAME:
            stop = start + _TAG_REACH + 1  # a word starts before the tag's next `<` or `>`
            for bound in (b"<", b">"):
                at = lowered.find(bound, start + 1, stop)
                if at >= 0:
                    stop = at
            if any(lowered.find(word, start + 1, stop + len(word) - 1) >= 0 for word in _WORDS):
                count += 1
        start = lowered.find(b"<meta", start + 1)
    return count


def _tree_meta_reservations(root: Any) -> int:
    found = 0
    for element in root.iter("meta"):
        words = " ".join(f"{k} {v}" for k, v in element.attrib.items()).encode("utf-8", "replace")
        found += bool(_RESERVATION_WORDS.search(words))
    return found


def unread_html(root: Any, body: str | bytes) -> str | None:
    """Why the parsed tree `root` did not read all of `body` (the bytes it was parsed from), or
    None. Checked: the parser's depth limit, and every raw `<meta>` carrying a reservation word
    (noai, noimageai, tdm-reservation) being in the tree. A commented-out one also counts: failing
    closed on it is the safe side."""
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    if root is None:
        if _raw_meta_reservations(body):
            return "HTML not parsed, but its bytes carry a reservation meta tag"
        return None
    if _chain_depth(root) > MAX_HTML_DEPTH:
        return f"HTML nested deeper than {MAX_HTML_DEPTH} levels: the parser stopped there"
    raw = _raw_meta_reservations(body)
    if raw > _tree_meta_reservations(root):
        return (
            f"the bytes carry {raw} reservation meta tag(s) that the parsed HTML does not "
            "(misdeclared encoding, or markup the parser gave up on)"
        )
    return None
