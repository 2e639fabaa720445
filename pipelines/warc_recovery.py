"""Close out WARC files that a killed crawl left open, and make the database agree with them.

A crawl killed with SIGKILL leaves `….warc.gz.open`: whole gzip members (one record each) and
perhaps a torn last one, and database rows still in memory when it died. The WARC file is the
record of what was kept, and each capture's metadata record holds its full provenance JSON, so:

1. the file is cut after its last whole request/response/metadata group and renamed;
2. every group whose response has no row in the database gets its rows back, rebuilt from its
   records (a capture: its decision and captures rows; a policy document: its evidence row).

Runs when a crawl starts, under the output lock, before anything new is written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_datetime

from pipelines import models, schema
from pipelines.warc_writer import OPEN_SUFFIX

logger = logging.getLogger(__name__)
CHUNK = 1024 * 1024


def whole_members(path: Path) -> int:
    """The length of the file's prefix made of complete gzip members."""
    end = 0
    with open(path, "rb") as stream:
        stream.seek(0)
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        position = 0  # start of the member being read
        consumed = 0
        pending = b""
        while True:
            data = pending or stream.read(CHUNK)
            pending = b""
            if not data:
                return end
            try:
                decompressor.decompress(data)
            except zlib.error:
                return end
            if decompressor.eof:
                used = len(data) - len(decompressor.unused_data)
                end = position = consumed + used
                consumed = position
                pending = decompressor.unused_data
                decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                consumed += len(data)


@dataclass
class Group:
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    records: list[dict[str, Any]] = field(default_factory=list)


class LimitedReader:
    """A file seen only up to `limit` bytes (the torn tail is not there)."""

    def __init__(self, raw, limit: int):
        self.raw = raw
        self.remaining = limit

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self.remaining:
            size = self.remaining
        data = self.raw.read(size)
        self.remaining -= len(data)
        return data


def read_records(path: Path, limit: int) -> list[dict[str, Any]]:
    records = []
    with open(path, "rb") as raw:
        stream = LimitedReader(raw, limit)
        iterator = ArchiveIterator(stream)
        for record in iterator:
            headers = record.rec_headers
            body = record.content_stream().read()
            offset = iterator.get_record_offset()
            http = record.http_headers
            records.append(
                {
                    "type": record.rec_type,
                    "id": headers.get_header("WARC-Record-ID"),
                    "url": headers.get_header("WARC-Target-URI"),
                    "date": headers.get_header("WARC-Date"),
                    "concurrent_to": headers.get_header("WARC-Concurrent-To"),
                    "refers_to": headers.get_header("WARC-Refers-To"),
                    "payload_digest": headers.get_header("WARC-Payload-Digest"),
                    "status": int(http.get_statuscode())
                    if http is not None and record.rec_type in ("response", "revisit")
                    else None,
                    "content_type": http.get_header("Content-Type") if http is not None else None,
                    "etag": http.get_header("ETag") if http is not None else None,
                    "last_modified": http.get_header("Last-Modified") if http is not None else None,
                    "body": body,
                    "offset": offset,
                }
            )
    for current, following in zip(records, [*records[1:], None], strict=True):
        current["length"] = (following["offset"] if following else limit) - current["offset"]
    return records


def complete_groups(records: list[dict[str, Any]]) -> tuple[list[Group], int | None]:
    """Request/response/metadata groups in order, and where a trailing incomplete group starts."""
    groups: list[Group] = []
    current: Group | None = None
    for record in records:
        if record["type"] == "warcinfo":
            continue
        if record["type"] == "request":
            current = Group(request=record, records=[record])
            groups.append(current)
        elif (
            current is not None
            and record["type"] in ("response", "revisit")
            and current.response is None
        ):
            current.response = record
            current.records.append(record)
        elif current is not None and record["type"] == "metadata" and current.metadata is None:
            current.metadata = record
            current.records.append(record)
    if groups and groups[-1].metadata is None:
        return groups[:-1], groups[-1].records[0]["offset"]
    return groups, None


