"""Media whose rights are embedded in the file, for the end-to-end crawl of
tests/test_embedded_crawl.py: C2PA manifests signed by c2pa-python (reserving, permitting,
corrupt, in a JPEG, a PNG and a PDF), XMP and IPTC written by pyexiv2, and `noimageai` / `noai`
headers on images and pages. Built once per process by real libraries (tests/media.py); each
body carries its name as a marker, so a test finds its bytes in a WARC file without knowing them."""

from __future__ import annotations

import io

from crawler.demo.server import Handler, Reply, html, routes, text
from tests import media

ORIGINS = ["media"]
LICENCE = "https://example.com/licences/photo"
# path -> (Content-Type, extra headers): the files; the bodies are built in `files()`.
NOT_ALLOWED = media.training_mining(ai_generative_training="notAllowed", ai_training="notAllowed")
ALLOWED = media.training_mining(
    ai_training="allowed", ai_generative_training="allowed", data_mining="allowed"
)


def marker(path: str) -> bytes:
    return f"rightscrawl-marker{path}".encode()


def _pdf(path: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (30, 20), (20, 20, 160)).save(out, "PDF", title=marker(path).decode())
    return out.getvalue()


def files() -> dict[str, tuple[str, bytes, tuple[tuple[str, str], ...]]]:
    def jpeg(path: str) -> bytes:
        return media.image("JPEG", marker(path).decode())

    def png(path: str) -> bytes:
        return media.image("PNG", marker(path).decode())

    prohibited = {"Xmp.plus.DataMining": media.DMI + "DMI-PROHIBITED-GENAIMLTRAINING"}
    return {
        "/c2pa-reserved.jpg": (
            "image/jpeg",
            media.signed(jpeg("/c2pa-reserved.jpg"), "image/jpeg", NOT_ALLOWED),
            (),
        ),
        "/c2pa-allowed.png": (
            "image/png",
            media.signed(png("/c2pa-allowed.png"), "image/png", ALLOWED),
            (),
        ),
        "/c2pa-corrupt.jpg": (
            "image/jpeg",
            media.corrupt_manifest(media.signed(jpeg("/c2pa-corrupt.jpg"), "image/jpeg", ALLOWED)),
            (),
        ),
        "/c2pa-reserved.pdf": (
            "application/pdf",
            media.signed(
                _pdf("/c2pa-reserved.pdf"),
                "application/pdf",
                media.training_mining(data_mining="constrained"),
            ),
            (),
        ),
        "/iptc-reserved.jpg": (
            "image/jpeg",
            media.with_metadata(jpeg("/iptc-reserved.jpg"), xmp=prohibited),
            (),
        ),
        "/tdm-reserved.png": (
            "image/png",
            media.with_metadata(png("/tdm-reserved.png"), xmp={"Xmp.tdm.reservation": "1"}),
            (),
        ),
        "/credited.jpg": (
            "image/jpeg",
            media.with_metadata(
                jpeg("/credited.jpg"),
                xmp={"Xmp.xmpRights.WebStatement": LICENCE},
                iptc={"Iptc.Application2.Copyright": "(c) Jane Doe"},
                exif={"Exif.Image.Copyright": "Jane Doe"},
            ),
            (),
        ),
        "/noimageai.jpg": ("image/jpeg", jpeg("/noimageai.jpg"), (("X-Robots-Tag", "noimageai"),)),
    }


_BUILT: dict[str, Reply] | None = None


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    global _BUILT
    if _BUILT is None:  # signatures are randomised: built once, so every request gets the same
        _BUILT = {
            path: Reply(200, (("Content-Type", mime), *headers), body)
            for path, (mime, body, headers) in files().items()
        }
    table: dict[str, Reply] = {
        "/robots.txt": text("User-agent: *\nAllow: /\n"),
        "/": html('<a href="/page-noimageai">images reserved</a> <a href="/noai-page">noai</a>'),
        # noimageai on a page reserves its images, not its text: the page is kept.
        "/page-noimageai": html(
            '<meta name="robots" content="noimageai"><p>Page text, kept.</p>',
            headers=(("X-Robots-Tag", "noimageai"),),
        ),
        "/noai-page": html(
            "<p>rightscrawl-marker/noai-page</p>", headers=(("X-Robots-Tag", "noai"),)
        ),
        **_BUILT,
    }
    return {"media": routes(table)}
