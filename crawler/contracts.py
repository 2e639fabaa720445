"""What the crawler and the pipelines agree on: the only module of `crawler/` that `pipelines/`
imports.

- wire records: a request as sent, a response as received, where a record landed in a WARC file;
- what travels to the recorders: a kept capture with its decision, a policy-document fetch;
- the signals that carry them (send with `crawler.signals.send_catch_log`), in the order the
  recorders rely on: the WARC pipeline connects before the provenance pipeline, so a row can name
  the record it describes;
- the run every component of one crawl shares;
- typed setting reads that name the setting, and service-URL passwords kept out of messages.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from crawler import PRODUCT_TOKEN, __version__
from policies.evidence import Decision
from policies.profile import Profile, load_profile
from policies.signals.rsl import DEFAULT_USER_TYPE, USER_TYPES

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

    from crawler.render.capture import Rendering

__all__ = [
    "PRODUCT_TOKEN",
    "REVISIT_PROFILES",
    "CaptureItem",
    "CrawlRun",
    "Decision",
    "EvidenceFetch",
    "Headers",
    "PreviousCapture",
    "Revisit",
    "SettingError",
    "WarcLocation",
    "WireRequest",
    "WireResponse",
    "__version__",
    "capture_kept",
    "crawl_run",
    "decision_made",
    "evidence_fetched",
    "hide_password",
    "non_negative_float",
    "positive_int",
]

# -- signals -------------------------------------------------------------------------------------

# A URL was decided before or after fetching and its response (if any) is not kept: kwargs
# `decision`.
decision_made = object()

# The gate kept a response: kwargs `capture` (CaptureItem). Sent by the capture middleware
# (crawler/middlewares/capture.py) whatever the spider does with the response; the WARC pipeline
# archives it (filling `capture.warc`, in its writer thread: `capture.archived` fires when done),
# then the provenance pipeline records its rows.
capture_kept = object()

# A policy document (robots.txt …) was fetched or failed to fetch: kwargs `evidence`
# (EvidenceFetch). The WARC pipeline archives it, then the provenance pipeline records it.
evidence_fetched = object()

# -- wire records and what travels to the recorders -----------------------------------------------

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
    """One kept response (sent on `capture_kept`). The WARC pipeline fills `warc`; the
    provenance pipeline stores rows."""

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
    archive_error: str | None = None  # set by the WARC pipeline when it could not write it
    # Set by the WARC pipeline when it writes in its thread (Twisted Deferreds): `archived`
    # fires once the records are in the file or the write failed (rows wait for it); `admitted`,
    # when the writer's queue was full, fires once there was room (the sender waits for it).
    archived: Any = None
    admitted: Any = None


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
    archive_error: str | None = None  # as CaptureItem's
    archived: Any = None  # as CaptureItem's: the evidence row waits for it

    @property
    def sha256(self) -> str | None:
        """Digest of the document as read (the WARC's digests cover the bytes as received)."""
        if self.body is None:
            return None
        return hashlib.sha256(self.body).hexdigest()


# -- kinds of content ----------------------------------------------------------------------------
# `detail.kind` of a decision (crawler/collect.py) and the export's `kind` column.

OTHER = "other"  # a response that is none of the kinds collected (JSON, CSS, plain text …)
DOCUMENT_TYPES = frozenset({
    "application/pdf", "application/epub+zip", "application/msword", "application/rtf",
    "text/rtf", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
})  # fmt: skip
DOCUMENT_TYPE_PREFIXES = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Say nothing about what the body is: the kind the URL gave stands.
UNINFORMATIVE_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream",
                                 "application/x-download", "application/force-download"})  # fmt: skip


