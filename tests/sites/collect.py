"""A site with documents, images and media to collect, a CDN, sitemaps and paths to exclude.

"main" links PDFs, an EPUB, a `.pdf` that is a page, a PDF too large for its kind, an image, a
video and paths a crawl excludes (`/drafts/`); its gallery embeds images (src, srcset,
`<picture>`), one reserved by `X-Robots-Tag: noimageai`, two on "cdn" (whose robots.txt disallows
`/img/`), and audio. Its robots.txt lists a sitemap index (a gzip sitemap, a text sitemap) and a
sitemap under a path it disallows. Pages `/from-sitemap` and `/from-text` are reachable only
from the sitemaps.
"""

from __future__ import annotations

import gzip
import struct
import zlib

from crawler.demo.server import Handler, Reply, html, routes, text
from tests.sites.limits import _epub

ORIGINS = ["main", "cdn"]

BIG_PDF_SIZE = 6000  # the test caps documents at 4000 bytes (COLLECT_MAX_SIZE)
LASTMOD = "2025-01-02"
EXCLUDE = "/drafts/"  # what the test gives as -a exclude=


def png(shade: int) -> bytes:
    """A valid 1×1 grey PNG (signature, IHDR, IDAT, IEND, each with its CRC)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(bytes([0, shade]))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def pdf(words: str, *, padding: int = 0) -> bytes:
    """A valid one-page PDF 1.4 showing `words` (cross-reference offsets computed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({words}) Tj ET".encode() + b" " * padding
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


OPF_OPEN = (
    b'<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"><metadata><dc:title>An open book</dc:title>'
    b"<dc:language>en</dc:language></metadata></package>"
)


def _file(content_type: str, body: bytes, *headers: tuple[str, str]) -> Reply:
    return Reply(200, (("Content-Type", content_type), *headers), body)


def _urlset(*entries: tuple[str, str | None]) -> bytes:
    urls = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</url>"
        for loc, lastmod in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


def _reserved_works() -> tuple[bytes, bytes]:
    from tests.media import image, signed, training_mining, with_metadata

    still = with_metadata(
        image("JPEG", "embedded-still"),
        xmp={"Xmp.plus.DataMining": "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"},
    )
    c2pa_signed = signed(
        image("JPEG", "embedded-signed"), "image/jpeg", training_mining(ai_training="notAllowed")
    )
    return still, c2pa_signed


STILL, SIGNED = _reserved_works()


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    main, cdn = addresses["main"], addresses["cdn"]
    index = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{main}/maps/pages.xml.gz</loc></sitemap>"
        f"<sitemap><loc>{main}/maps/more.txt</loc></sitemap>"
        "</sitemapindex>"
    ).encode()
    pages = _urlset(
        (f"{main}/from-sitemap", LASTMOD),
        (f"{main}/drafts/listed", None),  # excluded: never requested
        (f"{cdn}/listed-elsewhere", None),  # out of scope (another host): never requested
    )
    main_table = {
        "/robots.txt": text(
            "User-agent: *\nDisallow: /private-maps/\nAllow: /\n"
            f"Sitemap: {main}/maps/index.xml\nSitemap: {main}/private-maps/sitemap.xml\n"
        ),
        "/maps/index.xml": _file("application/xml", index),
        "/maps/pages.xml.gz": _file("application/gzip", gzip.compress(pages, mtime=0)),
        "/maps/more.txt": text(f"{main}/from-text\n"),
        "/private-maps/sitemap.xml": _file("application/xml", _urlset((f"{main}/secret", None))),
        "/": html(
            '<a href="/papers/a.pdf">A</a> <a href="/books/b.epub">B</a> '
            '<a href="/fake.pdf">not a PDF</a> <a href="/papers/big.pdf">big</a> '
            '<a href="/gallery">gallery</a> <a href="/drafts/one">draft</a> '
            '<a href="/films/c.mp4">film</a> <a href="/img/linked.png">linked image</a>'
        ),
        "/papers/a.pdf": _file("application/pdf", pdf("An open paper")),
        "/papers/big.pdf": _file("application/pdf", pdf("A big paper", padding=BIG_PDF_SIZE)),
        "/books/b.epub": _file("application/epub+zip", _epub(OPF_OPEN)),
        "/fake.pdf": html('<p>A page with a .pdf name.</p><a href="/after-fake">next</a>'),
        "/after-fake": html("<p>Linked from the page named .pdf.</p>"),
        "/gallery": html(
            '<img src="/img/open.png" alt="open">'
            '<img src="/img/fallback.png" srcset="/img/small.png 100w, /img/large.png 800w">'
            '<picture><source srcset="/img/wide.png 2x, /img/narrow.png 1x">'
            '<img src="/img/pic.png"></picture>'
            '<img src="/img/noimageai.png">'
            '<img src="/img/still.jpg"><img src="/img/signed.jpg">'
            f'<img src="{cdn}/img/blocked.png"><img src="{cdn}/media/ok.png">'
            '<audio src="/sound.mp3"></audio>'
            '<img src="data:image/png;base64,iVBORw0KGgo=">'
        ),
        "/img/open.png": _file("image/png", png(10)),
        "/img/fallback.png": _file("image/png", png(20)),
        "/img/small.png": _file("image/png", png(30)),
        "/img/large.png": _file("image/png", png(40)),
        "/img/wide.png": _file("image/png", png(50)),
        "/img/narrow.png": _file("image/png", png(60)),
        "/img/pic.png": _file("image/png", png(70)),
        "/img/noimageai.png": _file("image/png", png(80), ("X-Robots-Tag", "noimageai")),
        "/img/linked.png": _file("image/png", png(90)),
        # Reserved by what the files say of themselves (fixtures written by pyexiv2, c2pa-python).
        "/img/still.jpg": _file("image/jpeg", STILL),
        "/img/signed.jpg": _file("image/jpeg", SIGNED),
        "/films/c.mp4": _file("video/mp4", b"\x00\x00\x00\x18ftypmp42"),
        "/sound.mp3": _file("audio/mpeg", b"ID3"),
        "/drafts/one": html("<p>A draft.</p>"),
        "/drafts/listed": html("<p>A listed draft.</p>"),
        "/from-sitemap": html("<p>Only a sitemap leads here.</p>"),
        "/from-text": html("<p>Only a text sitemap leads here.</p>"),
        "/secret": html("<p>Listed by a sitemap robots.txt forbids.</p>"),
    }
    cdn_table = {
        "/robots.txt": text("User-agent: *\nDisallow: /img/\n"),
        "/img/blocked.png": _file("image/png", png(100)),
        "/media/ok.png": _file("image/png", png(110)),
        "/listed-elsewhere": html("<p>Another host.</p>"),
    }
    return {"main": routes(main_table), "cdn": routes(cdn_table)}
