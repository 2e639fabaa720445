"""Rights metadata embedded in a document: XMP packets (PDF, JPEG, …) and EPUB package (OPF) files.

- TDMRep in XMP: `tdm:reservation` / `tdm:policy` in the namespace `http://www.w3.org/ns/tdmrep/`
  (PDF) — EPUB uses `…/tdmrep#`; both are accepted, as the spec itself uses both.
- TDMRep in EPUB: EPUB 2 `<meta name="tdm:reservation" content="1"/>`, EPUB 3
  `<meta property="tdm:reservation">1</meta>`.
- IPTC Photo Metadata `plus:DataMining` (PLUS vocabulary, `DMI-…` values).
- Licence evidence (kind `license`, never a reservation): `xmpRights:WebStatement`,
  `cc:license`, `xmpRights:UsageTerms`, `dc:rights`.

Where the packets come from (`document_metadata`): images through Pillow
(policies.signals.image_metadata, with EXIF and IPTC IIM copyright), falling back to a scan of the
bytes when Pillow cannot open the file; PDFs by a scan for uncompressed and Flate-compressed
metadata streams; EPUBs through zipfile; C2PA manifests of every type c2pa-rs reads through
c2pa-python (policies.signals.c2pa).

XMP may also be given as a mapping of qualified names to values (`{"plus:DataMining": "…"}`).
Malformed XML is read leniently (policies.signals.xml_reader), with the problem recorded, never an
exception. What cannot be read whole — past a size limit, a ZIP bomb, a container that does not
open — gives a `policy-error` signal: the document's own statements are unknown, so it is not kept.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

from policies import reasons
from policies.evidence import Signal, unread_signal
from policies.signals.c2pa import C2paReading, read_c2pa
from policies.signals.image_metadata import read_image
from policies.signals.tdmrep import read_value
from policies.signals.xml_reader import local_name, read_xml

TDM_NAMESPACES = ("http://www.w3.org/ns/tdmrep/", "http://www.w3.org/ns/tdmrep#", "tdm:")
PLUS_NAMESPACE = "http://ns.useplus.org/ldf/xmp/1.0/"
PLUS_NAMESPACES = (PLUS_NAMESPACE, "plus:")  # "plus:" = an undeclared prefix, read leniently
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_RESOURCE = f"{{{RDF}}}resource"
# Licence evidence in XMP, URLs first: the first `license` signal is the decision's licence.
LICENCE_PROPERTIES = {
    ("http://ns.adobe.com/xap/1.0/rights/", "WebStatement"): "xmpRights:WebStatement",
    ("http://creativecommons.org/ns#", "license"): "cc:license",
    ("http://ns.adobe.com/xap/1.0/rights/", "UsageTerms"): "xmpRights:UsageTerms",
    ("http://purl.org/dc/elements/1.1/", "rights"): "dc:rights",
}
# Real XMP packets are 2-50 KB, a few hundred KB with an embedded thumbnail; real package
# documents stay under 1 MB for books of thousands of files. Parsing 4 MiB of XML builds at most
# ~100 MB of elements (measured, worst case `<a/>` repeated).
MAX_XML_BYTES = 4 * 1024 * 1024
# A file's own packet plus one per embedded image; parsed one at a time, so memory stays bounded
# by MAX_XML_BYTES. Past this count the rest is unread (fail closed).
MAX_XMP_PACKETS = 10_000
_DMI_VOCAB = "http://ns.useplus.org/ldf/vocab/"
_XMP_START, _XMP_END = b"<x:xmpmeta", b"</x:xmpmeta>"


def find_xmp_packets(data: bytes) -> tuple[list[bytes], bool]:
    """XMP packets stored uncompressed in a file (PDF metadata streams, JPEG APP1 …), in order,
    and whether more than MAX_XMP_PACKETS were there (the rest not taken).

    A packet without its end tag runs to the end of the file (bounded by the XML limit), so a
    truncated packet is read leniently or fails closed as too large, never skipped."""
    packets: list[bytes] = []
    start = data.find(_XMP_START)
    while start >= 0:
        if len(packets) == MAX_XMP_PACKETS:
            return packets, True
        end = data.find(_XMP_END, start)  # bytes.find: linear, unlike a lazy regex here
        if end < 0:
            packets.append(data[start : start + MAX_XML_BYTES + 1])
            break
        packets.append(data[start : end + len(_XMP_END)])
        start = data.find(_XMP_START, end)
    return packets, False


def inflated_metadata_streams(data: bytes) -> tuple[list[bytes], str | None]:
    """XMP packets of PDF metadata streams stored with /FlateDecode (ISO 32000-1 §14.3.2 only
    recommends leaving them unfiltered), each inflated to at most MAX_XML_BYTES + 1; and why one
    could not be read, if so."""
    packets: list[bytes] = []
    at = data.find(b"/Metadata")
    while at >= 0 and len(packets) < MAX_XMP_PACKETS:
        dictionary_end = data.find(b"stream", at, at + 1024)
        following = at + len(b"/Metadata")
        if dictionary_end < 0 or b"endobj" in data[at:dictionary_end]:
            at = data.find(b"/Metadata", following)
            continue
        dictionary = data[max(0, at - 1024) : dictionary_end]
        start = dictionary_end + len(b"stream")
        start += 2 if data[start : start + 2] == b"\r\n" else 1  # §7.3.8.1: CRLF or LF
        end = data.find(b"endstream", start)
        if b"/FlateDecode" in dictionary[dictionary.rfind(b"<<") :] and end > 0:
            inflater = zlib.decompressobj()
            try:
                packet = inflater.decompress(data[start:end], MAX_XML_BYTES + 1)
            except zlib.error:
                packet = b""  # not a deflate stream (encrypted metadata): nothing readable
            if len(packet) > MAX_XML_BYTES:
                return packets, f"a PDF metadata stream inflates past {MAX_XML_BYTES} bytes"
            if _XMP_START in packet:
                packets.append(packet)
        at = data.find(b"/Metadata", max(following, end))
    return packets, None


def find_xmp_packet(data: bytes) -> bytes | None:
    """The first complete XMP packet of a file, or None."""
    start = data.find(_XMP_START)
    end = data.find(_XMP_END, start) if start >= 0 else -1
    return data[start : end + len(_XMP_END)] if end >= 0 else None


def _reading_signals(kind: str, source: str, data: str | bytes):
    """(root or None, signals to record about the reading itself)."""
    reading = read_xml(data, limit=MAX_XML_BYTES)
    if reading.unread:
        return None, [unread_signal(kind, source, reading.unread)]
    noted = (
        [Signal(kind, source, "", "unknown", problems=reading.problems)] if reading.problems else []
    )
    return reading.root, noted


def _property_value(element) -> str:
    """An XMP property's value: rdf:resource, the first rdf:li of an Alt/Bag/Seq, or its text."""
    resource = element.get(RDF_RESOURCE)
    if resource:
        return resource.strip()
    for item in element.iter(f"{{{RDF}}}li"):
        return (item.text or "").strip()
    return (element.text or "").strip()


