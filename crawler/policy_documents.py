"""Fetch policy documents (robots.txt, tdmrep.json, ai.txt, RSL licences) through the engine.

Each fetch goes through the downloader middlewares like any request (the access guard refuses
private targets; redirects are followed) but skips the page gate, is never served from Scrapy's
HTTP cache, and is announced on `evidence_fetched`, so it is archived (WARC + `evidence` table)
whatever its outcome. Decisions cite the archived response by its record id.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future

from crawler import meta
from crawler.content_encoding import undecoded_encoding
from crawler.items import EvidenceFetch
from crawler.middlewares.wire_capture import take_exchange
from crawler.signals import evidence_fetched
from policies.evidence import TOO_LARGE_STATUS
from policies.origin import PolicyDocument
from policies.signals.robots import NETWORK_ERROR

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

EVIDENCE_PRIORITY = 1000  # ahead of every page, like Scrapy's robots.txt requests
EVIDENCE_MAXSIZE = 16 * 1024 * 1024  # download cap; parsers read less (robots.txt: 500 KiB)
_SIZE_LIMIT = re.compile(r"larger than download max size|exceeded DOWNLOAD_MAXSIZE")


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


class PolicyDocumentFetcher:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    async def fetch(
        self, kind: str, url: str, *, max_redirects: int | None = None
    ) -> tuple[PolicyDocument, str | None]:
        """The document, and why its body cannot be read (an undecodable encoding), if so."""
        record_id = new_record_id()
        request_meta = {
            meta.EVIDENCE: kind,
            "dont_cache": True,  # never Scrapy's HTTP cache: our caching rules apply
            "download_maxsize": EVIDENCE_MAXSIZE,
        }
        if max_redirects is not None:
            request_meta["redirect_ttl"] = max_redirects
        request = Request(
            url,
            priority=EVIDENCE_PRIORITY,
            dont_filter=True,
            callback=NO_CALLBACK,
            meta=request_meta,
        )
        stats = self.crawler.stats
        stats.inc_value(f"policy/evidence/{kind}/requests")
        try:
            response = await self._download(request)
        except Exception as exc:  # noqa: BLE001 - any failure to fetch is "unreachable"
            logger.info(
                "%(kind)s %(url)s not fetched: %(error)r", {"kind": kind, "url": url, "error": exc}
            )
            # Past the download cap the document exists but was not read: its parser fails
            # closed on it (policy-error), where a network error is a profile's choice.
            status = TOO_LARGE_STATUS if _SIZE_LIMIT.search(str(exc)) else NETWORK_ERROR
            stats.inc_value(f"policy/evidence/{kind}/status/{status}")
            self._announce(
                EvidenceFetch(
                    kind,
                    url,
                    datetime.now(UTC),
                    status,
                    record_id,
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
            return PolicyDocument(url, status), None
        wire = take_exchange(self.crawler, response.request or request)
        self._announce(
            EvidenceFetch(
                kind,
                url,
                datetime.now(UTC),
                response.status,
                record_id,
                request=wire[0] if wire else None,
                response=wire[1] if wire else None,
                body=response.body,
            )
        )
        stats.inc_value(f"policy/evidence/{kind}/status/{response.status}")
        document = PolicyDocument(url, response.status, response.body, record_id if wire else None)
        return document, undecoded_encoding(response)

    async def _download(self, request: Request) -> Response:
        engine = self.crawler.engine
        assert engine is not None
        if hasattr(engine, "download_async"):  # Scrapy >= 2.14
            return await engine.download_async(request)
        return await maybe_deferred_to_future(engine.download(request))

    def _announce(self, fetch: EvidenceFetch) -> None:
        self.crawler.signals.send_catch_log(signal=evidence_fetched, evidence=fetch)
