"""Incremental re-crawls: ask again only for what changed, and re-check every reservation.

A URL kept by an earlier run (same policy profile, not withdrawn) is requested with the validators
its server sent then (`If-None-Match`, `If-Modified-Since`, RFC 9110 §13.1). The gate runs first,
as on any request: robots.txt, tdmrep.json and the declared reservations are read again on every
run. Then:

- `304 Not Modified` is kept as a `revisit` record (profile server-not-modified) referring to the
  stored response; the spider follows the links of the stored payload;
- a `200` whose payload digest equals the stored one becomes a `revisit` record too (profile
  identical-payload-digest) — both decided in the WARC pipeline;
- a URL excluded for a reservation (not for an error) has its earlier captures withdrawn: a
  decision row per capture, as `scrapy withdraw` writes them; nothing is deleted.

`RECRAWL_ENABLED = False` fetches every page whole and leaves earlier captures alone.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler import meta
from crawler.contracts import crawl_run, decision_made
from crawler.decisions import announce_exclusion
from pipelines import models
from pipelines.queries import previous_captures
from pipelines.withdraw import STAGE, reserves, withdrawal_of, withdrawn_record_ids
from policies.evidence import Decision

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from sqlalchemy.engine import Engine

    from crawler.contracts import PreviousCapture

logger = logging.getLogger(__name__)


class RecrawlMiddleware:
    def __init__(self, crawler: Crawler, db_url: str, warc_dir: str):
        self.crawler = crawler
        self.db_url = db_url
        self.warc_dir = warc_dir
        self.previous: dict[str, PreviousCapture] = {}
        self.captured: set[str] = set()  # URLs with captures not withdrawn
        self.withdrawn: set[str] | None = None  # read once, on the first withdrawal
        self.engine: Engine | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("RECRAWL_ENABLED"):
            raise NotConfigured("RECRAWL_ENABLED is off")
        middleware = cls(crawler, settings.get("PROVENANCE_DB_URL"), settings.get("WARC_DIR"))
        # After the pipelines opened: the provenance pipeline has brought the schema up to date.
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.decision_made, signal=decision_made)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_closed(self, spider: Spider) -> None:
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    def spider_opened(self, spider: Spider) -> None:
        self.engine = models.create_engine(self.db_url)  # kept for withdrawals during the crawl
        self.previous, self.captured = previous_captures(
            self.engine, crawl_run(self.crawler).profile.sha256, self.warc_dir
        )
        self.crawler.stats.set_value("recrawl/known_urls", len(self.previous))
        if self.previous:
            logger.info(
                "Re-crawl: %(count)d URLs kept before will be asked for conditionally",
                {"count": len(self.previous)},
            )

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get(meta.EVIDENCE) or request.method != "GET":
            return
        # Redirects and retries copy headers and meta: what was asked for another URL goes.
        self._forget_conditions(request)
        previous = self.previous.get(request.url)
        if previous is None:
            return
        request.meta[meta.PREVIOUS] = previous
        if request.meta.get(meta.RENDER):
            return  # a browser given a 304 has nothing to render: a same payload is a revisit
        added = []
        if previous.etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = previous.etag.encode("latin-1")
            added.append("If-None-Match")
        if previous.last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = previous.last_modified.encode("latin-1")
            added.append("If-Modified-Since")
        allowed = request.meta.get("handle_httpstatus_list") or []
        if 304 not in allowed:
            request.meta["handle_httpstatus_list"] = [*allowed, 304]
            added.append("304")
        request.meta[meta.CONDITIONS] = added
        self.crawler.stats.inc_value("recrawl/conditional_requests")

    @staticmethod
    def _forget_conditions(request: Request) -> None:
        request.meta.pop(meta.PREVIOUS, None)
        for added in request.meta.pop(meta.CONDITIONS, ()):
            if added == "304":
                allowed = [s for s in request.meta.get("handle_httpstatus_list", ()) if s != 304]
                if allowed:
                    request.meta["handle_httpstatus_list"] = allowed
                else:
                    request.meta.pop("handle_httpstatus_list", None)
            else:
                request.headers.pop(added.encode("ascii"), None)

    def decision_made(self, decision: Decision) -> None:
        if decision.outcome != "excluded" or decision.stage == STAGE:
            return
        if decision.url not in self.captured:
            return
        if not reserves(decision):
            return
        self.withdraw_earlier(decision)

    def withdraw_earlier(self, decision: Decision) -> None:
        """The rights holder reserved a page kept before: withdraw its earlier captures."""
        if self.engine is None:
            return
        with Session(self.engine) as session:
            if self.withdrawn is None:
                self.withdrawn = withdrawn_record_ids(session)
            captures = session.execute(
                select(
                    models.Capture.record_id, models.Capture.warc_file, models.Capture.run_id
                ).where(models.Capture.url == decision.url)
            ).all()
        self.previous.pop(decision.url, None)
        self.captured.discard(decision.url)
        for record_id, warc_file, run_id in captures:
            if record_id in self.withdrawn:
                continue
            self.withdrawn.add(record_id)
            capture = {"record_id": record_id, "warc_file": warc_file, "capture_run_id": run_id}
            withdrawal = withdrawal_of(decision, capture, recrawl=True)
            self.crawler.stats.inc_value("recrawl/withdrawn")
            announce_exclusion(self.crawler, withdrawal)
