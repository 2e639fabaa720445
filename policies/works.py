"""What a document says about the work it carries: who holds the rights, and which standard
identifiers name it — read from its own metadata, for works-level registry entries
(policies.registry, scopes `owner` and `identifier`).

Owners (`Claim.field` says where each was read):
- HTML: schema.org `copyrightHolder`, `author`, `creator`, `publisher` (a text, a Person /
  Organization `name`, or a list) in JSON-LD, and the same properties in microdata (`itemprop`)
  and RDFa (`property="schema:author"` …), read from the lxml tree the crawl already parsed;
  `<meta name="author">`, `citation_author`, `citation_publisher`, Dublin Core
  `DC.creator` / `DC.publisher` / `DC.rights` (and `dcterms.`);
- XMP (images, PDF): `dc:creator`, `dc:rights`, `xmpRights:Owner`, IPTC `plus:CopyrightOwner`
  (its `plus:CopyrightOwnerName`), `photoshop:Credit`;
- images (Pillow): EXIF `Artist` and `Copyright`, IPTC IIM By-line (2:80), Credit (2:110) and
  Copyright Notice (2:116);
- EPUB package: `dc:creator`, `dc:publisher`, `dc:rights`;
- PDF: the document information dictionary's `/Author` (pypdf).

Identifiers (policies.identifiers): schema.org `isbn`, `issn`, `identifier`, `sameAs` (doi.org);
`citation_isbn` / `citation_issn` / `citation_doi`, `DC.identifier`, `prism:doi` / `prism:isbn`;
XMP `dc:identifier`, `prism:*`; EPUB `dc:identifier` (`urn:isbn:…`, `opf:scheme="ISBN"`).

Some fields hold a statement rather than a name (`dc:rights`, EXIF Copyright, `© 2026 Studio X.
All rights reserved.`): they are `statement` claims, matched by the words of an owner's name
anywhere in them (policies.registry); the others must equal the name.

Reading is lenient, as for every signal: what does not parse is skipped.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

from policies import identifiers
from policies.signals.xml_reader import local_name, read_xml

MAX_JSON_LD = 1024 * 1024
MAX_XML_BYTES = 4 * 1024 * 1024
SCHEMA_OWNERS = ("copyrightHolder", "author", "creator", "publisher")
SCHEMA_STATEMENTS = ("copyrightNotice", "creditText")
SCHEMA_IDENTIFIERS = {"isbn": "isbn", "issn": "issn", "identifier": None, "sameAs": None}
META_OWNERS = {
    "author": False, "citation_author": False, "citation_publisher": False,
    "dc.creator": False, "dc.publisher": False, "dcterms.creator": False,
    "dcterms.publisher": False, "dc.rights": True, "dcterms.rights": True,
    "dcterms.rightsholder": False,
}  # fmt: skip  # name -> statement?
META_IDENTIFIERS = {
    "citation_isbn": "isbn", "citation_issn": "issn", "citation_doi": "doi",
    "dc.identifier": None, "dcterms.identifier": None, "prism.doi": "doi",
    "prism.isbn": "isbn", "prism.issn": "issn",
}  # fmt: skip
DC = "http://purl.org/dc/elements/1.1/"
XMP_OWNERS = {
    (DC, "creator"): False,
    (DC, "publisher"): False,
    (DC, "rights"): True,
    ("http://ns.adobe.com/xap/1.0/rights/", "Owner"): False,
    ("http://ns.useplus.org/ldf/xmp/1.0/", "CopyrightOwnerName"): False,
    ("http://ns.adobe.com/photoshop/1.0/", "Credit"): False,
}
XMP_IDENTIFIERS = {
    (DC, "identifier"): None,
    ("http://prismstandard.org/namespaces/basic/2.0/", "doi"): "doi",
    ("http://prismstandard.org/namespaces/basic/2.0/", "isbn"): "isbn",
    ("http://prismstandard.org/namespaces/basic/2.0/", "issn"): "issn",
    ("http://prismstandard.org/namespaces/basic/3.0/", "doi"): "doi",
    ("http://ns.adobe.com/pdfx/1.3/", "doi"): "doi",
}
# IPTC PLUS CopyrightOwner is a structure: its name is read through CopyrightOwnerName.
EXIF_ARTIST, EXIF_COPYRIGHT = 0x013B, 0x8298
IIM_OWNERS = {(2, 80): False, (2, 110): False, (2, 116): True}
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_PREFIXES = {
    DC: "dc", "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
    "http://ns.useplus.org/ldf/xmp/1.0/": "plus", "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://prismstandard.org/namespaces/basic/2.0/": "prism",
    "http://prismstandard.org/namespaces/basic/3.0/": "prism", "http://ns.adobe.com/pdfx/1.3/": "pdfx",
}  # fmt: skip


def _label(prefix: str, key: tuple[str, str]) -> str:
    """`xmp:xmpRights:Owner`: where a claim was read, with the property's usual prefix."""
    return f"{prefix}:{_PREFIXES.get(key[0], key[0])}:{key[1]}"


