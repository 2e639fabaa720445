"""Item pipeline: every decision, capture and evidence fetch into the provenance database.

Rows are buffered and written in batches (`PROVENANCE_BATCH_SIZE` rows or `PROVENANCE_FLUSH_SECONDS`,
whichever comes first) and flushed when the spider closes, Ctrl-C included. A failed write keeps
the batch for the next attempt and never stops the crawl.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

from crawler.config import SettingError, non_negative_float, positive_int
from crawler.items import CaptureItem, EvidenceFetch, Headers
from crawler.run import CrawlRun, crawl_run
from crawler.signals import decision_made, evidence_fetched
from crawler.url_secrets import hide_password
from pipelines import models, schema
from policies.evidence import Decision

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

MAX_FAILED_FLUSHES = 3  # consecutive failed writes before the crawl is stopped

RECORDED_SETTINGS = (
    "POLICY_PROFILE",
    "CRAWLER_CONTACT",
    "ALLOW_PRIVATE_ADDRESSES",
    "WARC_DIR",
    "WARC_PREFIX",
    "WARC_MAX_SIZE",
    "PROVENANCE_DB_URL",
    "USER_AGENT",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY",
    "AUTOTHROTTLE_ENABLED",
    "DEPTH_LIMIT",
    "CLOSESPIDER_PAGECOUNT",
    "DOWNLOAD_MAXSIZE",
    "JOBDIR",
)


def recorded_settings(settings: Settings) -> dict[str, Any]:
    values = {name: settings.get(name) for name in RECORDED_SETTINGS}
    if values["PROVENANCE_DB_URL"]:  # never store a database password in the database
        values["PROVENANCE_DB_URL"] = make_url(values["PROVENANCE_DB_URL"]).render_as_string(
            hide_password=True
        )
    recorded: dict[str, Any] = {}
    for name, value in values.items():
        if not isinstance(value, (str, int, float, bool, type(None))):
            value = str(value)
        if isinstance(value, str) and "://" in value:  # any other URL with a password, too
            value = hide_password(value)
        recorded[name] = value
    return recorded


def header_value(headers: Headers, name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in headers if k.lower() == name), None)


def stop_crawl(crawler: Crawler, reason: str) -> None:
    engine = crawler.engine
    if engine is None:
        return
    logger.error("Stopping the crawl: %(reason)s", {"reason": reason})
    if hasattr(engine, "close_spider_async"):  # Scrapy >= 2.14
        deferred_from_coro(engine.close_spider_async(reason=reason))
    else:
        engine.close_spider(crawler.spider, reason)


def decision_row(
    decision: Decision, run_id: str, provenance: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "url": decision.url,
        "outcome": decision.outcome,
        "reasons": list(decision.reasons),
        "stage": decision.stage,
        "decided_at": decision.decided_at,
        "detail": provenance or decision.to_provenance(run_id),
    }


class ProvenancePipeline:
    def __init__(
        self,
        db_url: str,
        run: CrawlRun,
        stats: StatsCollector,
        *,
        batch_size: int = 500,
        flush_seconds: float = 5.0,
        settings: dict[str, Any] | None = None,
        on_persistent_failure: Callable[[str], None] | None = None,
    ):
        self.engine = models.create_engine(db_url)
        self.run = run
        self.stats = stats
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.settings = settings or {}
        self.on_persistent_failure = on_persistent_failure
        self.crawler: Crawler | None = None
        self._failed_flushes = 0
        self._decisions: list[dict[str, Any]] = []
        self._captures: list[tuple[int, dict[str, Any]]] = []  # (index in _decisions, row)
        self._evidence: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        db_url = settings.get("PROVENANCE_DB_URL")
        try:
            make_url(db_url)
        except ArgumentError:
            raise SettingError(
                f"Setting PROVENANCE_DB_URL is not a SQLAlchemy URL: {hide_password(db_url)!r}"
            ) from None
        pipeline = cls(
            db_url,
            crawl_run(crawler),
            crawler.stats,
            batch_size=positive_int(settings, "PROVENANCE_BATCH_SIZE"),
            flush_seconds=non_negative_float(settings, "PROVENANCE_FLUSH_SECONDS"),
            settings=recorded_settings(settings),
            on_persistent_failure=lambda reason: stop_crawl(crawler, reason),
        )
        pipeline.crawler = crawler
        crawler.signals.connect(pipeline.decision_made, signal=decision_made)
        crawler.signals.connect(pipeline.evidence_fetched, signal=evidence_fetched)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    # -- lifecycle ---------------------------------------------------------------------------

    def open_spider(self, spider: Spider | None = None) -> None:
        # Raises when the database cannot be used: a crawl must not run without its provenance.
        spider = spider or getattr(self.crawler, "spider", None)
        self.open(spider.name if spider is not None else "unknown")

    def open(self, spider_name: str) -> None:
        schema.upgrade(self.engine)
        with Session(self.engine) as session, session.begin():
            session.merge(
                models.Run(
                    id=self.run.id,
                    spider=spider_name,
                    started_at=self.run.started_at,
                    user_agent=self.run.user_agent,
                    profile=self.run.profile.name,
                    profile_sha256=self.run.profile.sha256,
                    settings=self.settings,
                    version=self.run.version,
                    hostname=socket.gethostname(),
                )
            )

    def close_spider(self, spider: Spider | None = None) -> None:
        self.flush()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        # Sent after the pipelines closed: the last decisions are in, and the reason is known.
        self.close(reason)

    def close(self, finish_reason: str | None = None) -> None:
        self.flush()
        if self.pending:
            logger.error(
                "%(count)d provenance rows could not be written to the database",
                {"count": self.pending},
            )
        try:
            with Session(self.engine) as session, session.begin():
                run = session.get(models.Run, self.run.id)
                if run is not None:
                    run.finished_at = datetime.now(UTC)
                    run.finish_reason = finish_reason
                    run.stats = {
                        k: v
                        for k, v in self.stats.get_stats().items()
                        if k.startswith(("policy/", "warc/", "provenance/"))
                    }
        except SQLAlchemyError:
            logger.exception("Could not record the end of run %(run)s", {"run": self.run.id})
        self.engine.dispose()

    # -- rows --------------------------------------------------------------------------------

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, CaptureItem):
            return item
        decision = decision_row(item.decision, self.run.id, item.provenance)
        capture = None
        if item.warc is not None:
            content_type = next(
                (
                    v.decode("latin-1")
                    for k, v in item.response.headers
                    if k.lower() == b"content-type"
                ),
                None,
            )
            capture = {
                "run_id": self.run.id,
                "url": item.url,
                "fetched_at": item.response.fetched_at or item.decision.decided_at,
                "status": item.response.status,
                "content_type": content_type,
                "warc_file": item.warc.filename,
                "warc_offset": item.warc.offset,
                "warc_length": item.warc.length,
                "record_id": item.warc.record_id,
                "payload_digest": item.warc.payload_digest,
                "metadata_record_id": item.metadata_record_id,
                "etag": header_value(item.response.headers, b"etag"),
                "last_modified": header_value(item.response.headers, b"last-modified"),
                "revisit_of": item.revisit.refers_to if item.revisit else None,
                "revisit_profile": item.revisit.profile if item.revisit else None,
            }
            if item.previous is not None:  # a 304 may leave out what did not change
                capture["etag"] = capture["etag"] or item.previous.etag
                capture["last_modified"] = capture["last_modified"] or item.previous.last_modified
                capture["content_type"] = capture["content_type"] or item.previous.content_type
        self._add(decision, capture)
        return item

    def decision_made(self, decision: Decision) -> None:
        self._add(decision_row(decision, self.run.id))

    def evidence_fetched(self, evidence: EvidenceFetch) -> None:
        self._evidence.append(
            {
                "run_id": self.run.id,
                "kind": evidence.kind,
                "url": evidence.url,
                "fetched_at": evidence.fetched_at,
                "status": str(evidence.status),
                "sha256": evidence.sha256,
                "body": evidence.body,
                "record_id": evidence.record_id if evidence.response else None,
                "error": evidence.error,
            }
        )
        self._maybe_flush()

    def _add(self, decision: dict[str, Any], capture: dict[str, Any] | None = None) -> None:
        if capture is not None:
            self._captures.append((len(self._decisions), capture))
        self._decisions.append(decision)
        self._maybe_flush()

    @property
    def pending(self) -> int:
        return len(self._decisions) + len(self._captures) + len(self._evidence)

    def _maybe_flush(self) -> None:
        if (
            len(self._decisions) + len(self._evidence) >= self.batch_size
            or time.monotonic() - self._last_flush >= self.flush_seconds
        ):
            self.flush()

    def flush(self) -> None:
        """Write what is pending in one transaction; on failure keep it for the next attempt."""
        self._last_flush = time.monotonic()
        if not self._decisions and not self._evidence:
            return
        try:
            with self.engine.begin() as connection:
                if self._decisions:
                    # Bulk INSERT … RETURNING, ids in parameter order, so captures can refer to them.
                    ids = (
                        connection.execute(
                            insert(models.Decision).returning(
                                models.Decision.id, sort_by_parameter_order=True
                            ),
                            self._decisions,
                        )
                        .scalars()
                        .all()
                    )
                    if self._captures:
                        connection.execute(
                            insert(models.Capture),
                            [{**row, "decision_id": ids[index]} for index, row in self._captures],
                        )
                if self._evidence:
                    connection.execute(insert(models.Evidence), self._evidence)
        except SQLAlchemyError:
            logger.exception(
                "Writing %(count)d provenance rows failed; will retry", {"count": self.pending}
            )
            self.stats.inc_value("provenance/errors")
            self._failed_flushes += 1
            if self._failed_flushes == MAX_FAILED_FLUSHES and self.on_persistent_failure:
                # Crawling on without recording provenance would collect bytes no one can vouch for.
                self.on_persistent_failure("provenance_db_error")
            return
        self._failed_flushes = 0
        self.stats.inc_value("provenance/rows", self.pending)
        self.stats.inc_value("provenance/batches")
        self._decisions, self._captures, self._evidence = [], [], []