def recover_file(path: Path, engine: Engine) -> tuple[Path, int]:
    """Close out one `.open` file; returns its final path and the number of rows rebuilt."""
    limit = whole_members(path)
    records = read_records(path, limit)
    groups, cut = complete_groups(records)
    end = cut if cut is not None else limit
    with open(path, "r+b") as stream:
        stream.truncate(end)
        stream.flush()
        os.fsync(stream.fileno())
    final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    os.replace(path, final)
    rebuilt = rebuild_rows(final.name, groups, engine)
    logger.warning(
        "Recovered %(file)s from an interrupted crawl: %(groups)d whole captures kept, cut at byte "
        "%(end)d, %(rows)d database rows rebuilt",
        {"file": final.name, "groups": len(groups), "end": end, "rows": rebuilt},
    )
    return final, rebuilt


def _when(warc_date: str | None) -> datetime:
    if not warc_date:
        return datetime.now(UTC)
    return iso_date_to_datetime(warc_date).replace(tzinfo=UTC)


def rebuild_rows(warc_file: str, groups: list[Group], engine: Engine) -> int:
    rebuilt = 0
    with engine.begin() as connection:
        known_captures = set(connection.scalars(select(models.Capture.record_id)))
        known_evidence = set(connection.scalars(select(models.Evidence.record_id)))
        runs = set(connection.scalars(select(models.Run.id)))
        for group in groups:
            response, metadata = group.response, group.metadata
            if response is None or metadata is None:
                continue
            try:
                provenance = json.loads(metadata["body"])
            except ValueError:
                continue
            if provenance.get("run_id") not in runs:
                continue  # a run the database never heard of: not ours to invent
            if provenance.get("role") == "policy-evidence":
                if response["id"] in known_evidence:
                    continue
                connection.execute(insert(models.Evidence).values(
                    run_id=provenance["run_id"], kind=provenance.get("kind", "unknown"), url=provenance["url"],
                    fetched_at=_when(response["date"]), status=str(provenance.get("status")),
                    sha256=hashlib.sha256(response["body"]).hexdigest(), body=response["body"],
                    record_id=response["id"], error=None,
                ))  # fmt: skip
                rebuilt += 1
                continue
            if response["id"] in known_captures:
                continue
            revisit = provenance.get("revisit") or {}
            content_type = response["content_type"]
            if revisit.get("refers_to") and not content_type:  # a 304 need not repeat it
                content_type = connection.scalar(
                    select(models.Capture.content_type).where(
                        models.Capture.record_id == revisit["refers_to"]
                    )
                )
            decided_at = provenance.get("decided_at")
            decision_id = connection.execute(insert(models.Decision).values(
                run_id=provenance["run_id"], url=provenance["url"], outcome=provenance.get("outcome", "kept"),
                reasons=provenance.get("reasons", []), stage=provenance.get("stage", "after-fetch"),
                decided_at=datetime.fromisoformat(decided_at.replace("Z", "+00:00")) if decided_at else _when(None),
                detail=provenance,
            ).returning(models.Decision.id)).scalar_one()  # fmt: skip
            connection.execute(insert(models.Capture).values(
                run_id=provenance["run_id"], decision_id=decision_id, url=response["url"],
                fetched_at=_when(response["date"]), status=response["status"] or 0,
                content_type=content_type, warc_file=warc_file, warc_offset=response["offset"],
                warc_length=response["length"], record_id=response["id"],
                payload_digest=response["payload_digest"], metadata_record_id=metadata["id"],
                revisit_of=revisit.get("refers_to"), revisit_profile=revisit.get("profile"),
                etag=response["etag"], last_modified=response["last_modified"],
            ))  # fmt: skip
            rebuilt += 2
    return rebuilt


def recover_directory(warc_dir: str | Path, db_url: str) -> list[Path]:
    files = sorted(Path(warc_dir).glob(f"*.warc.gz{OPEN_SUFFIX}"))
    if not files:
        return []
    engine = models.create_engine(db_url)
    try:
        schema.upgrade(engine)
        return [recover_file(path, engine)[0] for path in files]
    finally:
        engine.dispose()