@dataclass(frozen=True, slots=True)
class Claim:
    field: str  # where it was read: "json-ld:copyrightHolder", "xmp:dc:creator", "exif:Artist" …
    value: str  # as written (owners), or `scheme:value` normalised (identifiers)
    statement: bool = False  # a rights statement that names the owner among other words


@dataclass(frozen=True, slots=True)
class WorkClaims:
    owners: tuple[Claim, ...] = ()
    identifiers: tuple[Claim, ...] = ()

    def __add__(self, other: WorkClaims) -> WorkClaims:
        return WorkClaims(self.owners + other.owners, self.identifiers + other.identifiers)


# -- names ---------------------------------------------------------------------------------------


def name_key(value: str, *, fold_diacritics: bool = False) -> str:
    """An owner's name as compared: Unicode NFKC, case-folded, its words (letters and digits)
    joined by one space — punctuation and spacing differences vanish; `Hãng` and `Hang` stay
    distinct unless the entry asks (`fold_diacritics`: marks removed, `đ` read as `d`)."""
    text = unicodedata.normalize("NFKC", value).casefold()
    if fold_diacritics:
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
        text = unicodedata.normalize("NFC", text.replace("đ", "d").replace("ł", "l"))
    return " ".join(re.findall(r"\w+", text))


# -- HTML ----------------------------------------------------------------------------------------


