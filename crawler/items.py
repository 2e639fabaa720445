"""What travels from the crawler to the pipelines: wire-level exchanges and their decisions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from policies.evidence import Decision

if TYPE_CHECKING:
    from crawler.render.capture import Rendering

Headers = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class WireRequest:
    """The request as the downloader sent it (after every middleware had its say)."""

    method: str
    url: str
    headers: Headers


@dataclass(frozen=True, slots=True)
class WireResponse:
    """The response as received: status, headers and body bytes before content decoding."""

    url: str
    status: int
    protocol: str  # "HTTP/1.1"
    headers: Headers
    body: bytes
    ip_address: str | None = None
    fetched_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WarcLocation:
    """Where a record landed: enough for an auditor to seek to it."""

    filename: str
    offset: int
    length: int
    record_id: str
    payload_digest: str | None


REVISIT_PROFILES = {
    "server-not-modified": "http://netpreserve.org/warc/1.1/revisit/server-not-modified",
    "identical-payload-digest": "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
}


@dataclass(frozen=True, slots=True)
class PreviousCapture:
    """The last kept capture of a URL in earlier runs: what a re-crawl asks for and refers to."""

    url: str
    record_id: str  # the response record holding the payload
    payload_digest: str | None
    fetched_at: str  # WARC-Date of that record (WARC-Refers-To-Date)
    warc_file: str
    warc_offset: int
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Revisit:
    """A capture written as a `revisit` record instead of a second copy of the payload."""

    profile: str  # a key of REVISIT_PROFILES
    refers_to: str  # record id of the response record with the payload
    refers_to_uri: str
    refers_to_date: str
    payload_digest: str | None


@dataclass(slots=True)
class CaptureItem:
    """One kept response. The WARC pipeline fills `warc`; the provenance pipeline stores rows."""

    url: str
    request: WireRequest
    response: WireResponse
    decision: Decision
    rendering: Rendering | None = None  # the DOM a browser built (a `conversion` record)
    warc: WarcLocation | None = None
    metadata_record_id: str | None = None
    provenance: dict | None = None  # the provenance JSON, built once by the first pipeline
    previous: PreviousCapture | None = None  # asked for conditionally (incremental re-crawl)
    revisit: Revisit | None = None  # set by the WARC pipeline when nothing changed


@dataclass(slots=True)
class EvidenceFetch:
    """A policy document fetch (robots.txt …): archived whether it worked or not."""

    kind: str  # "robots.txt"
    url: str
    fetched_at: datetime
    status: int | str  # HTTP status or "network-error"
    record_id: (
        str  # WARC-Record-ID the response record gets (assigned up front, so decisions cite it)
    )
    request: WireRequest | None = None
    response: WireResponse | None = None
    error: str | None = None
    body: bytes | None = None  # the document as read: after content decoding
    warc: WarcLocation | None = field(default=None)

    @property
    def sha256(self) -> str | None:
        """Digest of the document as read (the WARC's digests cover the bytes as received)."""
        if self.body is None:
            return None
        return hashlib.sha256(self.body).hexdigest()
