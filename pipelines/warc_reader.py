"""Reading back what the WARC pipeline wrote: the payload of a record at a known offset, and a
rendered page's DOM beside it.

The crawler (links of an unchanged page, a resumed job's frontier) and the export read stored
pages through here, so how a record is laid out is known in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

# What reading a stored payload can raise: a missing or cut file, a record that is not there.
READ_ERRORS = (OSError, ValueError, StopIteration, ArchiveLoadFailed)


def read_payload(path: Path, offset: int) -> bytes:
    """The payload of the record at `offset`, with its Content-Encoding undone."""
    with open(path, "rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        return record.content_stream().read()


@dataclass(frozen=True, slots=True)
class StoredCapture:
    """A kept capture as stored: its payload, and the DOM a browser rendered from it, if any."""

    payload: bytes
    rendered_dom: bytes | None = None


def read_capture(path: Path, offset: int) -> StoredCapture:
    """The response at `offset`, and the `conversion` record written right after it for a
    rendered page (pipelines/warc_writer.py: response, conversion, metadata)."""
    with open(path, "rb") as stream:
        stream.seek(offset)
        records = iter(ArchiveIterator(stream))
        response = next(records)
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        payload = response.content_stream().read()
        following = next(records, None)
        if (
            following is not None
            and following.rec_type == "conversion"
            and following.rec_headers.get_header("WARC-Refers-To") == response_id
        ):
            return StoredCapture(payload, following.content_stream().read())
        return StoredCapture(payload)
