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
_CHUNK = 1024 * 1024
_AFTER_NAME = frozenset({b" ", b"\t", b"\n", b"\r", b"\f", b"/"})  # `<meta ` but not `<metadata`
_TAG_REACH = 2_048  # bytes back from a word to its `<meta`
_MAX_WORDS = 10_000

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


def _word_positions(body: bytes):
    """Where a reservation word starts in `body`, case-insensitively: lower-cased a chunk at a
    time (bytes.find is ~100 times faster than an IGNORECASE regex on text that has none)."""
    overlap = max(len(word) for word in _WORDS) - 1
    for offset in range(0, len(body), _CHUNK):
        chunk = body[offset : offset + _CHUNK + overlap].lower()
        for word in _WORDS:
            at = chunk.find(word)
            while 0 <= at < _CHUNK:
                yield offset + at
                at = chunk.find(word, at + 1)


def _raw_meta_reservations(body: bytes) -> int:
    """How many `<meta …>` tags of the raw bytes carry a reservation word (ASCII-compatible
    encodings; in UTF-16 nothing matches and the parsed tree is trusted)."""
    tags = set()
    for count, position in enumerate(_word_positions(body)):
        if count >= _MAX_WORDS:
            break
        start = body.rfind(b"<", max(0, position - _TAG_REACH), position)
        tag = body[start + 1 : start + 6].lower() if start >= 0 else b""
        if tag[:4] == b"meta" and tag[4:] in _AFTER_NAME and b">" not in body[start:position]:
            tags.add(start)
    return len(tags)


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
