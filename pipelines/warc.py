"""Item pipeline: kept captures and policy evidence into rotating WARC/1.1 files.

Per kept capture: `request`, `response` (as received), for a rendered page a `conversion` record
holding the rendered DOM, and a `metadata` record holding the provenance JSON; the last two
`WARC-Refers-To` the response. Policy documents (robots.txt …) arrive on the
`evidence_fetched` signal and are written as request/response pairs. Excluded responses never
come here, so their bytes never reach a WARC file.

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
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.utils.defer import deferred_from_coro

from crawler.contracts import (
    CaptureItem,
    CrawlRun,
    EvidenceFetch,
    Revisit,
    __version__,
    capture_kept,
    crawl_run,
    evidence_fetched,
    positive_int,
)
from pipelines.warc_writer import RotatingWarcWriter

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

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
    def __init__(
        self,
        writer: RotatingWarcWriter,
        run: CrawlRun,
        stats: StatsCollector,
        *,
        on_write_error: Callable[[], None] | None = None,
    ):
        self.writer = writer
        self.run = run
        self.stats = stats
        self.on_write_error = on_write_error
        self.write_error: OSError | None = None

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
        pipeline = cls(writer, run, crawler.stats, on_write_error=lambda: stop(crawler))
        # Before the provenance pipeline's handlers (ITEM_PIPELINES 300 < 400): rows name records.
        crawler.signals.connect(pipeline.capture_kept, signal=capture_kept)
        crawler.signals.connect(pipeline.evidence_fetched, signal=evidence_fetched)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        """The spider's own items pass untouched: captures arrive on `capture_kept`."""
        return item

    def capture_kept(self, capture: CaptureItem) -> None:
        if self.write_error is not None:  # stopping: no record, so no row either
            capture.archive_error = WRITE_ERROR
            return
        provenance = capture.provenance = capture.decision.to_provenance(self.run.id)
        capture.revisit = revisit_of(capture)
        if capture.revisit is not None:
            provenance["revisit"] = {
                "profile": capture.revisit.profile,
                "refers_to": capture.revisit.refers_to,
                "refers_to_date": capture.revisit.refers_to_date,
            }
            self.stats.inc_value(f"warc/revisits/{capture.revisit.profile}")
        body = json.dumps(provenance, ensure_ascii=False, sort_keys=True).encode("utf-8")
        rendering = capture.rendering
        try:
            response_at, metadata_at = self.writer.write_exchange(
                capture.request,
                capture.response,
                body,
                revisit=capture.revisit,
                conversion=rendering.html if rendering else None,
                conversion_date=rendering.rendered_at if rendering else None,
            )
        except OSError as error:
            self.failed(error)
            capture.archive_error = WRITE_ERROR
            return
        capture.warc = response_at
        capture.metadata_record_id = metadata_at.record_id
        self.stats.inc_value("warc/records", 4 if rendering else 3)
        if rendering:
            self.stats.inc_value("warc/conversions")
        self.stats.inc_value("warc/captures")
        self.stats.inc_value("warc/bytes", response_at.length + metadata_at.length)

    def evidence_fetched(self, evidence: EvidenceFetch) -> None:
        if evidence.request is None or evidence.response is None:
            return  # nothing was received: the database records the failure
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
        if self.write_error is not None:
            return
        try:
            evidence.warc, _ = self.writer.write_exchange(
                evidence.request, evidence.response, body, response_record_id=evidence.record_id
            )
        except OSError as error:
            self.failed(error)
            return
        self.stats.inc_value("warc/records", 3)
        self.stats.inc_value("warc/evidence")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.close()

    def close_spider(self, spider: Spider | None = None) -> None:
        self.close()

    def failed(self, error: OSError) -> None:
        """The first failed write stops the crawl; later ones are the same failure."""
        if self.write_error is not None:
            return
        self.write_error = error
        self.stats.set_value("warc/write_error", f"{error.strerror} (errno {error.errno})")
        logger.error(write_error_message(self.writer.directory, error))
        if self.on_write_error is not None:
            self.on_write_error()

    def close(self) -> None:
        try:
            closed = self.writer.close()
        except OSError as error:  # left `.open`: the next crawl's recovery closes it out
            self.failed(error)
            closed = None
        if closed is not None:
            logger.info("WARC file closed: %(path)s", {"path": closed})
        self.stats.set_value("warc/files", len(self.writer.closed_files))


def stop(crawler: Crawler) -> None:
    engine = crawler.engine
    if engine is None:
        return
    if hasattr(engine, "close_spider_async"):  # Scrapy >= 2.14
        deferred_from_coro(engine.close_spider_async(reason=WRITE_ERROR))
    else:
        engine.close_spider(crawler.spider, WRITE_ERROR)
