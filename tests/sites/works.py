"""Works that travel: a studio's still and a publisher's book republished on sites that are not
theirs, for works-level registry entries (tests/test_works.py). Built by real libraries: Pillow
(the still and its re-encoded copy), pyexiv2 (XMP), ebooklib (the EPUB), fpdf2 (the PDF).

- `fansite`: a page about the still whose JSON-LD names the studio as `copyrightHolder`, the still
  itself with the studio in its XMP (`xmpRights:Owner`, `plus:CopyrightOwner`), an unrelated page
  and image (kept);
- `mirror`: the still re-encoded (smaller, JPEG quality 60, metadata stripped) on another origin;
- `bookshop`: a book page (`citation_isbn`, hyphenated ISBN-13), its EPUB (OPF
  `dc:identifier urn:isbn:…`), a PDF by the studio (`/Author`), and another book's page (kept).
"""

from __future__ import annotations

import io
import random
import tempfile
from functools import cache
from pathlib import Path

from crawler.demo.server import Handler, Reply, html, routes

ORIGINS = ["fansite", "mirror", "bookshop"]
STUDIO = "Hãng Phim Ánh Sáng"  # the rights holder as its works name it
ISBN_13 = "978-0-306-40615-7"
ISBN_10 = "0-306-40615-2"  # the same book, as a registry may list it
TEXT = (
    "The river rose in the night and the village woke to water at the doors. "
    "Nobody spoke of the old dam, though everyone thought of it. "
) * 6
ROBOTS = Reply(200, (("Content-Type", "text/plain"),), b"User-agent: *\nAllow: /\n")


def picture(seed: int):
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (640, 480), (rng.randint(0, 255),) * 3)
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randint(0, 600), rng.randint(0, 440)
        colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        draw.ellipse([x, y, x + rng.randint(20, 200), y + rng.randint(20, 200)], fill=colour)
    return image


@cache
def still() -> bytes:
    """The studio's still as it publishes it."""
    out = io.BytesIO()
    picture(1).save(out, "JPEG", quality=95)
    return out.getvalue()


@cache
def still_with_owner() -> bytes:
    from tests import media

    return media.with_metadata(
        still(),
        xmp={
            "Xmp.xmpRights.Owner": STUDIO,
            "Xmp.dc.rights": f"© 2026 {STUDIO}. All rights reserved.",
        },
    )


@cache
def reencoded() -> bytes:
    """The still as a mirror republishes it: resized, recompressed, metadata gone."""
    from PIL import Image

    out = io.BytesIO()
    with Image.open(io.BytesIO(still())) as image:
        image.resize((576, 432)).save(out, "JPEG", quality=60)
    return out.getvalue()


@cache
def other_image() -> bytes:
    out = io.BytesIO()
    picture(2).save(out, "JPEG", quality=90)
    return out.getvalue()


@cache
def epub(isbn: str) -> bytes:
    from ebooklib import epub as ebook

    book = ebook.EpubBook()
    book.set_identifier(f"urn:isbn:{isbn}")
    book.set_title("The river")
    book.set_language("en")
    chapter = ebook.EpubHtml(title="One", file_name="ch1.xhtml", lang="en")
    chapter.content = f"<html><body><h1>One</h1><p>{TEXT}</p></body></html>"
    book.add_item(chapter)
    book.toc = [chapter]
    book.add_item(ebook.EpubNcx())
    book.add_item(ebook.EpubNav())
    book.spine = ["nav", chapter]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.epub"
        ebook.write_epub(str(path), book)
        return path.read_bytes()


@cache
def pdf() -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.set_author(STUDIO)
    document.add_page()
    document.set_font("helvetica", size=12)
    document.multi_cell(0, 10, "Production notes")
    return bytes(document.output())


STILL_PAGE = f"""<html><head><title>Still</title>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "ImageObject",
"contentUrl": "/still.jpg", "copyrightHolder": {{"@type": "Organization", "name": "{STUDIO}"}}}}
</script></head><body><img src="/still.jpg"><p>{TEXT}</p></body></html>"""
BOOK_PAGE = f"""<html><head><title>The river</title>
<meta name="citation_title" content="The river"><meta name="citation_isbn" content="{ISBN_13}">
</head><body><a href="/river.epub">EPUB</a><p>A novel.</p></body></html>"""
OTHER_BOOK = """<html><head><title>Another</title>
<meta name="citation_isbn" content="978-1-4028-9462-6"></head><body><p>Other.</p></body></html>"""


def jpeg(data: bytes) -> Reply:
    return Reply(200, (("Content-Type", "image/jpeg"),), data)


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    fansite = {
        "/robots.txt": ROBOTS,
        "/still": html(STILL_PAGE),
        "/still.jpg": jpeg(still_with_owner()),
        "/about": html(f"<p>A fan site by a fan. {TEXT[:80]}</p>"),
        "/other.jpg": jpeg(other_image()),
    }
    mirror = {"/robots.txt": ROBOTS, "/copy.jpg": jpeg(reencoded())}
    bookshop = {
        "/robots.txt": ROBOTS,
        "/river": html(BOOK_PAGE),
        "/river.epub": Reply(
            200, (("Content-Type", "application/epub+zip"),), epub(ISBN_13.replace("-", ""))
        ),
        "/notes.pdf": Reply(200, (("Content-Type", "application/pdf"),), pdf()),
        "/other": html(OTHER_BOOK),
    }
    return {
        "fansite": routes(fansite),
        "mirror": routes(mirror),
        "bookshop": routes(bookshop),
    }