def _json_ld_items(data: Any, depth: int = 0) -> Iterator[dict]:
    if depth > 20:
        return
    if isinstance(data, list):
        for item in data:
            yield from _json_ld_items(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for value in data.values():  # nested items (a Book's workExample, @graph …)
            if isinstance(value, dict | list):
                yield from _json_ld_items(value, depth + 1)


def _names(value: Any) -> Iterator[str]:
    """The names in a schema.org value: a text, a Person/Organization `name`, or a list."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        name = value.get("name") or value.get("legalName")
        yield from _names(name) if isinstance(name, str | list) else ()
    elif isinstance(value, list):
        for item in value[:100]:
            yield from _names(item)


def _identifier_values(value: Any) -> Iterator[str]:
    """A schema.org identifier: a text, a PropertyValue (`propertyID` + `value`), or a list."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(int(value))
    elif isinstance(value, dict):
        scheme = str(value.get("propertyID") or "").strip().lower()
        inner = value.get("value") or value.get("@id") or value.get("url")
        if isinstance(inner, str | int):
            yield f"{scheme}:{inner}" if scheme in identifiers.SCHEMES else str(inner)
    elif isinstance(value, list):
        for item in value[:100]:
            yield from _identifier_values(item)


def _identifier_claims(field: str, value: str, scheme: str | None) -> list[Claim]:
    return [Claim(field, found) for found in identifiers.find(value, scheme)]


def _element_text(element: Any) -> str:
    content = element.get("content")
    if content is not None:
        return content
    return " ".join("".join(element.itertext()).split())


def _property_names(element: Any, attribute: str) -> list[str]:
    """schema.org property names of an `itemprop` / RDFa `property` value (`schema:author`,
    `http://schema.org/author`, `author`)."""
    names = []
    for token in (element.get(attribute) or "").split():
        names.append(re.split(r"[:/#]", token)[-1])
    return names


def _structured_name(element: Any, attribute: str) -> str:
    """The name of a microdata item / RDFa resource (its `name` property), or its text."""
    if element.get("itemscope") is not None or element.get("typeof") is not None:
        for child in element.iter():
            if child is not element and "name" in _property_names(child, attribute):
                return _element_text(child)
    return _element_text(element)


_ATTRIBUTE_NODES = {name: etree.XPath(f"//@{name}") for name in ("itemprop", "property")}


def html_claims(root: Any) -> WorkClaims:
    """Owners and identifiers of an HTML page (an lxml tree)."""
    if root is None:
        return WorkClaims()
    owners: list[Claim] = []
    found: list[Claim] = []
    for element in root.iter("meta"):
        name = (element.get("name") or element.get("property") or "").strip().lower()
        content = (element.get("content") or "").strip()
        if not content:
            continue
        if name in META_OWNERS:
            owners.append(Claim(f"meta:{name}", content, META_OWNERS[name]))
        elif name in META_IDENTIFIERS:
            found += _identifier_claims(f"meta:{name}", content, META_IDENTIFIERS[name])
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = script.text or ""
        if len(text) > MAX_JSON_LD:
            continue
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            continue
        for item in _json_ld_items(data):
            for prop in SCHEMA_OWNERS:
                owners += [Claim(f"json-ld:{prop}", n) for n in _names(item.get(prop))]
            for prop in SCHEMA_STATEMENTS:
                owners += [Claim(f"json-ld:{prop}", n, True) for n in _names(item.get(prop))]
            for prop, scheme in SCHEMA_IDENTIFIERS.items():
                for value in _identifier_values(item.get(prop)):
                    found += _identifier_claims(f"json-ld:{prop}", value, scheme)
    for attribute, label in (("itemprop", "microdata"), ("property", "rdfa")):
        for value in _ATTRIBUTE_NODES[attribute](root):  # 3x faster than //*[@itemprop]
            element = value.getparent()
            for prop in _property_names(element, attribute):
                if prop in SCHEMA_OWNERS or prop in SCHEMA_STATEMENTS:
                    value = _structured_name(element, attribute)
                    if value:
                        owners.append(Claim(f"{label}:{prop}", value, prop in SCHEMA_STATEMENTS))
                elif prop in SCHEMA_IDENTIFIERS:
                    found += _identifier_claims(
                        f"{label}:{prop}",
                        element.get("href") or _element_text(element),
                        SCHEMA_IDENTIFIERS[prop],
                    )
    return WorkClaims(tuple(owners), tuple(dict.fromkeys(found)))


# -- XMP, EPUB package, image tags, PDF information ------------------------------------------------


def _xml_values(element: Any) -> list[str]:
    """An XMP / OPF property's values: each rdf:li of a Bag/Seq/Alt, or its text."""
    items = [(li.text or "").strip() for li in element.iter(f"{{{RDF}}}li")]
    items = [i for i in items if i]
    if items:
        return items
    text = (element.get(f"{{{RDF}}}resource") or element.text or "").strip()
    return [text] if text else []


def xml_claims(packets: Iterable[bytes], prefix: str) -> WorkClaims:
    """Owners and identifiers of XMP packets (or an EPUB package document: same DC elements)."""
    owners: list[Claim] = []
    found: list[Claim] = []
    for packet in packets:
        reading = read_xml(packet, limit=MAX_XML_BYTES)
        if reading.root is None:
            continue
        for element in reading.root.iter():
            if not isinstance(element.tag, str):
                continue
            key = local_name(element.tag)
            field = _label(prefix, key)
            if key in XMP_OWNERS:
                owners += [Claim(field, v, XMP_OWNERS[key]) for v in _xml_values(element)]
            elif key in XMP_IDENTIFIERS:
                scheme = XMP_IDENTIFIERS[key]
                declared = next(
                    (v for k, v in element.attrib.items() if local_name(k)[1] == "scheme"), ""
                ).lower()  # EPUB 2 `opf:scheme="ISBN"`
                scheme = scheme or (declared if declared in identifiers.SCHEMES else None)
                for value in _xml_values(element):
                    found += _identifier_claims(field, value, scheme)
            for attribute, value in element.attrib.items():  # rdf:Description shorthand
                attr_key = local_name(attribute)
                if attr_key in XMP_OWNERS and value.strip():
                    owners.append(
                        Claim(_label(prefix, attr_key), value.strip(), XMP_OWNERS[attr_key])
                    )
                elif attr_key in XMP_IDENTIFIERS:
                    found += _identifier_claims(
                        _label(prefix, attr_key), value, XMP_IDENTIFIERS[attr_key]
                    )
    return WorkClaims(tuple(owners), tuple(dict.fromkeys(found)))


def _text(value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def image_claims(body: bytes) -> WorkClaims:
    """EXIF Artist / Copyright and IPTC IIM By-line / Credit / Copyright Notice (Pillow, headers
    only: no pixel is decoded)."""
    from PIL import Image, IptcImagePlugin

    from policies.signals.image_metadata import web_formats

    owners: list[Claim] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(body), formats=web_formats())
    except Exception:  # noqa: BLE001 - Pillow raises many types for unreadable input
        return WorkClaims()
    with image:
        try:
            exif = image.getexif()
        except Exception:  # noqa: BLE001 - a malformed EXIF block
            exif = {}
        for tag, field, statement in (
            (EXIF_ARTIST, "exif:Artist", False),
            (EXIF_COPYRIGHT, "exif:Copyright", True),
        ):
            value = exif.get(tag)
            if isinstance(value, bytes | str):
                # EXIF 2.32 §4.6.5: Copyright is "photographer NUL editor"
                owners += [
                    Claim(field, p.strip(), statement)
                    for p in _text(value).split("\x00")
                    if p.strip()
                ]
        try:
            iptc = IptcImagePlugin.getiptcinfo(image) or {}
        except Exception:  # noqa: BLE001 - a malformed APP13 / IIM block
            iptc = {}
        for dataset, statement in IIM_OWNERS.items():
            values = iptc.get(dataset, [])
            for value in values if isinstance(values, list) else [values]:
                if _text(value).strip():
                    owners.append(
                        Claim(
                            f"iptc-iim:{dataset[0]}:{dataset[1]}", _text(value).strip(), statement
                        )
                    )
    return WorkClaims(tuple(owners))


def pdf_claims(body: bytes) -> WorkClaims:
    """The `/Author` of a PDF's document information dictionary (ISO 32000-1 §14.3.3), read with
    pypdf (lenient mode; a PDF it cannot open gives nothing)."""
    from pypdf import PdfReader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = PdfReader(io.BytesIO(body), strict=False).metadata
            author = info.get("/Author") if info else None
    except Exception:  # noqa: BLE001 - pypdf raises many types for a damaged file
        return WorkClaims()
    if not isinstance(author, str) or not author.strip():
        return WorkClaims()
    return WorkClaims((Claim("pdf:/Author", author.strip()),))


def document_claims(
    content_type: str,
    body: bytes,
    *,
    html_root: Any = None,
    xmp: Iterable[bytes] = (),
    opf: bytes | None = None,
) -> WorkClaims:
    """Every owner and identifier a response states of itself."""
    claims = html_claims(html_root) + xml_claims(xmp, "xmp")
    if opf is not None:
        claims += xml_claims([opf], "opf")
    if content_type.startswith("image/"):
        claims += image_claims(body)
    elif content_type == "application/pdf":
        claims += pdf_claims(body)
    return claims
