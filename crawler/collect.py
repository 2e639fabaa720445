"""What a crawl collects: which kinds of files the `corpus` spider requests (`COLLECT`,
`-a collect=`), how big each may be (`COLLECT_MAX_SIZE`), and what kind a URL or a response is.

    html        pages (always collected: pages are what the crawl follows links through)
    documents   PDF, EPUB and the office formats a text corpus uses
    images      <img src>, the largest candidate of each srcset, <picture><source>, <video
                poster>, and linked image files
    audio       <audio src>, <audio><source>, linked audio files
    video       <video src>, <video><source>, linked video files

A kind is chosen from the URL (its extension, or the element that embeds it) when the request is
made, and confirmed by the response's Content-Type: a `.pdf` that answers `text/html` is a page.
A response of a kind that was not asked for (a link without extension answering a video) is still
decided and, when kept, archived, with `detail.kind` saying what it is: `collect` chooses what is
requested; it never throws away bytes the gate has already judged (export filters by kind).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from crawler.contracts import SettingError, kind_of_type

# `-a collect=` names (plural, as a user lists them) → the kind a decision records.
KINDS = {"html": "html", "documents": "document", "images": "image", "audio": "audio",
         "video": "video"}  # fmt: skip
DEFAULT_COLLECT = "html,documents"
MIB = 1024 * 1024
# Sized for real files, bounded by memory: Scrapy holds a body whole, twice while it is archived.
DEFAULT_MAX_SIZE = {"documents": 100 * MIB, "images": 20 * MIB, "audio": 100 * MIB,
                    "video": 256 * MIB}  # fmt: skip

EXTENSIONS = {
    "document": ("pdf", "epub", "doc", "docx", "odt", "rtf", "xls", "xlsx", "ods", "ppt", "pptx",
                 "odp"),
    "image": ("jpg", "jpeg", "png", "gif", "webp", "avif", "heic", "heif", "jxl", "tif", "tiff",
              "bmp", "svg"),
    "audio": ("mp3", "m4a", "aac", "oga", "ogg", "opus", "wav", "flac", "weba"),
    "video": ("mp4", "m4v", "webm", "mov", "mkv", "ogv", "avi", "mpg", "mpeg", "3gp", "wmv"),
}  # fmt: skip
_BY_EXTENSION = {ext: kind for kind, exts in EXTENSIONS.items() for ext in exts}


class CollectError(SettingError):
    """`-a collect=` / COLLECT / COLLECT_MAX_SIZE that cannot be used."""


def parse_collect(value: str | Iterable[str] | None) -> frozenset[str]:
    """The kinds to collect (singular names: html, document, image …) from `html,documents,…`."""
    if value is None:
        value = DEFAULT_COLLECT
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [n.strip().lower() for n in names if n.strip()]
    unknown = [n for n in names if n not in KINDS]
    if unknown:
        raise CollectError(
            f"-a collect= takes {', '.join(KINDS)}, not {', '.join(map(repr, unknown))}"
        )
    if "html" not in names:
        raise CollectError(
            "-a collect= must include html: pages are what the crawl follows links through"
        )
    return frozenset(KINDS[n] for n in names)


def parse_max_size(value: Mapping[str, Any] | None, html_limit: int) -> dict[str, int]:
    """Per-kind download caps (bytes): COLLECT_MAX_SIZE over the defaults; html is
    DOWNLOAD_MAXSIZE unless the mapping names it."""
    merged: dict[str, Any] = {**DEFAULT_MAX_SIZE, **dict(value or {})}
    limits = {"html": html_limit}
    for name, size in merged.items():
        if name not in KINDS:
            raise CollectError(
                f"Setting COLLECT_MAX_SIZE: no kind {name!r} (kinds: {', '.join(KINDS)})"
            )
        try:
            size = int(size)
        except (TypeError, ValueError):
            raise CollectError(
                f"Setting COLLECT_MAX_SIZE[{name!r}] must be a whole number of bytes, not {size!r}"
            ) from None
        if size < 1:
            raise CollectError(f"Setting COLLECT_MAX_SIZE[{name!r}] must be at least 1")
        limits[KINDS[name]] = size
    return limits


def kind_of_url(url: str) -> str:
    """The kind a URL's extension says (`html` when it says nothing we know)."""
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    _, dot, ext = name.rpartition(".")
    return _BY_EXTENSION.get(ext.lower(), "html") if dot else "html"


def confirmed_kind(requested: str, content_type: str) -> str:
    """What a response is: its Content-Type's kind, else the kind it was requested as."""
    return kind_of_type(content_type) or requested


# -- media embedded in a page ---------------------------------------------------------------

# (XPath of the attribute, kind it embeds, whether it is a srcset).
_EMBEDS = (
    ("//img/@src", "image", False),
    ("//img/@srcset", "image", True),
    ("//picture/source/@srcset", "image", True),
    ("//picture/source/@src", "image", False),
    ("//video/@poster", "image", False),
    ("//audio/@src", "audio", False),
    ("//audio/source/@src", "audio", False),
    ("//video/@src", "video", False),
    ("//video/source/@src", "video", False),
)
_DESCRIPTOR = re.compile(r"^\s*(\d+(?:\.\d+)?)([wx])\s*$", re.IGNORECASE)


def srcset_candidates(value: str) -> list[tuple[str, float]]:
    """The (URL, size) candidates of a srcset (HTML §4.8.4.3.10, simplified: descriptors other
    than one `Nw` or `Nx` count as 1x). Sizes compare within one srcset only."""
    candidates = []
    position, length = 0, len(value)
    while position < length:
        while position < length and (value[position].isspace() or value[position] == ","):
            position += 1
        start = position
        while position < length and not value[position].isspace():
            position += 1
        url = value[start:position]
        if not url:
            break
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            start, depth = position, 0
            while position < length and (value[position] != "," or depth):
                depth += {"(": 1, ")": -1}.get(value[position], 0)
                position += 1
            descriptor = value[start:position]
        match = _DESCRIPTOR.match(descriptor)
        candidates.append((url, float(match.group(1)) if match else 1.0))
    return [(url, size) for url, size in candidates if url]


def embedded_media(selector: Any, kinds: frozenset[str]) -> Iterator[tuple[str, str]]:
    """(URL as written, kind) of the media a page embeds, for the kinds collected: each src, and
    the largest candidate of each srcset. `selector`: the page's Scrapy Selector."""
    for xpath, kind, is_srcset in _EMBEDS:
        if kind not in kinds:
            continue
        for value in selector.xpath(xpath).getall():
            if is_srcset:
                candidates = srcset_candidates(value)
                if candidates:
                    yield max(candidates, key=lambda c: c[1])[0], kind
            elif value.strip():
                yield value.strip(), kind
