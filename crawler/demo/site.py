"""The demo site: every case the foundation gate handles, on four loopback origins.

- `main`: robots.txt disallows /private/ for everyone; articles to keep; pages reserved by a
  `tdm-reservation: 1` header, an `X-Robots-Tag: noai` header, `<meta name="robots" content="noai">`
  and `<meta name="tdm-reservation" content="1">`; a redirect, a gzip-encoded page, a 404.
- `down`: robots.txt answers 503 — RFC 9309 says assume complete disallow.
- `open`: no robots.txt (404) — everything may be crawled.
- `closed`: robots.txt disallows our token `rightscrawl` everywhere, while allowing others.
- `media`: works, not only pages (`scrapy demo` collects html, documents and images): a PDF and an
  EPUB to keep, an image with alt text and a caption to keep, an image whose embedded XMP says
  IPTC `plus:DataMining` prohibits AI training, and an image served with `X-Robots-Tag: noimageai`.
  The files are made when the site starts, with Pillow and the standard library.
"""

from __future__ import annotations

import gzip
import io
import zipfile

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = ["main", "down", "open", "closed", "media"]


def _page(title: str, body: str, *, head: str = "", links: list[str] = ()) -> str:
    items = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
        f"<body><h1>{title}</h1><p>{body}</p><ul>{items}</ul></body></html>"
    )


def _article(n: int) -> str:
    return _page(
        f"Article {n}",
        f"Public-domain text number {n}. " * 20,
        links=["/", f"/articles/{n % 3 + 1}"],
    )


IPTC_PROHIBITED_XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
    ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""'
    ' xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/"'
    ' plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"/>'
    "</rdf:RDF></x:xmpmeta>"
)


def _image(size: tuple[int, int], colour: tuple[int, int, int], fmt: str, **options) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _epub(title: str, chapters: list[str]) -> bytes:
    """A minimal EPUB 3: mimetype first and stored, container, package document, chapters."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/book.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        items = "".join(
            f'<item id="c{n}" href="c{n}.xhtml" media-type="application/xhtml+xml"/>'
            for n in range(len(chapters))
        )
        spine = "".join(f'<itemref idref="c{n}"/>' for n in range(len(chapters)))
        book.writestr(
            "OEBPS/book.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
            'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:identifier id="id">demo-book</dc:identifier><dc:title>{title}</dc:title>'
            f"<dc:language>en</dc:language></metadata><manifest>{items}</manifest>"
            f"<spine>{spine}</spine></package>",
        )
        for n, text in enumerate(chapters):
            book.writestr(
                f"OEBPS/c{n}.xhtml",
                '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Chapter</title></head>'
                f"<body><p>{text}</p></body></html>",
            )
    return buffer.getvalue()


def media_table() -> dict[str, Reply]:
    gallery = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Works</title></head><body>"
        "<h1>Works, not only pages</h1>"
        '<figure><img src="/img/lighthouse.png" alt="A lighthouse at dusk">'
        "<figcaption>The lighthouse, photographed for the public domain.</figcaption></figure>"
        '<p><img src="/img/studio-still.jpg" alt="A film still"> A studio\'s film still: its'
        " XMP reserves AI training.</p>"
        '<p><img src="/img/no-image-ai.png" alt="A poster"> A poster served with'
        " X-Robots-Tag: noimageai.</p>"
        '<ul><li><a href="/report.pdf">The annual report (PDF)</a></li>'
        '<li><a href="/book.epub">An open book (EPUB)</a></li></ul></body></html>'
    )
    return {
        "/robots.txt": text("User-agent: *\nAllow: /\n"),
        "/": html(gallery),
        "/img/lighthouse.png": Reply(
            200, (("Content-Type", "image/png"),), _image((48, 32), (30, 60, 120), "PNG")
        ),
        "/img/studio-still.jpg": Reply(
            200,
            (("Content-Type", "image/jpeg"),),
            _image((48, 32), (120, 30, 30), "JPEG", xmp=IPTC_PROHIBITED_XMP.encode()),
        ),
        "/img/no-image-ai.png": Reply(
            200,
            (("Content-Type", "image/png"), ("X-Robots-Tag", "noimageai")),
            _image((32, 48), (200, 160, 20), "PNG"),
        ),
        "/report.pdf": Reply(
            200, (("Content-Type", "application/pdf"),), _image((60, 80), (250, 250, 250), "PDF")
        ),
        "/book.epub": Reply(
            200,
            (("Content-Type", "application/epub+zip"),),
            _epub("An open book", ["The first chapter.", "The second chapter."]),
        ),
    }


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    return {name: routes(table) for name, table in tables(addresses).items()}


def tables(addresses: dict[str, str]) -> dict[str, dict[str, Reply]]:
    """The routes of every origin, as plain tables that tests may extend."""
    down, open_, closed = addresses["down"], addresses["open"], addresses["closed"]
    main = {
        "/robots.txt": text("User-agent: *\nDisallow: /private/\n\nSitemap: /sitemap.xml\n"),
        "/": html(
            _page(
                "Demo corpus",
                "A site that shows what rightscrawl keeps and what it excludes.",
                links=[
                    "/articles/1",
                    "/articles/2",
                    "/articles/3",
                    "/private/secret",
                    "/reserved/tdm-header",
                    "/reserved/noai-header",
                    "/reserved/noai-meta",
                    "/reserved/tdm-meta",
                    "/moved",
                    "/compressed",
                    "/missing",
                    f"{down}/",
                    f"{open_}/",
                    f"{closed}/",
                ],
            )
        ),
        "/articles/1": html(_article(1)),
        "/articles/2": html(_article(2)),
        "/articles/3": html(_article(3)),
        "/private/secret": html(_page("Private", "robots.txt disallows this path.")),
        "/reserved/tdm-header": html(
            _page("TDM reserved", "Reserved by an HTTP header."),
            headers=(("tdm-reservation", "1"),),
        ),
        "/reserved/noai-header": html(
            _page("noai header", "Reserved by X-Robots-Tag."), headers=(("X-Robots-Tag", "noai"),)
        ),
        "/reserved/noai-meta": html(
            _page(
                "noai meta",
                "Reserved by a robots meta tag.",
                head='<meta name="robots" content="noindex, NoAI">',
            )
        ),
        "/reserved/tdm-meta": html(
            _page(
                "TDM meta",
                "Reserved by TDMRep meta.",
                head='<meta name="tdm-reservation" content="1">',
            )
        ),
        "/moved": Reply(
            301, (("Location", "/articles/3"), ("Content-Type", "text/plain")), b"moved\n"
        ),
        "/compressed": Reply(
            200,
            (("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")),
            gzip.compress(_page("Compressed", "Sent gzip-encoded; archived as received.").encode()),
        ),
    }
    return {
        "main": main,
        "down": {
            "/robots.txt": text("temporarily unavailable\n", status=503),
            "/": html(_page("Down", "robots.txt answers 503, so nothing here may be kept.")),
        },
        "open": {
            "/": html(
                _page("Open", "No robots.txt (404): anything may be crawled.", links=["/about"])
            ),
            "/about": html(_page("About", "Kept: robots.txt is unavailable, not unreachable.")),
        },
        "closed": {
            "/robots.txt": text(
                "User-agent: RightsCrawl\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
            ),
            "/": html(_page("Closed", "robots.txt disallows our token here.")),
        },
        "media": media_table(),
    }
