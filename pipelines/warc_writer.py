"""A rotating WARC/1.1 writer (warcio): one gzip member per record, `.open` until closed.

Knows nothing of Scrapy. The records of an exchange are built here (`build_record`), byte for
byte as warcio builds them, lengths and digests included; warcio writes the warcinfo record. This
class decides file names, rotation and which records go together.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
import zlib
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO, FileIO
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from crawler.contracts import REVISIT_PROFILES, Revisit, WarcLocation, WireRequest, WireResponse

OPEN_SUFFIX = ".open"
GZIP_LEVEL = 6
WARC_VERSION = "1.1"

# What we derive from a capture (its provenance JSON, the DOM a browser built from it) is keyed by
# a `urn:` target URI naming the page, as browsertrix-crawler keys its JSON records
# (`urn:pageinfo:<url>`). Under the page's own URI, replay tools (pywb, and anything indexing
# with cdxj-indexer) index such a record beside the response, sort it first and serve it as the
# page. WARC-Refers-To (the response's record id) is what ties it to its response.
PROVENANCE_URN = "urn:rightscrawl:provenance:"
RENDERED_DOM_URN = "urn:rightscrawl:dom:"


def provenance_uri(url: str) -> str:
    """The WARC-Target-URI of the metadata record of the capture of `url`."""
    return PROVENANCE_URN + url


def rendered_dom_uri(url: str) -> str:
    """The WARC-Target-URI of the conversion record holding the DOM rendered from `url`."""
    return RENDERED_DOM_URN + url


def page_of(target_uri: str) -> str:
    """The page a record is about: the page one of our URNs names, else the target URI itself
    (a request, response or revisit record, or a file written before these URNs)."""
    for prefix in (PROVENANCE_URN, RENDERED_DOM_URN):
        if target_uri.startswith(prefix):
            return target_uri.removeprefix(prefix)
    return target_uri


def http_head(first_line: bytes, headers) -> bytes:
    """The status or request line and the headers, exactly as sent or received: warcio re-encodes
    header values it holds as text (non-ASCII becomes %-escapes or RFC 8187 `*=UTF-8''` forms); a
    record of what was sent and received must keep the bytes."""
    return first_line + b"\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n"


def gzip_member(data: bytes | memoryview) -> bytes:
    """One gzip member. The window is sized to the data (at most 32 KiB, as usual): deflate
    references nothing farther back than the data's own length, and setting up a full window
    costs more than compressing a small request or metadata record."""
    window_bits = max(9, min(zlib.MAX_WBITS, (len(data) - 1).bit_length()))
    # One call, so one release of the GIL (compressobj's compress + flush release it twice):
    # each time the writer thread wants it back it waits for the reactor thread to yield it.
    return zlib.compress(data, GZIP_LEVEL, 16 + window_bits)


class BuiltRecord(NamedTuple):
    data: bytes  # the whole record, uncompressed
    record_id: str
    payload_digest: str | None


# warcio's record builder (recordbuilder.py): the Content-Type of each record type.
_HTTP_CONTENT_TYPES = {
    "request": "application/http; msgtype=request",
    "response": "application/http; msgtype=response",
    "revisit": "application/http; msgtype=response",
}


def make_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_BASE32_PAIRS = [a + b for a in _BASE32 for b in _BASE32]  # 10 bits at a time


def _sha1(*parts: bytes) -> str:
    """ "sha1:" and the base-32 digest (RFC 4648), as warcio writes it; Python 3.11's
    base64.b32encode is a Python loop, slower than the hashing."""
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part)
    value = int.from_bytes(digest.digest(), "big")  # 160 bits: 16 pairs, no padding
    return "sha1:" + "".join(
        _BASE32_PAIRS[(value >> shift) & 1023] for shift in range(150, -1, -10)
    )


def build_record(
    record_type: str,
    target_uri: str,
    warc_headers: list[tuple[str, str]],
    *,
    http_head: bytes | None = None,
    payload: bytes = b"",
    content_type: str | None = None,
) -> BuiltRecord:
    """One WARC record, byte for byte what warcio's `create_warc_record` + `write_record` make
    of the same arguments (header order included; tests/test_warc_writer.py compares them), at
    a fraction of the cost: the writer thread shares the GIL with the reactor. `warc_headers`
    start with WARC-Date and, except for a metadata or conversion record, WARC-Record-ID.
    A revisit record carries `http_head` only; its payload digest, if any, is given."""
    headers = list(warc_headers)
    names = {name for name, _ in headers}
    headers.append(("WARC-Type", record_type))
    if "WARC-Record-ID" not in names:
        headers.append(("WARC-Record-ID", make_record_id()))
    headers.append(("WARC-Target-URI", target_uri))
    payload_digest = next((v for n, v in headers if n == "WARC-Payload-Digest"), None)
    if payload_digest is None and record_type != "revisit":
        payload_digest = _sha1(payload)
        headers.append(("WARC-Payload-Digest", payload_digest))
    head = http_head or b""
    if record_type == "revisit":
        payload = b""  # headers only
    headers.append(("WARC-Block-Digest", _sha1(head, payload)))
    headers.append(("Content-Type", content_type or _HTTP_CONTENT_TYPES[record_type]))
    headers.append(("Content-Length", str(len(head) + len(payload))))
    text = f"WARC/{WARC_VERSION}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n"
    record_id = next(v for n, v in headers if n == "WARC-Record-ID")
    data = b"".join((text.encode("utf-8"), head, payload, b"\r\n\r\n"))
    return BuiltRecord(data, record_id, payload_digest)


def _warc_date(when: datetime | None) -> str:
    when = (when or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    return datetime_to_iso_date(when, use_micros=True)


def _status_line(protocol: str, status: int) -> bytes:
    # RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"{protocol} {status} {phrase}".encode("latin-1")


class RotatingWarcWriter:
    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        prefix: str,
        max_size: int,
        warcinfo: dict[str, str],
        hostname: str | None = None,
        pid: int | None = None,
    ):
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self.warcinfo = warcinfo
        self.hostname = (hostname or socket.gethostname()).replace("-", "_").replace("/", "_")
        self.pid = os.getpid() if pid is None else pid
        self.serial = 0
        self.closed_files: list[Path] = []
        self.records_written = 0
        self._file: FileIO | None = None
        self._path: Path | None = None
        self._size = 0  # bytes of whole records in the current file
        self._pending = bytearray()  # the records of the exchange being written
        # warcio builds each record (lengths, digests); we gzip it as one member ourselves, at
        # the level gzip(1) uses: warcio's fixed level 9 costs CPU for little gain.
        self._writer = WARCWriter(None, gzip=False, warc_version=WARC_VERSION)

    # -- files -------------------------------------------------------------------------------

    @property
    def current_filename(self) -> str | None:
        return self._path.name if self._path else None

    def _file_name(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
        return f"{self.prefix}-{stamp}-{self.serial:05d}-{self.hostname}-{self.pid}.warc.gz"

    def _ensure_file(self) -> None:
        if self._file is not None and self._size >= self.max_size:
            self.close()
        if self._file is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.serial += 1
            path = self.directory / self._file_name()
            # Unbuffered: each exchange is one write that either lands whole or is taken back.
            self._file = open(path.with_name(path.name + OPEN_SUFFIX), "xb", buffering=0)  # noqa: SIM115
            self._path, self._size = path, 0
            self._write(
                self._warcio_record(self._writer.create_warcinfo_record(path.name, self.warcinfo))
            )

    def close(self) -> Path | None:
        """Close the current file and give it its final name. Returns that path (None when
        there was no file, or it held nothing and was removed).

        Should syncing fail (a full disk), the file keeps its `.open` name and the error is
        raised: the next crawl's recovery cuts it after its last whole exchange.
        """
        if self._file is None:
            return None
        assert self._path is not None
        file, path, size = self._file, self._path, self._size
        self._file = self._path = None
        self._pending.clear()
        open_path = path.with_name(path.name + OPEN_SUFFIX)
        try:
            if size:
                os.fsync(file.fileno())
        finally:
            file.close()
        if not size:  # its first exchange failed: nothing to keep
            open_path.unlink(missing_ok=True)
            return None
        os.replace(open_path, path)
        self.closed_files.append(path)
        return path

    # -- records -----------------------------------------------------------------------------

    def _write(self, record: BuiltRecord) -> WarcLocation:
        """Add a record to the exchange being written; `_commit` writes them to the file."""
        assert self._path is not None
        offset = self._size + len(self._pending)
        member = gzip_member(record.data)
        self._pending += member
        return WarcLocation(
            filename=self._path.name,
            offset=offset,
            length=len(member),
            record_id=record.record_id,
            payload_digest=record.payload_digest,
        )

    def _warcio_record(self, record) -> BuiltRecord:
        buffer = BytesIO()
        self._writer.out = buffer
        self._writer.write_record(record)
        headers = record.rec_headers
        return BuiltRecord(
            bytes(buffer.getbuffer()),
            headers.get_header("WARC-Record-ID"),
            headers.get_header("WARC-Payload-Digest"),
        )

    def _commit(self) -> None:
        """Write the pending records. On an error (ENOSPC, EIO, …) the file is cut back to its
        last whole exchange, so no reader or recovery ever meets half an exchange, and the
        OSError is raised."""
        assert self._file is not None
        try:
            with memoryview(self._pending) as data:
                written = 0
                while written < len(data):
                    written += self._file.write(data[written:])
        except OSError:
            os.ftruncate(self._file.fileno(), self._size)  # frees blocks: works on a full disk
            self._file.seek(self._size)
            self._pending.clear()
            if not self._size:  # not even its warcinfo record: no file
                self.close()
            raise
        self._size += len(self._pending)
        self._pending.clear()

    def _request_record(
        self, request: WireRequest, protocol: str, date: str, record_id: str
    ) -> BuiltRecord:
        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = http_head(f"{request.method} {target} {protocol}".encode("latin-1"), request.headers)
        return build_record(
            "request",
            request.url,
            [("WARC-Date", date), ("WARC-Record-ID", record_id)],
            http_head=head,
        )

    def _response_record(
        self,
        response: WireResponse,
        date: str,
        record_id: str,
        request_id: str,
        revisit: Revisit | None = None,
    ) -> BuiltRecord:
        """The response as received; with `revisit`, a revisit record instead (WARC 1.1 §6.7):
        the HTTP headers only, referring to the stored payload."""
        head = http_head(_status_line(response.protocol, response.status), response.headers)
        warc_headers = [
            ("WARC-Date", date),
            ("WARC-Record-ID", record_id),
            ("WARC-Concurrent-To", request_id),
        ]
        if response.ip_address:
            warc_headers.append(("WARC-IP-Address", response.ip_address))
        if revisit is None:
            return build_record(
                "response", response.url, warc_headers, http_head=head, payload=response.body
            )
        warc_headers += [
            ("WARC-Refers-To", revisit.refers_to),
            ("WARC-Profile", REVISIT_PROFILES[revisit.profile]),
            ("WARC-Refers-To-Target-URI", revisit.refers_to_uri),
            ("WARC-Refers-To-Date", revisit.refers_to_date),
        ]
        if revisit.payload_digest:  # the stored payload's: a revisit record has none of its own
            warc_headers.append(("WARC-Payload-Digest", revisit.payload_digest))
        return build_record("revisit", response.url, warc_headers, http_head=head)

    def write_exchange(
        self,
        request: WireRequest,
        response: WireResponse,
        metadata: bytes,
        *,
        response_record_id: str | None = None,
        revisit: Revisit | None = None,
        conversion: bytes | None = None,
        conversion_date: datetime | None = None,
    ) -> tuple[WarcLocation, WarcLocation]:
        """request, response and a JSON metadata record referring to the response, in one file;
        with `revisit`, a revisit record (headers only) takes the response record's place. The
        metadata record's target is `provenance_uri(url)`.

        With `conversion` (the DOM a browser built from the response), a `conversion` record
        referring to the response, target `rendered_dom_uri(url)`, comes between the response
        and the metadata records.
        Returns where the response (or revisit) and the metadata records are.
        """
        self._pending.clear()
        self._ensure_file()
        date = _warc_date(response.fetched_at)
        request_id = make_record_id()
        response_id = response_record_id or make_record_id()
        self._write(self._request_record(request, response.protocol, date, request_id))
        response_location = self._write(
            self._response_record(response, date, response_id, request_id, revisit)
        )
        if conversion is not None:
            # WARC 1.1 §6.8: an alternative version of the response's content, here the DOM
            # after scripts ran, serialised as HTML. Under its own URN: replay serves the page
            # as the server sent it, not what a browser made of it.
            self._write(
                build_record(
                    "conversion",
                    rendered_dom_uri(response.url),
                    [
                        ("WARC-Date", _warc_date(conversion_date) if conversion_date else date),
                        ("WARC-Refers-To", response_id),
                    ],
                    payload=conversion,
                    content_type="text/html; charset=utf-8",
                )
            )
        metadata_location = self._write(
            build_record(
                "metadata",
                provenance_uri(response.url),
                [("WARC-Date", date), ("WARC-Refers-To", response_id)],
                payload=metadata,
                content_type="application/json",
            )
        )
        self._commit()
        self.records_written += 4 if conversion is not None else 3
        return response_location, metadata_location
