"""Rights metadata of an image, read with Pillow without decoding a pixel.

- XMP: the packet Pillow finds where each format keeps it (JPEG APP1, PNG iTXt
  `XML:com.adobe.xmp`, WebP/AVIF `XMP ` chunk, TIFF tag 700, GIF application extension); its
  contents are read by policies.signals.embedded.xmp_signals (lxml).
- IPTC IIM (JPEG Photoshop APP13, TIFF tag 33723), `PIL.IptcImagePlugin.getiptcinfo`: the
  Copyright Notice (2:116) is licence evidence. IIM has no data-mining field.
- EXIF Copyright (tag 0x8298): licence evidence, not a reservation.

`Image.open` reads the header and metadata segments only; pixels are never loaded, so a
decompression bomb costs nothing here, and Pillow's own bomb check (MAX_IMAGE_PIXELS) refuses to
open past twice its limit — then the caller falls back to scanning the bytes for XMP. Formats are
limited to those the web serves, so a hostile body never reaches an exotic decoder.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from policies.evidence import Signal

# Pillow format names of web images (PIL.Image.registered_extensions()); MPO is multi-picture JPEG.
IMAGE_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "TIFF", "AVIF")


def web_formats() -> list[str]:
    """IMAGE_FORMATS this Pillow opens: Pillow 13 reads MPO through its JPEG plugin and has no
    `MPO` opener, and `Image.open(formats=…)` fails on a name it does not know."""
    from PIL import Image

    Image.init()
    return [name for name in IMAGE_FORMATS if name in Image.OPEN]


EXIF_COPYRIGHT = 0x8298
IIM_COPYRIGHT = (2, 116)
IIM_CODED_CHARSET = (1, 90)
_UTF8_ESCAPE = b"\x1b%G"  # IIM 1:90 "ESC % G": the text datasets are UTF-8


@dataclass(frozen=True, slots=True)
class ImageMetadata:
    opened: bool  # Pillow recognised the image; else `problem` says why
    xmp: bytes | None = None
    licence: tuple[Signal, ...] = ()  # EXIF / IIM copyright statements, kind "license"
    problem: str | None = None


def _text(value: bytes | str, utf8: bool) -> str:
    if isinstance(value, str):
        return value
    try:
        return value.decode("utf-8" if utf8 else "latin-1")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def read_image(body: bytes) -> ImageMetadata:
    from PIL import Image, IptcImagePlugin

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(body), formats=web_formats())
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for unreadable input
        return ImageMetadata(False, problem=f"Pillow: {type(exc).__name__}: {exc}")
    with image:
        xmp = image.info.get("xmp")
        if isinstance(xmp, str):
            xmp = xmp.encode("utf-8")
        licence: list[Signal] = []
        problems: list[str] = []
        try:
            exif_copyright = image.getexif().get(EXIF_COPYRIGHT)
        except Exception as exc:  # noqa: BLE001 - a malformed EXIF block
            exif_copyright = None
            problems.append(f"EXIF unreadable: {type(exc).__name__}: {exc}")
        if isinstance(exif_copyright, bytes | str):
            # EXIF 2.32 §4.6.5: "photographer NUL editor"; either part may be a single space.
            parts = [p.strip() for p in _text(exif_copyright, True).split("\x00")]
            value = " / ".join(p for p in parts if p)
            if value:
                licence.append(Signal("license", "exif:Copyright", value, "unknown"))
        try:
            iptc = IptcImagePlugin.getiptcinfo(image) or {}
        except Exception as exc:  # noqa: BLE001 - a malformed APP13 / IIM block
            iptc = {}
            problems.append(f"IPTC IIM unreadable: {type(exc).__name__}: {exc}")
        notices = iptc.get(IIM_COPYRIGHT, [])
        utf8 = iptc.get(IIM_CODED_CHARSET) == _UTF8_ESCAPE
        for notice in notices if isinstance(notices, list) else [notices]:
            value = _text(notice, utf8).strip()
            if value:
                licence.append(Signal("license", "iptc-iim:2:116", value, "unknown"))
    if problems:
        licence.append(Signal("image-metadata", "image", "", "unknown", problems=tuple(problems)))
    return ImageMetadata(True, xmp, tuple(licence))