def xmp_signals(xmp: str | bytes | Mapping[str, str], source: str = "xmp") -> list[Signal]:
    """TDMRep and IPTC data-mining statements in an XMP packet, and its licence evidence."""
    tdm_values: list[str] = []
    dmi_values: list[str] = []
    licences: dict[str, list[str]] = {name: [] for name in LICENCE_PROPERTIES.values()}
    noted: list[Signal] = []
    if isinstance(xmp, Mapping):
        tdm_values = [str(v) for k, v in xmp.items() if str(k).lower() == "tdm:reservation"]
        dmi_values = [str(v) for k, v in xmp.items() if str(k).lower() == "plus:datamining"]
    else:
        root, noted = _reading_signals("xmp", source, xmp)
        if root is None:
            return noted
        for element in root.iter():
            namespace, name = local_name(element.tag)
            if namespace in TDM_NAMESPACES and name == "reservation":
                tdm_values.append((element.text or "").strip())
            elif namespace in PLUS_NAMESPACES and name == "DataMining":
                dmi_values.append((element.get(RDF_RESOURCE) or element.text or "").strip())
            elif (namespace, name) in LICENCE_PROPERTIES:
                licences[LICENCE_PROPERTIES[namespace, name]].append(_property_value(element))
            for attribute, value in element.attrib.items():  # rdf:Description shorthand
                attr_namespace, attr_name = local_name(attribute)
                if attr_namespace in TDM_NAMESPACES and attr_name == "reservation":
                    tdm_values.append(value.strip())
                elif attr_namespace in PLUS_NAMESPACES and attr_name == "DataMining":
                    dmi_values.append(value.strip())
                elif (attr_namespace, attr_name) in LICENCE_PROPERTIES:
                    licences[LICENCE_PROPERTIES[attr_namespace, attr_name]].append(value.strip())
    signals = [
        read_value(
            "tdm-reservation-xmp", f"{source}:tdm:reservation", value, reasons.TDMREP_RESERVED
        )
        for value in tdm_values
    ]
    signals += [iptc_signal(value, source) for value in dmi_values]
    signals += [
        Signal("license", f"{source}:{name}", value, "unknown")
        for name, values in licences.items()
        for value in values
        if value
    ]
    return noted + signals


