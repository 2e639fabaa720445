"""Documents that reserve where a size or depth limit, or a lax writer, would hide it (issue #11).

Every page here but `/` of "plain" carries or falls under a reservation that a parser limit hides:
none may be kept. "plain" shows the crawl still keeps ordinary pages.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = ["plain", "bigtdm", "hugetdm", "cappedtdm", "deep", "epub", "lenient"]

ALLOW_ALL = text("User-agent: *\nAllow: /\n")
BOMB_INFLATED = 1024 * 1024 * 1024  # 1 GiB of spaces, ~1 MB deflated
BOMB_DECLARED = 200

CONTAINER = (
    b'<?xml version="1.0"?><container version="1.0" '
    b'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
    b'<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
    b"</rootfiles></container>"
)
# As the W3C TDMRep spec's own EPUB example writes it: `dc:` used, never declared.
OPF_UNDECLARED_DC = (
    b'<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
    b"<metadata><dc:title>A reserved book</dc:title><dc:language>en</dc:language>"
    b'<meta property="tdm:reservation">1</meta></metadata></package>'
)


def _epub(opf: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", b"application/epub+zip", zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", CONTAINER, zipfile.ZIP_DEFLATED)
        archive.writestr("OEBPS/content.opf", opf, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def lying_zip_bomb(inflated: int = BOMB_INFLATED, declared: int = BOMB_DECLARED) -> bytes:
    """An EPUB whose package document inflates to `inflated` bytes while its local and central
    headers declare `declared` (the sizes a reader checks before inflating)."""
    # After a full flush the compressor starts afresh, byte-aligned: one compressed MiB repeated
    # is a valid stream (then an empty final block), built in milliseconds. The CRC is left 0:
    # the bytes never match the declared size anyway.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(b" " * (1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    deflated = block * (inflated >> 20) + b"\x03\x00"
    crc = 0
    name = b"OEBPS/content.opf"
    head = _epub(b"")  # mimetype + container.xml + an empty OPF we replace below
    with zipfile.ZipFile(io.BytesIO(head)) as archive:
        keep = [i for i in archive.infolist() if i.filename != "OEBPS/content.opf"]
        members = {i.filename: archive.read(i.filename) for i in keep}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for filename, data in members.items():
            archive.writestr(filename, data, zipfile.ZIP_STORED)
    body = out.getvalue()
    end = body.rfind(b"PK\x05\x06")
    directory_offset = struct.unpack_from("<I", body, end + 16)[0]
    entries = struct.unpack_from("<H", body, end + 10)[0]
    files, directory = body[:directory_offset], body[directory_offset:end]
    offset = len(files)
    local = struct.pack(
        "<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(deflated), declared, len(name), 0
    )
    central = struct.pack(
        "<4s6H3I5H2I",
        *(b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(deflated), declared, len(name)),
        *(0, 0, 0, 0, 0, offset),
    )
    files += local + name + deflated
    directory += central + name
    eocd = struct.pack(
        "<4s4H2IH", b"PK\x05\x06", 0, 0, entries + 1, entries + 1, len(directory), len(files), 0
    )
    return files + directory + eocd


def _big_tdmrep(size: int) -> bytes:
    """A valid tdmrep.json of about `size` bytes whose last rule reserves every path."""
    rules = [{"location": f"/archive/{n}/", "tdm-reservation": 0} for n in range(size // 45)]
    rules.append({"location": "/", "tdm-reservation": 1})
    return json.dumps(rules).encode()


def _json(body: bytes) -> Reply:
    return Reply(200, (("Content-Type", "application/json"),), body)


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    deep = "<div>" * 3_000 + '<meta name="robots" content="noai"><p>deep</p>'
    return {
        "plain": routes({"/robots.txt": ALLOW_ALL, "/": html("<p>nothing reserved</p>")}),
        "bigtdm": routes(
            {
                "/robots.txt": ALLOW_ALL,
                "/.well-known/tdmrep.json": _json(_big_tdmrep(1_500_000)),  # 1.5 MB
                "/": html("<p>reserved by the last rule of tdmrep.json</p>"),
            }
        ),
        "hugetdm": routes(
            {
                "/robots.txt": ALLOW_ALL,
                "/.well-known/tdmrep.json": _json(_big_tdmrep(5_000_000)),  # past 4 MiB
                "/": html("<p>tdmrep.json too large to read: fail closed</p>"),
            }
        ),
        "cappedtdm": routes(
            {
                "/robots.txt": ALLOW_ALL,
                # Past the 16 MiB evidence download cap (crawler/policy_documents.py).
                "/.well-known/tdmrep.json": _json(b"[" + b" " * (17 << 20) + b"]"),
                "/": html("<p>tdmrep.json past the download cap: fail closed</p>"),
            }
        ),
        "deep": routes(
            {
                "/robots.txt": ALLOW_ALL,
                "/": html('<a href="/nested">n</a> <a href="/charset">c</a>'),
                "/nested": html(deep),
                # More tags than POLICY_HTML_MAX_TAGS (1,000,000): not parsed, not kept.
                "/tags": html("<b>x</b>" * 500_001),
                # Declares UTF-16 but is ASCII: decoded as UTF-16 the meta is gone (a browser
                # reads a meta-declared UTF-16 as UTF-8, HTML §13.2.3.3).
                "/charset": Reply(
                    200,
                    (("Content-Type", "text/html"),),
                    b'<html><head><meta charset="utf-16"><meta name="robots" content="noai">'
                    b"</head><body><p>reserved</p></body></html>",
                ),
            }
        ),
        "epub": routes(
            {
                "/robots.txt": ALLOW_ALL,
                "/": html('<a href="/bomb.epub">bomb</a> <a href="/undeclared.epub">book</a>'),
                "/bomb.epub": Reply(
                    200, (("Content-Type", "application/epub+zip"),), lying_zip_bomb()
                ),
                "/undeclared.epub": Reply(
                    200, (("Content-Type", "application/epub+zip"),), _epub(OPF_UNDECLARED_DC)
                ),
            }
        ),
        "lenient": routes(
            {
                "/robots.txt": ALLOW_ALL,
                "/": html('<a href="/usage">u</a> <a href="/signal">s</a> <a href="/legacy">l</a>'),
                "/usage": html("<p>u</p>", headers=(("Content-Usage", "Train-AI=n"),)),
                "/signal": html("<p>s</p>", headers=(("Content-Signal", "ai-train=No"),)),
                "/legacy": html("<p>l</p>", headers=(("Content-Usage", "train-genai=n"),)),
            }
        ),
    }
