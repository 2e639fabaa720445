"""Rights metadata embedded in a document: XMP packets (PDF, JPEG, …) and EPUB package (OPF) files.

- TDMRep in XMP: `tdm:reservation` / `tdm:policy` in the namespace `http://www.w3.org/ns/tdmrep/`
  (PDF) — EPUB uses `…/tdmrep#`; both are accepted, as the spec itself uses both.
- TDMRep in EPUB: EPUB 2 `<meta name="tdm:reservation" content="1"/>`, EPUB 3
  `<meta property="tdm:reservation">1</meta>`.
- IPTC Photo Metadata `plus:DataMining` (PLUS vocabulary, `DMI-…` values).

XMP may also be given as a mapping of qualified names to values (`{"plus:DataMining": "…"}`).
Malformed XML yields no signal and a problem, never an exception.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from policies import reasons
from policies.evidence import Signal
from policies.signals.tdmrep import read_value

TDM_NAMESPACES = ("http://www.w3.org/ns/tdmrep/", "http://www.w3.org/ns/tdmrep#")
PLUS_NAMESPACE = "http://ns.useplus.org/ldf/xmp/1.0/"
RDF_RESOURCE = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}resource"
MAX_XML_BYTES = 4 * 1024 * 1024
_DMI_VOCAB = "http://ns.useplus.org/ldf/vocab/"


def find_xmp_packet(data: bytes) -> bytes | None:
    """The first XMP packet stored uncompressed in a file (PDF metadata streams, JPEG APP1 …)."""
    start = data.find(b"<x:xmpmeta")
    if start < 0:
        return None
    end = data.find(b"</x:xmpmeta>", start)  # str.find: linear, unlike a lazy regex here
    return data[start : end + len(b"</x:xmpmeta>")] if end >= 0 else None


def _parse_xml(text: str | bytes) -> tuple[ET.Element | None, str | None]:
    if len(text) > MAX_XML_BYTES:
        return None, f"larger than {MAX_XML_BYTES} bytes: not read"
    try:
        return ET.fromstring(text), None
    except (ET.ParseError, ValueError) as exc:
        return None, f"not well-formed XML: {exc}"


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def xmp_signals(xmp: str | bytes | Mapping[str, str], source: str = "xmp") -> list[Signal]:
    """TDMRep and IPTC data-mining statements in an XMP packet."""
    tdm_values: list[str] = []
    dmi_values: list[str] = []
    if isinstance(xmp, Mapping):
        tdm_values = [str(v) for k, v in xmp.items() if k.lower() == "tdm:reservation"]
        dmi_values = [str(v) for k, v in xmp.items() if k.lower() == "plus:datamining"]
    else:
        root, problem = _parse_xml(xmp)
        if root is None:
            return [Signal("xmp", source, "", "unknown", problems=(problem,))]
        for element in root.iter():
            namespace, name = _local(element.tag)
            if namespace in TDM_NAMESPACES and name == "reservation":
                tdm_values.append((element.text or "").strip())
            elif namespace == PLUS_NAMESPACE and name == "DataMining":
                dmi_values.append((element.get(RDF_RESOURCE) or element.text or "").strip())
            for attribute, value in element.attrib.items():  # rdf:Description shorthand
                attr_namespace, attr_name = _local(attribute)
                if attr_namespace in TDM_NAMESPACES and attr_name == "reservation":
                    tdm_values.append(value.strip())
                elif attr_namespace == PLUS_NAMESPACE and attr_name == "DataMining":
                    dmi_values.append(value.strip())
    signals = [
        read_value(
            "tdm-reservation-xmp", f"{source}:tdm:reservation", value, reasons.TDMREP_RESERVED
        )
        for value in tdm_values
    ]
    signals += [iptc_signal(value, source) for value in dmi_values]
    return signals


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
    root, problem = _parse_xml(opf)
    if root is None:
        return [Signal("epub", source, "", "unknown", problems=(problem,))]
    values = []
    for element in root.iter():
        if _local(element.tag)[1] != "meta":
            continue
        if (element.get("name") or "").lower() == "tdm:reservation":
            values.append(element.get("content") or "")
        elif (element.get("property") or "").lower() == "tdm:reservation":
            values.append(element.text or "")
    return [
        read_value(
            "tdm-reservation-epub", f"{source}:tdm:reservation", value, reasons.TDMREP_RESERVED
        )
        for value in values
    ]


XMP_TYPES = ("application/pdf", "image/")
EPUB_TYPE = "application/epub+zip"
MAX_OPF_BYTES = 1024 * 1024


def epub_package(data: bytes) -> bytes | None:
    """The package (OPF) document of an EPUB, via META-INF/container.xml; None if unreadable."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if archive.getinfo("META-INF/container.xml").file_size > MAX_OPF_BYTES:
                return None  # a container.xml this large is a zip bomb, not a container
            container = ET.fromstring(archive.read("META-INF/container.xml"))
            rootfile = next((e for e in container.iter() if _local(e.tag)[1] == "rootfile"), None)
            path = rootfile.get("full-path") if rootfile is not None else None
            if not path or archive.getinfo(path).file_size > MAX_OPF_BYTES:
                return None
            return archive.read(path)
    except Exception:  # noqa: BLE001 - zipfile raises zlib/LZMA errors, NotImplementedError, …
        return None


def document_metadata(content_type: str, body: bytes) -> tuple[bytes | None, bytes | None]:
    """(XMP packet, EPUB package document) carried inside a response body, where there are any."""
    content_type = content_type.split(";", 1)[0].strip().lower()
    if content_type == EPUB_TYPE:
        return None, epub_package(body)
    if content_type.startswith(XMP_TYPES):
        return find_xmp_packet(body), None
    return None, None