def iptc_signal(value: str, source: str = "xmp") -> Signal:
    """IPTC `plus:DataMining`: DMI-PROHIBITED* reserves AI/ML training, DMI-ALLOWED permits."""
    code = value.removeprefix(_DMI_VOCAB).upper()
    if code.startswith("DMI-PROHIBITED"):
        return Signal(
            "iptc-data-mining",
            f"{source}:plus:DataMining",
            value,
            "reserved",
            reasons.IPTC_RESERVED,
        )
    if code == "DMI-ALLOWED":
        return Signal("iptc-data-mining", f"{source}:plus:DataMining", value, "not_reserved")
    problems = () if code == "DMI-UNSPECIFIED" else (f"{value!r} is not a PLUS data-mining value",)
    return Signal(
        "iptc-data-mining", f"{source}:plus:DataMining", value, "unknown", problems=problems
    )


def epub_signals(opf: str | bytes, source: str = "epub:opf") -> list[Signal]:
    """TDMRep in an EPUB package document (EPUB 2 name/content or EPUB 3 property)."""
    root, noted = _reading_signals("epub", source, opf)
    if root is None:
        return noted
    values = []
    for element in root.iter():
        if local_name(element.tag)[1] != "meta":
            continue
        if (element.get("name") or "").strip().lower() == "tdm:reservation":
            values.append(element.get("content") or "")
        elif (element.get("property") or "").strip().lower() == "tdm:reservation":
            values.append(element.text or "")
    return noted + [
        read_value(
            "tdm-reservation-epub", f"{source}:tdm:reservation", value, reasons.TDMREP_RESERVED
        )
        for value in values
    ]


EPUB_TYPE = "application/epub+zip"
CONTAINER = "META-INF/container.xml"
MAX_OPF_BYTES = MAX_XML_BYTES
# Real EPUBs hold tens to a few thousand files; zipfile keeps ~300 bytes per entry of the central
# directory, which a hostile archive could fill with millions of empty names.
MAX_ZIP_ENTRIES = 20_000


@dataclass(frozen=True, slots=True)
class EmbeddedMetadata:
    xmp: tuple[bytes, ...] = ()
    opf: bytes | None = None
    unread: str | None = None  # the body is a document of this type, but its metadata is unread
    c2pa: C2paReading | None = None  # None: the type cannot carry a manifest
    signals: tuple[Signal, ...] = ()  # licence evidence (EXIF, IPTC IIM) and reading problems


