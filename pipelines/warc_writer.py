"""A rotating WARC/1.1 writer (warcio): one gzip member per record, `.open` until closed.

Knows nothing of Scrapy. Records are built with warcio, which fills in lengths and digests; this
class only decides file names, rotation and which records go together.
"""

from __future__ import annotations

import os
import socket
import zlib
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO, FileIO
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
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


class WireHeaders(StatusAndHeaders):
    """HTTP headers written exactly as given, byte for byte.

    warcio re-encodes header values it holds as text (non-ASCII becomes %-escapes or RFC 8187
    `*=UTF-8''` forms); a record of what was sent and received must keep the bytes.
    """

    def __init__(self, first_line: bytes, headers, *, is_http_request: bool = False):
        protocol, _, statusline = first_line.decode("latin-1").partition(" ")
        if is_http_request:  # warcio keeps a request line as "METHOD target" + protocol
            method_target, _, protocol = first_line.decode("latin-1").rpartition(" ")
            statusline = method_target
        text = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        super().__init__(statusline, text, protocol=protocol, is_http_request=is_http_request)
        self._wire = (
            first_line + b"\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n"
        )

    def compute_headers_buffer(self, header_filter=None) -> None:
        self.headers_buff = self._wire


def gzip_member(data: bytes | memoryview) -> bytes:
    """One gzip member. The window is sized to the data (at most 32 KiB, as usual): deflate
    references nothing farther back than the data's own length, and setting up a full window
    costs more than compressing a small request or metadata record."""
    window_bits = max(9, min(zlib.MAX_WBITS, (len(data) - 1).bit_length()))
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + window_bits)
    return compressor.compress(data) + compressor.flush()


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
            self._write(self._writer.create_warcinfo_record(path.name, self.warcinfo))

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

    def _write(self, record) -> WarcLocation:
        """Add a record to the exchange being written; `_commit` writes them to the file."""
        assert self._path is not None
        offset = self._size + len(self._pending)
        buffer = BytesIO()
        self._writer.out = buffer
        self._writer.write_record(record)
        member = gzip_member(buffer.getbuffer())
        self._pending += member
        headers = record.rec_headers
        return WarcLocation(
            filename=self._path.name,
            offset=offset,
            length=len(member),
            record_id=headers.get_header("WARC-Record-ID"),
            payload_digest=headers.get_header("WARC-Payload-Digest"),
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

    def _request_record(self, request: WireRequest, protocol: str, date: str, record_id: str):
        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        http_headers = WireHeaders(
            f"{request.method} {target} {protocol}".encode("latin-1"),
            request.headers,
            is_http_request=True,
        )
        return self._writer.create_warc_record(
            request.url,
            "request",
            payload=BytesIO(b""),
            length=0,
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": record_id},
        )

    def _response_record(
        self,
        response: WireResponse,
        date: str,
        record_id: str,
        request_id: str,
        revisit: Revisit | None = None,
    ):
        """The response as received; with `revisit`, a revisit record instead (WARC 1.1 §6.7):
        the HTTP headers only, referring to the stored payload."""
        http_headers = WireHeaders(
            _status_line(response.protocol, response.status), response.headers
        )
        warc_headers = {
            "WARC-Date": date,
            "WARC-Record-ID": record_id,
            "WARC-Concurrent-To": request_id,
        }
        if response.ip_address:
            warc_headers["WARC-IP-Address"] = response.ip_address
        if revisit is None:
            return self._writer.create_warc_record(
                response.url,
                "response",
                payload=BytesIO(response.body),
                length=len(response.body),
                http_headers=http_headers,
                warc_headers_dict=warc_headers,
            )
        warc_headers["WARC-Refers-To"] = revisit.refers_to
        warc_headers["WARC-Profile"] = REVISIT_PROFILES[revisit.profile]
        warc_headers["WARC-Refers-To-Target-URI"] = revisit.refers_to_uri
        warc_headers["WARC-Refers-To-Date"] = revisit.refers_to_date
        if revisit.payload_digest:  # the stored payload's: a revisit record has none of its own
            warc_headers["WARC-Payload-Digest"] = revisit.payload_digest
        return self._writer.create_warc_record(
            response.url, "revisit", http_headers=http_headers, warc_headers_dict=warc_headers
        )

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
        request_id = self._writer._make_warc_id()
        response_id = response_record_id or self._writer._make_warc_id()
        self._write(self._request_record(request, response.protocol, date, request_id))
        response_location = self._write(
            self._response_record(response, date, response_id, request_id, revisit)
        )
        if conversion is not None:
            # WARC 1.1 §6.8: an alternative version of the response's content, here the DOM
            # after scripts ran, serialised as HTML. Under its own URN: replay serves the page
            # as the server sent it, not what a browser made of it.
            self._write(
                self._writer.create_warc_record(
                    rendered_dom_uri(response.url),
                    "conversion",
                    payload=BytesIO(conversion),
                    length=len(conversion),
                    warc_content_type="text/html; charset=utf-8",
                    warc_headers_dict={
                        "WARC-Date": _warc_date(conversion_date) if conversion_date else date,
                        "WARC-Refers-To": response_id,
                    },
                )
            )
        metadata_record = self._writer.create_warc_record(
            provenance_uri(response.url),
            "metadata",
            payload=BytesIO(metadata),
            length=len(metadata),
            warc_content_type="application/json",
            warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": response_id},
        )
        metadata_location = self._write(metadata_record)
        self._commit()
        self.records_written += 4 if conversion is not None else 3
        return response_location, metadata_location
