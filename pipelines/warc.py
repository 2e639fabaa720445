"""Item pipeline: kept captures and policy evidence into rotating WARC/1.1 files.

Per kept capture: `request`, `response` (as received), for a rendered page a `conversion` record
holding the rendered DOM, and a `metadata` record holding the provenance JSON; the last two
`WARC-Refers-To` the response. Policy documents (robots.txt …) arrive on the
`evidence_fetched` signal and are written as request/response pairs. Excluded responses never
come here, so their bytes never reach a WARC file.

During a crawl the records are built, compressed, digested and written in one writer thread
(pipelines/warc_thread.py) behind a bounded queue (`WARC_WRITE_QUEUE`): the reactor thread only
hands captures over, and a full queue slows fetching. The provenance pipeline records a capture's
rows once its `archived` Deferred fired, that is once its records are in the file.

A write that fails (a full disk: ENOSPC) stops the crawl at once with one error line and the
finish reason `warc_write_error` (exit status 1): the writer has cut the file back to its last
whole exchange, and pages fetched after that are dropped unrecorded, to be fetched by the next run.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import logging
import socket
import threading
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.utils.log import failure_to_exc_info
from twisted.internet import defer

from crawler.contracts import (
    CaptureItem,
    CrawlRun,
    EvidenceFetch,
    Revisit,
    WarcLocation,
    __version__,
    capture_kept,
    crawl_run,
    evidence_fetched,
    positive_int,
)
from pipelines.warc_thread import WriterThread
from pipelines.warc_writer import RotatingWarcWriter

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

WRITE_ERROR = "warc_write_error"  # the finish reason when a WARC file cannot be written


def warcinfo_fields(run: CrawlRun) -> dict[str, str]:
    return {
        "software": f"rightscrawl/{__version__} (Scrapy/{scrapy.__version__}; warcio/{version('warcio')})",
        "hostname": socket.gethostname(),
        "operator": run.contact or "",
        "http-header-user-agent": run.user_agent,
        "robots": f"RFC 9309 for token '{run.token}'; unreachable robots.txt = complete disallow",
        "policy-profile": run.profile.name,
        "policy-profile-sha256": run.profile.sha256,
        "isPartOf": f"rightscrawl-run-{run.id}",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
    }


def payload_digest(body: bytes) -> str:
    """WARC-Payload-Digest as warcio writes it: sha1, base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def revisit_of(item: CaptureItem) -> Revisit | None:
    """A revisit when the server said "not modified" or sent the same payload again."""
    previous = item.previous
    if previous is None or previous.url != item.url:
        return None
    if item.response.status == 304:
        profile = "server-not-modified"
    elif previous.payload_digest and payload_digest(item.response.body) == previous.payload_digest:
        profile = "identical-payload-digest"
    else:
        return None
    return Revisit(
        profile=profile,
        refers_to=previous.record_id,
        refers_to_uri=previous.url,
        refers_to_date=previous.fetched_at,
        payload_digest=previous.payload_digest,
    )


