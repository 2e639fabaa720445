"""Hand a training team a dataset that carries its provenance.

Withdrawn captures are in no output: not in the rows, and not in the WACZ, which packages copies
of the WARC files without their exchanges (the files themselves are evidence and stay as written).

Text (`corpus.*`): one row per kept, not withdrawn page or document (revisits of an unchanged
capture are not repeated): its kind, the main text (trafilatura for pages — the rendered DOM of a
rendered page, the served bytes decoded by their HTTP charset otherwise; pypdf for PDF; the
spine's chapters for EPUB), the URL, when it was fetched, where its bytes are (WARC file, record
id, payload digest), its licence, and the profile and reasons of its decision.
Images (`images.*`, `--modality image`): one row per kept image with the page that shows it (alt
text, caption, surrounding text), its size, digest, WARC location, licence evidence and the
signals its decision read. As JSON Lines or Parquet (`datasets.load_dataset("parquet", …)`), or
the WARC files packaged as WACZ (CDXJ index, pages list, datapackage with digests) for replay.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import posixpath
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from rich.progress import track
from sqlalchemy import select
from sqlalchemy.orm import Session
from w3lib.encoding import html_to_unicode
from warcio.timeutils import datetime_to_iso_date

from crawler.contracts import OTHER, kind_of_type
from pipelines import models
from pipelines.warc_filter import copy_without
from pipelines.warc_reader import StoredCapture, read_capture
from pipelines.withdraw import withdrawn_captures, withdrawn_record_ids

logger = logging.getLogger(__name__)

PDF_TYPE, EPUB_TYPE = "application/pdf", "application/epub+zip"
EPUB_MEMBER_MAX = 16 * 1024 * 1024  # bytes read of one EPUB chapter (the archive is bounded too)
EPUB_TEXT_MAX = 256 * 1024 * 1024  # bytes of chapters read in all


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def kind_of(content_type: str | None) -> str:
    """html, document, image, audio, video or other, by the response's Content-Type."""
    return kind_of_type(content_type or "") or OTHER


def _iso(value) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def kept_captures(
    db_url: str, kinds: tuple[str, ...] = ("html",), *, withdrawn_too: bool = False
) -> list[tuple[models.Capture, dict[str, Any]]]:
    """Kept captures of these kinds, oldest first, with their decision's provenance JSON; not
    withdrawn ones (unless asked), and no revisit (its payload is a capture listed already)."""
    engine = models.create_engine(db_url)
    try:
        with Session(engine) as session:
            withdrawn = withdrawn_record_ids(session)
            rows = session.execute(
                select(models.Capture, models.Decision.detail)
                .join(models.Decision, models.Decision.id == models.Capture.decision_id)
                .order_by(models.Capture.id)
            )
            return [
                (capture, detail or {})
                for capture, detail in rows
                if (withdrawn_too or capture.record_id not in withdrawn)
                and capture.revisit_of is None
                and kind_of(capture.content_type) in kinds
            ]
    finally:
        engine.dispose()


def kept_html_captures(db_url: str) -> list[tuple[models.Capture, dict[str, Any]]]:
    return kept_captures(db_url, ("html",))


def page_text(capture: models.Capture, stored: StoredCapture) -> str:
    """A page's main text: the rendered DOM when a browser built one, else the page as served,
    decoded as a browser would (HTTP charset, then BOM, then <meta charset>)."""
    import trafilatura  # an optional dependency: the `export` extra

    if stored.rendered_dom is not None:
        html = stored.rendered_dom.decode("utf-8", "replace")
    else:
        _, html = html_to_unicode(capture.content_type, stored.payload)
    return trafilatura.extract(html, url=capture.url, include_comments=False) or ""


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n\n".join(page.extract_text() or "" for page in reader.pages).strip()


