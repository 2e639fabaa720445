"""Hand a training team a dataset that carries its provenance.

One row per kept, not withdrawn HTML capture (revisits of an unchanged page are not repeated): the main text (trafilatura), the URL, when it was
fetched, where its bytes are (WARC file, record id, payload digest), its licence, and the profile
and reasons of its decision. As JSON Lines or Parquet (`datasets.load_dataset("parquet", …)`), or
the WARC files packaged as WACZ (CDXJ index, pages list, datapackage with digests) for replay.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

from rich.progress import track
from sqlalchemy import select
from sqlalchemy.orm import Session
from warcio.timeutils import datetime_to_iso_date

from pipelines import models
from pipelines.warc_reader import read_payload
from pipelines.withdraw import withdrawn_record_ids

HTML_TYPES = ("text/html", "application/xhtml+xml")


def _iso(value) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def kept_html_captures(db_url: str) -> list[tuple[models.Capture, dict[str, Any]]]:
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
                if capture.record_id not in withdrawn
                and capture.revisit_of is None  # the same payload as a capture listed already
                and (capture.content_type or "").split(";")[0].strip().lower() in HTML_TYPES
            ]
    finally:
        engine.dispose()


def rows(db_url: str, warc_dir: str | Path, *, progress: bool = False) -> Iterator[dict[str, Any]]:
    import trafilatura  # an optional dependency: the `export` extra

    warc_dir = Path(warc_dir)
    captures = kept_html_captures(db_url)
    for capture, detail in track(
        captures, description="Extracting text", transient=True, disable=not progress
    ):
        html = read_payload(warc_dir / capture.warc_file, capture.warc_offset)
        text = trafilatura.extract(html, url=capture.url, include_comments=False) or ""
        # Older rows (before the top-level field was filled) carry it only among the signals.
        licences = (
            [detail["license"]]
            if detail.get("license")
            else [s["value"] for s in detail.get("signals", []) if s.get("kind") == "license"]
        )
        yield {
            "url": capture.url,
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


def export(
    db_url: str, warc_dir: str | Path, out: str | Path, fmt: str, *, progress: bool = False
) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        path = out / "corpus.jsonl"
        with open(path, "w", encoding="utf-8") as stream:
            for row in rows(db_url, warc_dir, progress=progress):
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        return path
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        # Typed columns: an empty list or an export with no rows keeps `reasons` list<string>.
        schema = pa.schema(
            [
                *((name, pa.string()) for name in ("url", "text", "fetched_at", "warc_file")),
                *((name, pa.string()) for name in ("warc_record_id", "payload_digest", "license")),
                *((name, pa.string()) for name in ("profile", "profile_sha256")),
                ("reasons", pa.list_(pa.string())),
                ("run_id", pa.string()),
            ]
        )
        path = out / "corpus.parquet"
        rows_list = list(rows(db_url, warc_dir, progress=progress))
        pq.write_table(pa.Table.from_pylist(rows_list, schema=schema), path)
        return path
    if fmt == "wacz":
        return export_wacz(db_url, warc_dir, out)
    raise ValueError(f"unknown export format {fmt!r}: jsonl, parquet or wacz")


def export_wacz(db_url: str, warc_dir: str | Path, out: Path) -> Path:
    """WACZ via the `wacz` tool; its pages list names the kept, not withdrawn HTML captures."""
    from wacz.main import main as wacz_main

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
    warcs = sorted(str(p) for p in Path(warc_dir).glob("*.warc.gz"))
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the path we print
        status = wacz_main(["create", "-o", str(path), "-p", str(pages), *warcs])
    if status not in (0, None):
        raise RuntimeError(f"wacz create failed with status {status}")
    return path
