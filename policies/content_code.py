"""ISCC content codes (ISO 24138:2024) of a kept document, computed with iscc-core, so a registry
entry of scope `iscc` catches a reserved work republished elsewhere — re-encoded, resized,
re-wrapped in another page.

- Images: the Image-Code (64 bits) of the image as iscc-sdk normalises it (EXIF orientation
  applied, transparency flattened on white, grey-scale, 32×32 bicubic). Only JPEG/PNG/WebP/GIF/
  TIFF/AVIF are decoded, with JPEG's draft mode so a large photo is decoded at 1/8 scale, and
  nothing past Pillow's decompression-bomb limit.
- HTML: the Text-Code (64 bits) of the page's text (the `<body>` without scripts, styles and
  templates); iscc-core normalises it (NFKC, case, whitespace) before its MinHash.

Codes of one kind (Image with Image, Text with Text) match when their Hamming distance is at most
`MAX_DISTANCE` bits of 64. Measured on the fixtures of tests/test_works.py: a JPEG re-encoded at
quality 60 and resized to 90 % is within 2 bits of its original; unrelated images differ by
~32. Text-Codes of a text with a different navigation around it differ by a few bits.
"""

from __future__ import annotations

import base64
import io
import re
import warnings
from collections.abc import Iterable
from typing import Any

MAX_DISTANCE = 8
# Below this many characters a Text-Code says little (iscc-core hashes 13-character n-grams).
MIN_TEXT_CHARS = 200
_VISIBLE_TEXT = (
    ".//text()[not(ancestor::script or ancestor::style or ancestor::template"
    " or ancestor::noscript)]"
)


def image_code(body: bytes) -> str | None:
    """The ISCC Image-Code of an image, or None when it cannot be decoded."""
    import iscc_core
    from PIL import Image, ImageOps

    from policies.signals.image_metadata import web_formats

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body), formats=web_formats()) as image:
                image.draft("L", (64, 64))  # JPEG: decode at a reduced scale
                image = ImageOps.exif_transpose(image)
                if image.mode in ("RGBA", "LA", "P", "PA"):
                    image = image.convert("RGBA")
                    background = Image.new("RGBA", image.size, (255, 255, 255, 255))
                    image = Image.alpha_composite(background, image)
                pixels = image.convert("L").resize((32, 32), Image.Resampling.BICUBIC)
                data = list(pixels.tobytes())  # mode L: one byte a pixel
    except Exception:  # noqa: BLE001 - Pillow raises many types for unreadable or bomb input
        return None
    return iscc_core.gen_image_code_v0(data, bits=64)["iscc"]


def html_text(root: Any) -> str:
    """The visible text of an HTML tree's body."""
    body = next(iter(root.iter("body")), root)
    return " ".join(" ".join(body.xpath(_VISIBLE_TEXT)).split())


def text_code(text: str) -> str | None:
    """The ISCC Text-Code of a text, or None when it is too short to say anything."""
    import iscc_core

    if len(text) < MIN_TEXT_CHARS:
        return None
    return iscc_core.gen_text_code_v0(text, bits=64)["iscc"]


def document_code(
    content_type: str, body: bytes, html_root: Any = None, kinds: Iterable[str] = ("image", "text")
) -> str | None:
    """The content code of a document, if it is of one of `kinds`: a page's Text-Code, an
    image's Image-Code."""
    if html_root is not None:
        return text_code(html_text(html_root)) if "text" in kinds else None
    if content_type.startswith("image/") and "image" in kinds:
        return image_code(body)
    return None


# A 64-bit Text- or Image-Code unit as iscc-core writes it: "ISCC:" and 16 base32 characters of
# a 2-byte header (main type CONTENT, subtype, version 0, length 64 bits) and the 8-byte body.
_UNIT = re.compile(r"ISCC:([A-Z2-7]{16})")
_UNIT_KINDS = {b"\x20\x01": "text", b"\x21\x01": "image"}


def parse(code: str) -> tuple[str, int] | None:
    """(`image` or `text`, the 64-bit body) of an ISCC content code, or None if it is not one."""
    unit = _UNIT.fullmatch(code.strip())
    if unit is not None:  # the usual form, read directly: a registry holds 100,000s of them
        raw = base64.b32decode(unit.group(1))
        kind = _UNIT_KINDS.get(raw[:2])
        return (kind, int.from_bytes(raw[2:], "big")) if kind else None
    import iscc_core

    try:
        normal = iscc_core.iscc_normalize(code.strip())
        maintype, subtype, _, length, body = iscc_core.iscc_decode(normal)
    except Exception:  # noqa: BLE001 - iscc-core raises ValueError and others for bad input
        return None
    if maintype != iscc_core.MT.CONTENT or len(body) != 8:
        return None
    kind = {iscc_core.ST_CC.IMAGE: "image", iscc_core.ST_CC.TEXT: "text"}.get(subtype)
    return (kind, int.from_bytes(body, "big")) if kind else None