def epub_text(data: bytes) -> str:
    """The chapters of an EPUB in reading order (its package document's spine)."""
    import trafilatura
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:

        def member(name: str, limit: int = EPUB_MEMBER_MAX) -> bytes:
            with archive.open(name) as stream:
                return stream.read(limit)

        container = etree.fromstring(member("META-INF/container.xml"))
        opf_path = container.find(".//{*}rootfile").get("full-path")
        opf = etree.fromstring(member(opf_path))
        base = posixpath.dirname(opf_path)
        hrefs = {
            item.get("id"): item.get("href") for item in opf.iterfind(".//{*}manifest/{*}item")
        }
        chapters, budget = [], EPUB_TEXT_MAX
        for itemref in opf.iterfind(".//{*}spine/{*}itemref"):
            href = hrefs.get(itemref.get("idref"))
            if not href or budget <= 0:
                continue
            body = member(posixpath.normpath(posixpath.join(base, href)))
            budget -= len(body)
            chapters.append(trafilatura.extract(body, include_comments=False) or "")
        return "\n\n".join(c for c in chapters if c).strip()


def document_text(capture: models.Capture, stored: StoredCapture) -> str | None:
    """Text of a PDF or EPUB (None for formats without an extractor, or a file that cannot be
    read: the row stays, so the dataset lists every kept document)."""
    media = media_type(capture.content_type)
    try:
        if media == PDF_TYPE:
            return pdf_text(stored.payload)
        if media == EPUB_TYPE:
            return epub_text(stored.payload)
    except ImportError:
        raise
    except Exception as exc:  # a broken file: its row says nothing about its text
        logger.warning("No text from %(url)s: %(error)r", {"url": capture.url, "error": exc})
    return None


def licences_of(detail: dict[str, Any]) -> list[str]:
    found = [detail["license"]] if detail.get("license") else []
    # Older rows (before the top-level field was filled) carry it only among the signals.
    found += [s["value"] for s in detail.get("signals", []) if s.get("kind") == "license"]
    return list(dict.fromkeys(v for v in found if v))


def rows(db_url: str, warc_dir: str | Path, *, progress: bool = False) -> Iterator[dict[str, Any]]:
    import trafilatura  # noqa: F401 - the `export` extra: fail before reading anything

    warc_dir = Path(warc_dir)
    captures = kept_captures(db_url, ("html", "document"))
    for capture, detail in track(
        captures, description="Extracting text", transient=True, disable=not progress
    ):
        stored = read_capture(warc_dir / capture.warc_file, capture.warc_offset)
        kind = kind_of(capture.content_type)
        text = page_text(capture, stored) if kind == "html" else document_text(capture, stored)
        licences = licences_of(detail)
        yield {
            "url": capture.url,
            "kind": kind,
            "content_type": media_type(capture.content_type) or None,
            "text": text,
            "fetched_at": _iso(capture.fetched_at),
            "warc_file": capture.warc_file,
            "warc_record_id": capture.record_id,
            "payload_digest": capture.payload_digest,
            "license": licences[0] if licences else None,
            "profile": detail.get("policy", {}).get("profile"),
            "profile_sha256": detail.get("policy", {}).get("sha256"),
            "reasons": detail.get("reasons", []),
            "run_id": capture.run_id,
        }


@dataclass(slots=True)
class ImageContext:
    """Where a page shows an image: the page, its alt text, caption and the text around it."""

    page_url: str
    alt: str | None = None
    caption: str | None = None
    surrounding_text: str | None = None


SURROUNDING_MAX = 1000  # characters of text around an image


def _clean(text: str | None, limit: int = SURROUNDING_MAX) -> str | None:
    text = " ".join((text or "").split())
    return text[:limit] or None


