"""Reading back what the WARC pipeline wrote: the payload of a record at a known offset.

The crawler (links of an unchanged page, a resumed job's frontier) and the export read stored
pages through here, so how a record is laid out is known in one place.
"""

from __future__ import annotations

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