def kind_of_type(content_type: str) -> str | None:
    """The kind a Content-Type says, or None when it says nothing (absent, octet-stream)."""
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime in UNINFORMATIVE_TYPES:
        return None
    if mime in HTML_TYPES:
        return "html"
    if mime in DOCUMENT_TYPES or mime.startswith(DOCUMENT_TYPE_PREFIXES):
        return "document"
    major = mime.partition("/")[0]
    if major in ("image", "audio", "video"):
        return major
    return OTHER


# -- registrable domains -------------------------------------------------------------------------
# `-a scope=domain` and the summary's top domains read the Public Suffix List the same way.


@cache
def _suffix_list():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()  # the snapshot the package ships: nothing is fetched


def registrable_domain(host: str) -> str:
    """The domain a registrant holds (PSL, private section included: alice.github.io), or the
    host itself for an IP address or a name with no public suffix (localhost)."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    return _suffix_list().privatesuffix(host) or host


# -- the run -------------------------------------------------------------------------------------

_ATTRIBUTE = "_rightscrawl_run"


@dataclass(frozen=True, slots=True)
class CrawlRun:
    id: str
    started_at: datetime
    profile: Profile
    token: str
    user_agent: str
    contact: str | None
    version: str = __version__
    rsl_user_type: str = DEFAULT_USER_TYPE  # RSL_USER_TYPE: who we are to RSL licences


def crawl_run(crawler: Crawler) -> CrawlRun:
    """The run of this crawler, created on first use; raises ProfileError for a bad profile."""
    run = getattr(crawler, _ATTRIBUTE, None)
    if run is None:
        settings = crawler.settings
        run = CrawlRun(
            id=str(uuid.uuid4()),
            started_at=datetime.now(UTC),
            profile=load_profile(settings.get("POLICY_PROFILE", "strict")),
            token=PRODUCT_TOKEN,
            user_agent=settings.get("USER_AGENT"),
            contact=settings.get("CRAWLER_CONTACT") or None,
            rsl_user_type=rsl_user_type(settings),
        )
        setattr(crawler, _ATTRIBUTE, run)
    return run


# -- settings ------------------------------------------------------------------------------------


class SettingError(ValueError):
    """A setting whose value cannot be used."""


def rsl_user_type(settings: BaseSettings) -> str:
    """RSL_USER_TYPE: one token of the RSL 1.0 user vocabulary (policies.signals.rsl)."""
    value = settings.get("RSL_USER_TYPE", DEFAULT_USER_TYPE)
    token = str(value).strip().lower() if value is not None else ""
    if token not in USER_TYPES:
        raise SettingError(
            f"Setting RSL_USER_TYPE must be one of {', '.join(sorted(USER_TYPES))}, not {value!r}"
        )
    return token


def positive_int(settings: BaseSettings, name: str) -> int:
    try:
        value = settings.getint(name)
    except (TypeError, ValueError):
        raise SettingError(
            f"Setting {name} must be a whole number, not {settings.get(name)!r}"
        ) from None
    if value < 1:
        raise SettingError(f"Setting {name} must be at least 1, not {value}")
    return value


def non_negative_float(settings: BaseSettings, name: str) -> float:
    try:
        value = settings.getfloat(name)
    except (TypeError, ValueError):
        raise SettingError(f"Setting {name} must be a number, not {settings.get(name)!r}") from None
    if value < 0:
        raise SettingError(f"Setting {name} must not be negative, not {value}")
    return value


# -- service-URL passwords -----------------------------------------------------------------------
# Anything that echoes PROVENANCE_DB_URL or DISTRIBUTED_REDIS_URL — an error message, a log line,
# the settings a run records in the database — shows it through `hide_password`.

# For what urllib cannot split into an authority (`:pw@host`, `user:pw@host/db`, `http://[x:pw@y`):
# everything between the first "user:" and the "@" that ends the authority.
_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:/*)?[^:@/?#]*:)[^/?#]*@")


def hide_password(url: str) -> str:
    """`url` with the password of its user part (if any) written as `***`."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        password = None
    if password is None:
        return _USERINFO.sub(r"\1***@", url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