def image_contexts(page_url: str, html: str) -> Iterator[tuple[str, ImageContext]]:
    """(image URL, context) for every image a page shows or links: <img src/srcset>,
    <picture><source srcset>, and links whose target is then collected as an image."""
    from lxml import html as lxml_html

    try:
        root = lxml_html.fromstring(html)
    except (ValueError, lxml_html.etree.ParserError):
        return
    base = next((b.get("href") for b in root.iterfind(".//base[@href]")), None)
    base = urljoin(page_url, base) if base else page_url
    for element in root.iter("img", "source", "a"):
        if element.tag == "a":
            candidates = [element.get("href")]
            alt = element.text_content()
        else:
            srcset = element.get("srcset") or ""
            candidates = [element.get("src")] + [c.strip().split(" ")[0] for c in srcset.split(",")]
            alt = element.get("alt")
            if element.tag == "source":  # <picture>: its <img> says what every source shows
                picture = next(element.iterancestors("picture"), None)
                # (libxml2 does not know <source> is empty: the <img> may be inside it)
                img = picture.find(".//img") if picture is not None else None
                alt = img.get("alt") if img is not None else None
        figure = next((a for a in element.iterancestors("figure")), None)
        caption = figure.find(".//figcaption") if figure is not None else None
        block = next(
            (a for a in element.iterancestors("p", "figure", "li", "section", "article", "div")),
            None,
        )
        context = ImageContext(
            page_url=page_url,
            alt=_clean(alt),
            caption=_clean(caption.text_content()) if caption is not None else None,
            surrounding_text=_clean(block.text_content()) if block is not None else None,
        )
        for candidate in candidates:
            if candidate and not candidate.startswith("data:"):
                yield urldefrag(urljoin(base, candidate.strip()))[0], context


def image_rows(
    db_url: str, warc_dir: str | Path, *, progress: bool = False
) -> Iterator[dict[str, Any]]:
    """One row per kept image, with the page that shows it. An image shown only by withdrawn
    pages is left out with them."""
    from PIL import Image

    warc_dir = Path(warc_dir)
    contexts: dict[str, ImageContext] = {}
    withdrawn_pages: set[str] = set()
    engine = models.create_engine(db_url)
    try:
        with Session(engine) as session:
            withdrawn = withdrawn_record_ids(session)
    finally:
        engine.dispose()
    for capture, _ in kept_captures(db_url, ("html",), withdrawn_too=True):
        stored = read_capture(warc_dir / capture.warc_file, capture.warc_offset)
        if stored.rendered_dom is not None:
            html = stored.rendered_dom.decode("utf-8", "replace")
        else:
            _, html = html_to_unicode(capture.content_type, stored.payload)
        for image_url, context in image_contexts(capture.url, html):
            if capture.record_id in withdrawn:
                withdrawn_pages.add(image_url)
            else:
                contexts.setdefault(image_url, context)
    images = kept_captures(db_url, ("image",))
    for capture, detail in track(
        images, description="Reading images", transient=True, disable=not progress
    ):
        context = contexts.get(capture.url)
        if context is None and capture.url in withdrawn_pages:
            continue  # shown only by pages withdrawn since
        stored = read_capture(warc_dir / capture.warc_file, capture.warc_offset)
        try:
            with Image.open(io.BytesIO(stored.payload)) as image:
                width, height = image.size  # from the header: no pixel is decoded
        except Exception:  # a format Pillow does not open (SVG …) or a broken file
            width = height = None
        yield {
            "image_url": capture.url,
            "page_url": context.page_url if context else None,
            "alt": context.alt if context else None,
            "caption": context.caption if context else None,
            "surrounding_text": context.surrounding_text if context else None,
            "width": width,
            "height": height,
            "mime_type": media_type(capture.content_type) or None,
            "sha256": hashlib.sha256(stored.payload).hexdigest(),
            "fetched_at": _iso(capture.fetched_at),
            "warc_file": capture.warc_file,
            "warc_offset": capture.warc_offset,
            "warc_record_id": capture.record_id,
            "licenses": licences_of(detail),
            "reservations_checked": [
                {k: None if s.get(k) is None else str(s.get(k)) for k in SIGNAL_FIELDS}
                for s in detail.get("signals", [])
            ],
            "profile": detail.get("policy", {}).get("profile"),
            "run_id": capture.run_id,
        }


SIGNAL_FIELDS = ("kind", "source", "value", "verdict", "reason")


