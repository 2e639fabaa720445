"""A library for `scrapy export`: a page in ISO-8859-1, a page written by script, a gallery of
images (a figure with a caption, a <picture>, an image inside a paragraph), a PDF and an EPUB with
text, all built with real libraries (Pillow, fpdf2, ebooklib)."""

from __future__ import annotations

import io

from crawler.demo.server import Handler, Reply, html, routes

ORIGINS = ["library"]

LATIN1_TEXT = "Café crème à la façon de Noël, une histoire très française pour l'été."
PDF_TEXT = "Chapter one of the public report on river water quality"
EPUB_CHAPTERS = ("The first chapter of the open book.", "The second chapter follows it.")
RENDERED_TEXT = "This sentence exists only once the script has run in a browser."
IMAGE_SIZES = {"/img/cat.png": (40, 30), "/img/dog.png": (24, 16), "/img/bird.png": (8, 8)}


def png(size: tuple[int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf() -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.multi_cell(0, 10, PDF_TEXT)
    return bytes(document.output())


def epub() -> bytes:
    import tempfile
    from pathlib import Path

    from ebooklib import epub as ebook

    book = ebook.EpubBook()
    book.set_identifier("library-open-book")
    book.set_title("The open book")
    book.set_language("en")
    chapters = []
    for n, text in enumerate(EPUB_CHAPTERS, 1):
        chapter = ebook.EpubHtml(title=f"Chapter {n}", file_name=f"ch{n}.xhtml", lang="en")
        chapter.content = f"<html><body><h1>Chapter {n}</h1><p>{text}</p></body></html>"
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.add_item(ebook.EpubNcx())
    book.add_item(ebook.EpubNav())
    book.spine = ["nav", *chapters]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.epub"
        ebook.write_epub(str(path), book)
        return path.read_bytes()


GALLERY = """<html><head><title>Gallery</title></head><body>
<article>
<figure><img src="/img/cat.png" alt="A ginger cat"><figcaption>Our cat, asleep</figcaption></figure>
<picture><source srcset="/img/dog.png 1x"><img src="/img/dog-small.png" alt="A small dog"></picture>
<p>Birds visit the garden every morning <img src="img/bird.png" alt="A sparrow"> and sing.</p>
</article></body></html>"""


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    table = {
        "/robots.txt": Reply(200, (("Content-Type", "text/plain"),), b"User-agent: *\nAllow: /\n"),
        "/": html('<a href="/latin1">latin1</a> <a href="/gallery">gallery</a>'),
        "/latin1": Reply(
            200,
            (("Content-Type", "text/html; charset=ISO-8859-1"),),
            f"<html><body><article><p>{LATIN1_TEXT}</p></article></body></html>".encode("latin-1"),
        ),
        "/app": html(
            "<html><body><div id=app></div><script>document.getElementById('app')"
            f".innerHTML = '<article><p>{RENDERED_TEXT}</p></article>';</script></body></html>"
        ),
        "/gallery": html(GALLERY),
        "/report.pdf": Reply(200, (("Content-Type", "application/pdf"),), pdf()),
        "/book.epub": Reply(200, (("Content-Type", "application/epub+zip"),), epub()),
    }
    for path, size in IMAGE_SIZES.items():
        table[path] = Reply(200, (("Content-Type", "image/png"),), png(size))
    return {"library": routes(table)}