def _zip_entries(data: bytes) -> int | None:
    """The entry count the end-of-central-directory record declares (APPNOTE 4.3.16), or None."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return None
    (entries,) = struct.unpack_from("<H", data, end + 10)
    locator = end - 20  # ZIP64 end-of-central-directory locator, then the ZIP64 record
    if entries == 0xFFFF and locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
        record = data.rfind(b"PK\x06\x06", 0, locator)
        if record >= 0 and record + 40 <= len(data):
            (entries,) = struct.unpack_from("<Q", data, record + 32)
    return entries


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes | None:
    """A member's bytes, inflating at most MAX_XML_BYTES + 1 whatever its header declares."""
    with archive.open(name) as member:
        data = member.read(MAX_XML_BYTES + 1)
    return None if len(data) > MAX_XML_BYTES else data


def epub_metadata(data: bytes) -> EmbeddedMetadata:
    """The package (OPF) document of an EPUB via META-INF/container.xml (EPUB OCF §3.5), read
    within bounds; `unread` says why it could not be (then the EPUB's statements are unknown)."""
    entries = _zip_entries(data)
    if entries is None:
        return EmbeddedMetadata(unread="not a ZIP container (no end of central directory)")
    if entries > MAX_ZIP_ENTRIES:
        return EmbeddedMetadata(unread=f"ZIP declares {entries} entries (limit {MAX_ZIP_ENTRIES})")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            container = _read_member(archive, CONTAINER)
            if container is None:
                return EmbeddedMetadata(unread=f"{CONTAINER} inflates past {MAX_XML_BYTES} bytes")
            reading = read_xml(container, limit=MAX_XML_BYTES)
            if reading.root is None:
                return EmbeddedMetadata(unread=f"{CONTAINER}: {reading.unread or reading.problems}")
            rootfile = next(
                (e for e in reading.root.iter() if local_name(e.tag)[1] == "rootfile"), None
            )
            path = rootfile.get("full-path") if rootfile is not None else None
            if not path:
                return EmbeddedMetadata(unread=f"{CONTAINER} names no package document")
            opf = _read_member(archive, path)
            if opf is None:
                return EmbeddedMetadata(unread=f"{path} inflates past {MAX_XML_BYTES} bytes")
            return EmbeddedMetadata(opf=opf)
    except Exception as exc:  # noqa: BLE001 - zipfile raises zlib/LZMA errors, KeyError, …
        return EmbeddedMetadata(unread=f"EPUB container unreadable: {type(exc).__name__}: {exc}")


def epub_package(data: bytes) -> bytes | None:
    """The package (OPF) document of an EPUB; None if it cannot be read (see `epub_metadata`)."""
    return epub_metadata(data).opf


def _scanned_xmp(content_type: str, body: bytes) -> EmbeddedMetadata:
    packets, more = find_xmp_packets(body)
    unread = f"more than {MAX_XMP_PACKETS} XMP packets" if more else None
    if content_type == "application/pdf":
        inflated, problem = inflated_metadata_streams(body)
        packets += inflated
        unread = unread or problem
    return EmbeddedMetadata(xmp=tuple(packets), unread=unread)


def document_metadata(content_type: str, body: bytes) -> EmbeddedMetadata:
    """The rights metadata carried inside a response body: XMP packets, the EPUB package
    document, EXIF/IIM copyright, the C2PA manifest."""
    content_type = content_type.split(";", 1)[0].strip().lower()
    if content_type == EPUB_TYPE:
        found = epub_metadata(body)
    elif content_type.startswith("image/"):
        image = read_image(body)
        if image.opened and image.xmp is not None:
            found = EmbeddedMetadata(xmp=(image.xmp,))
        else:  # a format Pillow does not open (HEIF, SVG …), or an XMP packet where it looks not
            found = _scanned_xmp(content_type, body)
        found = replace(found, signals=image.licence)
    elif content_type == "application/pdf":
        found = _scanned_xmp(content_type, body)
    else:
        found = EmbeddedMetadata()
    return replace(found, c2pa=read_c2pa(content_type, body))