def _schemas():
    """Typed columns: an empty list or an export with no rows keeps its types (datasets)."""
    import pyarrow as pa

    text = pa.string()
    corpus = pa.schema(
        [
            *((name, text) for name in ("url", "kind", "content_type", "text", "fetched_at")),
            *((name, text) for name in ("warc_file", "warc_record_id", "payload_digest")),
            *((name, text) for name in ("license", "profile", "profile_sha256")),
            ("reasons", pa.list_(text)),
            ("run_id", text),
        ]
    )
    signal = pa.struct([(name, text) for name in SIGNAL_FIELDS])
    images = pa.schema(
        [
            *((name, text) for name in ("image_url", "page_url", "alt", "caption")),
            ("surrounding_text", text),
            ("width", pa.int64()),
            ("height", pa.int64()),
            *((name, text) for name in ("mime_type", "sha256", "fetched_at", "warc_file")),
            ("warc_offset", pa.int64()),
            ("warc_record_id", text),
            ("licenses", pa.list_(text)),
            ("reservations_checked", pa.list_(signal)),
            ("profile", text),
            ("run_id", text),
        ]
    )
    return {"text": corpus, "image": images}


MODALITIES = ("text", "image")


def export(
    db_url: str,
    warc_dir: str | Path,
    out: str | Path,
    fmt: str,
    *,
    modality: str = "text",
    progress: bool = False,
) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "wacz":
        return export_wacz(db_url, warc_dir, out)
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}: text or image")
    produce = rows if modality == "text" else image_rows
    name = "corpus" if modality == "text" else "images"
    if fmt == "jsonl":
        path = out / f"{name}.jsonl"
        with open(path, "w", encoding="utf-8") as stream:
            for row in produce(db_url, warc_dir, progress=progress):
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        return path
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = out / f"{name}.parquet"
        rows_list = list(produce(db_url, warc_dir, progress=progress))
        pq.write_table(pa.Table.from_pylist(rows_list, schema=_schemas()[modality]), path)
        return path
    raise ValueError(f"unknown export format {fmt!r}: jsonl, parquet or wacz")


def export_wacz(db_url: str, warc_dir: str | Path, out: Path) -> Path:
    """WACZ via the `wacz` tool, without withdrawn captures: a WARC file holding one is packaged
    as a copy without its exchanges (pipelines/warc_filter.py; the file itself is evidence and
    stays as it is), and the pages list names the kept, not withdrawn HTML captures."""
    from wacz.main import main as wacz_main

    engine = models.create_engine(db_url)
    try:
        with Session(engine) as session:
            withdrawn = withdrawn_captures(session)
            in_files: dict[str, set[str]] = {}
            for record_id, warc_file in session.execute(
                select(models.Capture.record_id, models.Capture.warc_file)
            ):
                if record_id in withdrawn:
                    in_files.setdefault(warc_file, set()).add(record_id)
    finally:
        engine.dispose()
    pages = out / "pages.jsonl"
    lines = [json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "Kept pages"})]
    for capture, _ in kept_html_captures(db_url):
        when = (
            capture.fetched_at.astimezone(UTC).replace(tzinfo=None)
            if capture.fetched_at.tzinfo
            else capture.fetched_at
        )
        lines.append(json.dumps({"url": capture.url, "ts": datetime_to_iso_date(when)}))
    pages.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = out / "corpus.wacz"
    left_out = sum(len(ids) for ids in in_files.values())
    with tempfile.TemporaryDirectory(dir=out, prefix=".wacz-") as copies:
        warcs = []
        for source in sorted(Path(warc_dir).glob("*.warc.gz")):
            if source.name in in_files:  # same name: the index and the captures rows agree
                copy_without(source, Path(copies) / source.name, in_files[source.name])
                source = Path(copies) / source.name
            warcs.append(str(source))
        description = (
            f"Kept captures of a rightscrawl crawl; {left_out} withdrawn capture(s) left out"
        )
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the path we print
            status = wacz_main(
                ["create", "-o", str(path), "-p", str(pages), "--desc", description, *warcs]
            )
    if status not in (0, None):
        raise RuntimeError(f"wacz create failed with status {status}")
    return path