def write_error_message(directory: object, error: OSError) -> str:
    """One line an operator can act on, with the system's words and number for the error."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"WARC_DIR {directory} is full: {error.strerror} (errno {error.errno}) — stopping"
    return (
        f"Cannot write to WARC_DIR {directory}: {error.strerror or error} "
        f"(errno {error.errno}) — stopping"
    )


class WarcPipeline:
    """Archives what `capture_kept` and `evidence_fetched` announce.

    With `thread` (a running crawl), records are built, compressed, digested and written in that
    one thread, in the order announced; each capture's `archived` Deferred fires on the reactor
    thread once its records are in the file (or its write failed), and the provenance pipeline
    records its rows only then. A full queue holds the response in the downloader (`admitted`),
    so fetching slows to the writer's pace. Without a thread (a unit test) everything is written
    at once, in the caller's thread.
    """

    def __init__(
        self,
        writer: RotatingWarcWriter,
        run: CrawlRun,
        stats: StatsCollector,
        *,
        on_write_error: Callable[[], None] | None = None,
        thread: WriterThread | None = None,
    ):
        self.writer = writer
        self.run = run
        self.stats = stats
        self.on_write_error = on_write_error
        self.thread = thread
        self.write_error: OSError | None = None
        self._failed_in_thread = threading.Event()  # the thread's own view of `write_error`
        self._closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        run = crawl_run(crawler)
        max_size = positive_int(settings, "WARC_MAX_SIZE")
        writer = RotatingWarcWriter(
            settings.get("WARC_DIR"),
            prefix=settings.get("WARC_PREFIX"),
            max_size=max_size,
            warcinfo=warcinfo_fields(run),
        )
        pipeline = cls(
            writer,
            run,
            crawler.stats,
            on_write_error=lambda: stop(crawler),
            thread=WriterThread(positive_int(settings, "WARC_WRITE_QUEUE")),
        )
        # Before the provenance pipeline's handlers (ITEM_PIPELINES 300 < 400): rows name records.
        crawler.signals.connect(pipeline.capture_kept, signal=capture_kept)
        crawler.signals.connect(pipeline.evidence_fetched, signal=evidence_fetched)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        """The spider's own items pass untouched: captures arrive on `capture_kept`."""
        return item

    # -- captures ----------------------------------------------------------------------------

    def capture_kept(self, capture: CaptureItem) -> None:
        if self.write_error is not None or self._closed:  # stopping: no record, so no row either
            capture.archive_error = WRITE_ERROR
            return
        if self.thread is None:
            try:
                self._archived(capture, self._archive(capture))
            except OSError as error:
                self._archived(capture, error)
            return
        capture.archived = archived = defer.Deferred()
        room = self.thread.admit()
        if room is None:
            self._submit(capture, archived)
            return
        self.stats.inc_value("warc/queue_full")
        self.stats.max_value("warc/queue_waiting_max", self.thread.waiting)
        capture.admitted = room.addCallback(lambda _: self._submit(capture, archived))

    def _submit(self, capture: CaptureItem, archived: defer.Deferred[None]) -> None:
        assert self.thread is not None
        if self.write_error is not None:  # failed while this one waited for room
            capture.archive_error = WRITE_ERROR
            archived.callback(None)
            return
        done = self.thread.submit(self._archive, capture)
        self.stats.max_value("warc/queue_max", self.thread.backlog)
        done.addCallbacks(
            lambda result: self._archived(capture, result),
            lambda failure: self._archive_failed(capture, failure),
        )
        done.addBoth(lambda _: archived.callback(None))

    def _archive(self, capture: CaptureItem) -> tuple:
        """Build and write the capture's records (in the writer thread during a crawl)."""
        if self._failed_in_thread.is_set():
            raise _Skipped
        provenance = capture.decision.to_provenance(self.run.id)
        revisit = revisit_of(capture)
        if revisit is not None:
            provenance["revisit"] = {
                "profile": revisit.profile,
                "refers_to": revisit.refers_to,
                "refers_to_date": revisit.refers_to_date,
            }
        body = json.dumps(provenance, ensure_ascii=False, sort_keys=True).encode("utf-8")
        rendering = capture.rendering
        try:
            locations = self.writer.write_exchange(
                capture.request,
                capture.response,
                body,
                revisit=revisit,
                conversion=rendering.html if rendering else None,
                conversion_date=rendering.rendered_at if rendering else None,
            )
        except OSError:
            self._failed_in_thread.set()  # what is queued behind it is dropped, not written
            raise
        return provenance, revisit, locations

    def _archived(self, capture: CaptureItem, result: tuple | OSError) -> None:
        if isinstance(result, OSError):
            self.failed(result)
            capture.archive_error = WRITE_ERROR
            return
        capture.provenance, capture.revisit, (response_at, metadata_at) = result
        if capture.revisit is not None:
            self.stats.inc_value(f"warc/revisits/{capture.revisit.profile}")
        capture.warc = response_at
        capture.metadata_record_id = metadata_at.record_id
        rendering = capture.rendering
        self.stats.inc_value("warc/records", 4 if rendering else 3)
        if rendering:
            self.stats.inc_value("warc/conversions")
        self.stats.inc_value("warc/captures")
        self.stats.inc_value("warc/bytes", response_at.length + metadata_at.length)

    def _archive_failed(self, capture: CaptureItem, failure: Failure) -> None:
        capture.archive_error = WRITE_ERROR
        if failure.check(OSError):
            self.failed(failure.value)
        elif not failure.check(_Skipped):
            logger.error(
                "Could not archive %(url)s",
                {"url": capture.url},
                exc_info=failure_to_exc_info(failure),
            )

    # -- policy documents --------------------------------------------------------------------

    def evidence_fetched(self, evidence: EvidenceFetch) -> None:
        if evidence.request is None or evidence.response is None:
            return  # nothing was received: the database records the failure
        if self.write_error is not None or self._closed:
            evidence.archive_error = WRITE_ERROR
            return
        if self.thread is None:
            try:
                self._evidence_archived(evidence, self._archive_evidence(evidence))
            except OSError as error:
                self._evidence_archived(evidence, error)
            return
        # No wait for room: one fetch per origin and kind at a time bounds these.
        evidence.archived = archived = defer.Deferred()
        done = self.thread.submit(self._archive_evidence, evidence)
        done.addCallbacks(
            lambda location: self._evidence_archived(evidence, location),
            lambda failure: self._evidence_failed(evidence, failure),
        )
        done.addBoth(lambda _: archived.callback(None))

    def _archive_evidence(self, evidence: EvidenceFetch) -> WarcLocation:
        if self._failed_in_thread.is_set():
            raise _Skipped
        assert evidence.request is not None and evidence.response is not None
        provenance = {
            "url": evidence.url,
            "role": "policy-evidence",
            "kind": evidence.kind,
            "fetched_at": evidence.fetched_at.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
            "status": evidence.status,
            "sha256": evidence.sha256,
            "run_id": self.run.id,
        }
        body = json.dumps(provenance, ensure_ascii=False, sort_keys=True).encode("utf-8")
        try:
            location, _ = self.writer.write_exchange(
                evidence.request, evidence.response, body, response_record_id=evidence.record_id
            )
        except OSError:
            self._failed_in_thread.set()
            raise
        return location

    def _evidence_archived(self, evidence: EvidenceFetch, location: WarcLocation | OSError) -> None:
        if isinstance(location, OSError):
            evidence.archive_error = WRITE_ERROR
            self.failed(location)
            return
        evidence.warc = location
        self.stats.inc_value("warc/records", 3)
        self.stats.inc_value("warc/evidence")

    def _evidence_failed(self, evidence: EvidenceFetch, failure: Failure) -> None:
        evidence.archive_error = WRITE_ERROR
        if failure.check(OSError):
            self.failed(failure.value)
        elif not failure.check(_Skipped):
            logger.error(
                "Could not archive %(url)s",
                {"url": evidence.url},
                exc_info=failure_to_exc_info(failure),
            )

    # -- closing -----------------------------------------------------------------------------

    async def close_spider(self, spider: Spider | None = None) -> None:
        # Before `spider_closed`: the provenance pipeline then has every archived capture's rows.
        await self.close()

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        await self.close()  # what came in after close_spider (a late response)
        self._closed = True
        if self.thread is not None:
            self.thread.stop()

    def failed(self, error: OSError) -> None:
        """The first failed write stops the crawl; later ones are the same failure."""
        if self.write_error is not None:
            return
        self.write_error = error
        self.stats.set_value("warc/write_error", f"{error.strerror} (errno {error.errno})")
        logger.error(write_error_message(self.writer.directory, error))
        if self.on_write_error is not None:
            self.on_write_error()

    async def close(self) -> None:
        """Write what is queued, then close the current file (in the writer thread: after the
        records queued before)."""
        if self.thread is None:
            closed = self._close_file()
        else:
            closed = await maybe_deferred_to_future(self.thread.submit(self._close_file))
        self._closed_file(closed)

    def _close_file(self) -> Path | OSError | None:
        try:
            return self.writer.close()
        except OSError as error:  # left `.open`: the next crawl's recovery closes it out
            return error

    def _closed_file(self, closed: Path | OSError | None) -> None:
        if isinstance(closed, OSError):
            self.failed(closed)
        elif closed is not None:
            logger.info("WARC file closed: %(path)s", {"path": closed})
        self.stats.set_value("warc/files", len(self.writer.closed_files))


class _Skipped(Exception):  # noqa: N818 - not an error: a write after the failed one
    """Queued behind a write that failed: not written, no row."""


def stop(crawler: Crawler) -> None:
    engine = crawler.engine
    if engine is None:
        return
    if hasattr(engine, "close_spider_async"):  # Scrapy >= 2.14
        deferred_from_coro(engine.close_spider_async(reason=WRITE_ERROR))
    else:
        engine.close_spider(crawler.spider, WRITE_ERROR)
