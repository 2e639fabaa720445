"""Read-side queries over the provenance database, shared by the commands."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from warcio.timeutils import datetime_to_iso_date

from crawler.contracts import PreviousCapture
from pipelines import models
from pipelines.withdraw import withdrawn_record_ids


@dataclass(frozen=True, slots=True)
class DecisionRow:
    url: str
    outcome: str
    reasons: tuple[str, ...]
    stage: str
    warc_file: str | None
    kind: str | None = None  # detail.kind: html, document, image … (crawler/collect.py)


def run_decisions(engine: Engine, run_id: str) -> list[DecisionRow]:
    query = (
        select(models.Decision, models.Capture.warc_file)
        .outerjoin(models.Capture, models.Capture.decision_id == models.Decision.id)
        .where(models.Decision.run_id == run_id)
        .order_by(models.Decision.outcome.desc(), models.Decision.url)
    )
    with Session(engine) as session:
        return [
            DecisionRow(
                d.url,
                d.outcome,
                tuple(d.reasons),
                d.stage,
                warc_file,
                ((d.detail or {}).get("detail") or {}).get("kind"),
            )
            for d, warc_file in session.execute(query)
        ]


def reason_counts(rows: list[DecisionRow]) -> Counter[str]:
    return Counter(reason for row in rows for reason in row.reasons)


def previous_captures(
    engine: Engine, profile_sha256: str, warc_dir: str | Path
) -> tuple[dict[str, PreviousCapture], set[str]]:
    """The last kept, not withdrawn capture of each URL that a re-crawl can ask for conditionally,
    and every URL with a capture that is not withdrawn.

    Left out: captures made under another policy profile (their body signals must be read again
    under this one: the page is fetched whole), and captures whose WARC file is not in `warc_dir`
    (an unchanged page's links are read from its stored payload).
    """
    columns = (
        models.Capture.url,
        models.Capture.record_id,
        models.Capture.payload_digest,
        models.Capture.fetched_at,
        models.Capture.warc_file,
        models.Capture.warc_offset,
        models.Capture.content_type,
        models.Capture.etag,
        models.Capture.last_modified,
        models.Capture.revisit_of,
        models.Run.profile_sha256,
    )
    query = (
        select(*columns)
        .join(models.Run, models.Run.id == models.Capture.run_id)
        .order_by(models.Capture.id)
    )
    originals: dict[str, PreviousCapture] = {}
    latest: dict[str, PreviousCapture] = {}
    files: dict[str, bool] = {}
    captured: set[str] = set()
    with Session(engine) as session:
        withdrawn = withdrawn_record_ids(session)
        for row in session.execute(query):
            if row.record_id in withdrawn:
                latest.pop(row.url, None)
                continue
            captured.add(row.url)
            if row.revisit_of is None:
                when = row.fetched_at  # SQLite gives it back naive, in UTC
                if when.tzinfo is not None:
                    when = when.astimezone(UTC).replace(tzinfo=None)
                capture = PreviousCapture(
                    url=row.url,
                    record_id=row.record_id,
                    payload_digest=row.payload_digest,
                    fetched_at=datetime_to_iso_date(when, use_micros=True),
                    warc_file=row.warc_file,
                    warc_offset=row.warc_offset,
                    content_type=row.content_type,
                    etag=row.etag,
                    last_modified=row.last_modified,
                )
                originals[row.record_id] = capture
            else:
                original = originals.get(row.revisit_of)
                if original is None or row.revisit_of in withdrawn:
                    latest.pop(row.url, None)
                    continue
                capture = replace(
                    original,
                    etag=row.etag or original.etag,
                    last_modified=row.last_modified or original.last_modified,
                )
            if row.profile_sha256 != profile_sha256:
                latest.pop(row.url, None)
                continue
            latest[row.url] = capture
    for capture in latest.values():
        if capture.warc_file not in files:  # one look per file, not per URL
            files[capture.warc_file] = (Path(warc_dir) / capture.warc_file).is_file()
    usable = {url: capture for url, capture in latest.items() if files[capture.warc_file]}
    return usable, captured
