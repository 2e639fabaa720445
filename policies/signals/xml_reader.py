"""Read an XML document (XMP packet, EPUB package, RSL licence) whole, or say why not.

Strict first (ElementTree: expat has no depth limit and refuses entity bombs). A document that is
not well-formed is read again by libxml2's recovering parser, and the problem recorded: real files
are often a little wrong (the W3C TDMRep spec's own EPUB examples use the `dc:` prefix without
declaring it), and what they say still counts. A recovering parse that hit one of libxml2's limits
(nesting depth, node size) did not read the rest of the document: that is `unread`, and callers
fail closed on it. So are documents larger than the caller's byte limit.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from lxml import etree

# libxml2 names its limits in these messages ("Excessive depth in document: 256 use
# XML_PARSE_HUGE option", "xmlSAX2Characters: huge text node", "Huge input lookup", …).
_LIMIT_WORDS = ("xml_parse_huge", "excessive depth", "huge ", "resource limit", "memory")


@dataclass(frozen=True, slots=True)
class XmlReading:
    root: Any = None  # an ElementTree or lxml element (both: .iter(), .tag, .get(), .text)
    problems: tuple[str, ...] = ()
    unread: str | None = None  # why the document was not read whole: callers fail closed


def read_xml(data: str | bytes, *, limit: int) -> XmlReading:
    if len(data) > limit:
        return XmlReading(unread=f"larger than {limit} bytes")
    try:
        return XmlReading(ET.fromstring(data))
    except (ET.ParseError, ValueError) as exc:
        strict_error = f"not well-formed XML ({exc})"
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except (etree.LxmlError, ValueError) as exc:
        return XmlReading(problems=(f"{strict_error}; not readable: {exc}",))
    for error in parser.error_log:
        if any(word in error.message.lower() for word in _LIMIT_WORDS):
            return XmlReading(unread=f"XML parser stopped: {error.message.strip()}")
    if root is None:
        return XmlReading(problems=(f"{strict_error}; nothing recoverable",))
    return XmlReading(root, (f"{strict_error}; read leniently (recovering parser)",))


def local_name(tag: Any) -> tuple[str, str]:
    """(namespace, local name) of an element tag; ("", "") for comments and PIs. An undeclared
    prefix that a recovering parse kept in the name ("dc:title") is returned as ("dc:", "title")."""
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    prefix, colon, name = tag.rpartition(":")
    return (f"{prefix}:", name) if colon else ("", tag)
