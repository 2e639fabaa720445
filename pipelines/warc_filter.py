"""A WARC file copied without some captures: what an export holds once captures are withdrawn.

The WARC files a crawl wrote are evidence and are never changed. An export that packages them
(the WACZ) gets copies without the withdrawn captures' exchanges — every record that carries or
describes the withdrawn content:

- the `response` or `revisit` record (the capture's record id);
- its `request` record (the response's `WARC-Concurrent-To`, or a record concurrent to it);
- the `metadata` (provenance JSON) and `conversion` (rendered DOM) records that
  `WARC-Refers-To` it.

Everything else is copied byte for byte, gzip member by gzip member (one per record, as the
writer makes them): warcinfo, policy evidence, other captures. No record is rewritten, so every
digest still holds; only offsets move, and an index made from the copy (the WACZ's CDXJ) has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

CHUNK = 1024 * 1024
DESCRIBING = ("metadata", "conversion")  # records that refer to a response and describe it


@dataclass(frozen=True, slots=True)
class Located:
    offset: int
    length: int
    record_type: str
    record_id: str
    refers_to: str | None
    concurrent_to: tuple[str, ...]


def locate(path: Path) -> list[Located]:
    """Where each record of a WARC file is (its whole gzip member), with the headers that tie
    records together."""
    found = []
    with open(path, "rb") as stream:
        iterator = ArchiveIterator(stream, no_record_parse=True)
        for record in iterator:
            headers = record.rec_headers
            iterator.read_to_end(record)
            found.append(
                Located(
                    offset=iterator.get_record_offset(),
                    length=iterator.get_record_length(),
                    record_type=record.rec_type,
                    record_id=headers.get_header("WARC-Record-ID") or "",
                    refers_to=headers.get_header("WARC-Refers-To"),
                    concurrent_to=tuple(
                        value for name, value in headers.headers if name == "WARC-Concurrent-To"
                    ),
                )
            )
    return found


def exchange_records(records: list[Located], captures: set[str]) -> set[str]:
    """Record ids of the exchanges of `captures` (response or revisit record ids)."""
    dropped = set(captures)
    for record in records:
        if record.record_id in captures:
            dropped.update(record.concurrent_to)  # its request
        elif record.refers_to in captures and record.record_type in DESCRIBING:
            dropped.add(record.record_id)
        elif captures.intersection(record.concurrent_to):
            dropped.add(record.record_id)  # a request written after its response
    return dropped


def copy_without(source: Path, dest: Path, captures: set[str]) -> int:
    """Copy `source` to `dest` leaving out the exchanges of `captures`; returns how many records
    were left out."""
    records = locate(source)
    dropped = exchange_records(records, captures)
    left_out = 0
    with open(source, "rb") as stream, open(dest, "wb") as out:
        for record in records:
            if record.record_id in dropped:
                left_out += 1
                continue
            stream.seek(record.offset)
            remaining = record.length
            while remaining:  # a record may be large (a video): copied in chunks
                chunk = stream.read(min(remaining, CHUNK))
                if not chunk:
                    raise OSError(f"{source} ends inside the record at offset {record.offset}")
                out.write(chunk)
                remaining -= len(chunk)
    return left_out
