"""Close out WARC files that a killed crawl left open, and make the database agree with them.

A crawl killed with SIGKILL leaves `….warc.gz.open`: whole gzip members (one record each) and
perhaps a torn last one, and database rows still in memory when it died — rows of that file,
and of the files it closed shortly before (rows are written in batches, after the records). The
WARC files are the record of what was kept, and each capture's metadata record holds its full
provenance JSON, so for EVERY WARC file of the folder:

1. an `.open` file is cut after its last whole request/response/metadata group and renamed;
2. every group whose response has no row in the database gets its rows back, rebuilt from its
   records (a capture: its decision and captures rows; a policy document: its evidence row).

Cheaply: rows are written in the order the records were (one process per file, batches in
order), so every group up to a file's last recorded capture has its rows. One query gives that
offset for every file, and only the records after it are read: for a file whose rows are all
there, its last capture and whatever policy documents follow it.

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

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import iso_date_to_datetime

from pipelines import models, schema
from pipelines.warc_writer import OPEN_SUFFIX

logger = logging.getLogger(__name__)
CHUNK = 1024 * 1024
SQL_CHUNK = 500  # record ids per IN (…): bounded SQL parameters


def whole_members(path: Path, start: int = 0) -> int:
    """The length of the file's prefix made of complete gzip members (`start`: a member
    boundary up to which the file is known to be whole)."""
    end = start
    with open(path, "rb") as stream:
        stream.seek(start)
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        position = start  # start of the member being read
        consumed = start
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


def _fields(record) -> dict[str, Any]:
    headers = record.rec_headers
    body = record.content_stream().read()
    http = record.http_headers
    return {
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
    }


def read_records(path: Path, limit: int, start: int = 0) -> list[dict[str, Any]]:
    """The records between offsets `start` (a record's) and `limit`. A damaged closed file is
    read up to the damage (`scrapy verify` reports it)."""
    records = []
    with open(path, "rb") as raw:
        raw.seek(start)
        stream = LimitedReader(raw, limit - start)
        iterator = ArchiveIterator(stream)
        try:
            for record in iterator:
                fields = _fields(record)  # reads the record: its offset is known after that
                fields["offset"] = start + iterator.get_record_offset()
                records.append(fields)
        except (ArchiveLoadFailed, EOFError, ValueError, zlib.error) as error:
            limit = start + iterator.get_record_offset()
            logger.warning(
                "%(file)s is unreadable after byte %(offset)d (%(error)s): recovery stops there",
                {"file": path.name, "offset": limit, "error": error},
            )
    ends = [record["offset"] for record in records[1:]] + [limit]
    for current, end in zip(records, ends, strict=False):  # none read: nothing to measure
        current["length"] = end - current["offset"]
    return records


def complete_groups(records: list[dict[str, Any]]) -> tuple[list[Group], int | None]:
    """Request/response/metadata groups in order, and where a trailing incomplete group starts.

    Records are told apart by type and place, never by target URI: files written before the
    metadata record got its `urn:rightscrawl:provenance:` target (it had the page's URL) are read
    the same way."""
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


def recover_file(path: Path, engine: Engine, start: int = 0) -> tuple[Path | None, int]:
    """Reconcile one file from offset `start` on (every group before it has its rows); close it
    out if it is `.open`. Returns its final path (None: nothing whole, removed) and the number
    of rows rebuilt."""
    is_open = path.name.endswith(OPEN_SUFFIX)
    limit = whole_members(path, start) if is_open else path.stat().st_size
    records = read_records(path, limit, start)
    groups, cut = complete_groups(records)
    final = path
    if is_open:
        end = cut if cut is not None else limit
        final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
        if end == 0:  # killed before its first record was whole: nothing to keep
            path.unlink()
            logger.warning("Removed %(file)s: it holds no whole record", {"file": path.name})
            return None, 0
        with open(path, "r+b") as stream:
            stream.truncate(end)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(path, final)
    rebuilt = rebuild_rows(final.name, groups, engine)
    if is_open:
        logger.warning(
            "Recovered %(file)s from an interrupted crawl: %(groups)d whole captures kept after "
            "byte %(start)d, cut at byte %(end)d, %(rows)d database rows rebuilt",
            {
                "file": final.name,
                "groups": len(groups),
                "start": start,
                "end": end,
                "rows": rebuilt,
            },
        )
    elif rebuilt:
        logger.warning(
            "Recovered %(file)s from an interrupted crawl: %(rows)d database rows rebuilt "
            "(records after byte %(start)d)",
            {"file": final.name, "rows": rebuilt, "start": start},
        )
    return final, rebuilt


def _when(warc_date: str | None) -> datetime:
    if not warc_date:
        return datetime.now(UTC)
    return iso_date_to_datetime(warc_date).replace(tzinfo=UTC)


def _known(connection, column, record_ids: list[str]) -> set[str]:
    """Which of these record ids the column holds."""
    known = set()
    for start in range(0, len(record_ids), SQL_CHUNK):
        chunk = record_ids[start : start + SQL_CHUNK]
        known.update(connection.scalars(select(column).where(column.in_(chunk))))
    return known


def rebuild_rows(warc_file: str, groups: list[Group], engine: Engine) -> int:
    rebuilt = 0
    response_ids = [g.response["id"] for g in groups if g.response is not None]
    if not response_ids:
        return 0
    with engine.begin() as connection:
        known_captures = _known(connection, models.Capture.record_id, response_ids)
        known_evidence = _known(connection, models.Evidence.record_id, response_ids)
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


def recorded_until(engine: Engine) -> dict[str, int]:
    """Per WARC file name, the offset of its last response record that has a captures row."""
    query = select(models.Capture.warc_file, func.max(models.Capture.warc_offset)).group_by(
        models.Capture.warc_file
    )
    with engine.connect() as connection:
        return {name: offset for name, offset in connection.execute(query)}


def recover_directory(warc_dir: str | Path, db_url: str) -> list[Path]:
    """Reconcile every WARC file of the folder with the database; returns the files that were
    `.open` and are now closed."""
    folder = Path(warc_dir)
    files = sorted(folder.glob("*.warc.gz")) + sorted(folder.glob(f"*.warc.gz{OPEN_SUFFIX}"))
    if not files:
        return []
    engine = models.create_engine(db_url)
    try:
        schema.upgrade(engine)
        recorded = recorded_until(engine)
        closed = []
        for path in files:
            start = recorded.get(path.name.removesuffix(OPEN_SUFFIX), 0)
            final, _ = recover_file(path, engine, start)
            if final is not None and final != path:
                closed.append(final)
        return closed
    except OperationalError as error:
        # Not this start's business to report: the provenance pipeline stops the crawl when
        # the database is unusable. A later start reconciles whatever is left.
        logger.warning(
            "WARC files of %(folder)s not reconciled with the database: %(error)s",
            {"folder": folder, "error": type(error).__name__},
        )
        return []
    finally:
        engine.dispose()
