"""Fetch policy documents (robots.txt, tdmrep.json, ai.txt, RSL licences, terms pages) through the engine.

Each fetch goes through the downloader middlewares like any request — the access guard refuses
every hop of a redirect it would refuse as a page — but skips the page gate, is never served from
Scrapy's HTTP cache, and is announced on `evidence_fetched`, so it is recorded (`evidence` table)
whatever its outcome. Decisions cite the archived response by its record id.

What is archived passes the same after-fetch reading as a page (`policies.assess.
response_signals` and `decide` with the crawl's profile), on the address actually connected to:

- connected to a private address (a DNS answer that changed after the guard's look-up): nothing
  from it is archived or used; the document counts as unreachable (RFC 9309 §2.3.1.4 for
  robots.txt: complete disallow; for the others, as the profile says for unreachable files);
- the response reserves itself (`tdm-reservation: 1`, `X-Robots-Tag: noai`, `Content-Usage`,
  a reservation `<meta>` on the page a redirect led to, …) or its signals cannot be read (an
  undecodable body): its bytes are not archived. A robots.txt is still read, in memory only —
  RFC 9309's access rules bind us whatever else the response says, and ignoring them would fetch
  more. tdmrep.json, ai.txt and RSL documents are read as unreadable, so the profile's rule for
  unreadable files applies (fail closed where it fails closed). A non-2xx answer means what its
  status means, body or not.

Either way an `evidence` row records the refusal (status, no body, `error` saying why), with the
stats `policy/evidence/<kind>/refused/<reason>`.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future

from crawler import meta
from crawler.content_encoding import undecoded_encoding
from crawler.contracts import EvidenceFetch, crawl_run, evidence_fetched
from crawler.middlewares.access_guard import Refused, private_peer
from crawler.middlewares.fetch_failure import BodyTooLarge
from crawler.middlewares.response_policy import HTML_MAX_TAGS, own_signals
from crawler.middlewares.wire_capture import take_exchange
from policies import reasons
from policies.engine import decide
from policies.evidence import TOO_LARGE_STATUS
from policies.origin import PolicyDocument
from policies.signals.robots import NETWORK_ERROR

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

EVIDENCE_PRIORITY = 1000  # ahead of every page, like Scrapy's robots.txt requests
EVIDENCE_MAXSIZE = 16 * 1024 * 1024  # download cap; parsers read less (robots.txt: 500 KiB)
ROBOTS_TXT = "robots.txt"
_SIZE_LIMIT = re.compile(r"larger than download max size|exceeded DOWNLOAD_MAXSIZE")


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


class PolicyDocumentFetcher:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        run = crawl_run(crawler)
        self.profile = run.profile
        self.token = run.token
        self.allow_private = crawler.settings.getbool("ALLOW_PRIVATE_ADDRESSES")
        self.max_tags = crawler.settings.getint("POLICY_HTML_MAX_TAGS", HTML_MAX_TAGS)

    async def fetch(
        self,
        kind: str,
        url: str,
        *,
        max_redirects: int | None = None,
        maxsize: int = EVIDENCE_MAXSIZE,
    ) -> tuple[PolicyDocument, str | None]:
        """The document, and why its body cannot be read (an undecodable encoding, a refusal).
        `maxsize`: the download cap (a sitemap may be 50 MiB: crawler/sitemaps.py)."""
        record_id = new_record_id()
        request_meta = {
            meta.EVIDENCE: kind,
            "dont_cache": True,  # never Scrapy's HTTP cache: our caching rules apply
            "download_maxsize": maxsize,
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
        except Refused as exc:  # the guard refused this URL or a hop of its redirects
            self._refused(kind, url, record_id, NETWORK_ERROR, [exc.reason], exc.why)
            return PolicyDocument(url, NETWORK_ERROR), None
        except Exception as exc:  # noqa: BLE001 - any failure to fetch is "unreachable"
            logger.info(
                "%(kind)s %(url)s not fetched: %(error)r", {"kind": kind, "url": url, "error": exc}
            )
            # Past the download cap the document exists but was not read: its parser fails
            # closed on it (policy-error), where a network error is a profile's choice.
            too_large = isinstance(exc, BodyTooLarge) or _SIZE_LIMIT.search(str(exc))
            status = TOO_LARGE_STATUS if too_large else NETWORK_ERROR
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
        wire = take_exchange(self.crawler, response.request or request)  # taken, kept or not
        stats.inc_value(f"policy/evidence/{kind}/status/{response.status}")
        undecoded = undecoded_encoding(response)
        connected = private_peer(response, self.allow_private)
        if connected:
            why = f"connected to {connected}: nothing from it is kept or used"
            error = self._refused(
                kind, url, record_id, response.status, [reasons.PRIVATE_ADDRESS], why
            )
            return PolicyDocument(url, NETWORK_ERROR), error
        refusal = self.self_reservation(response)
        if refusal:
            why = undecoded or f"{response.url} reserves itself: not archived"
            error = self._refused(kind, url, record_id, response.status, refusal, why)
            if not 200 <= response.status < 300:  # its status is all that it says
                return PolicyDocument(url, response.status), None
            if kind == ROBOTS_TXT and not undecoded:  # RFC 9309 rules: read, never archived
                return PolicyDocument(url, response.status, response.body), None
            return PolicyDocument(url, response.status), error
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
        content_type = response.headers.get("Content-Type")
        document = PolicyDocument(
            url,
            response.status,
            response.body,
            record_id if wire else None,
            content_type.decode("latin-1") if content_type else None,
        )
        return document, undecoded

    def self_reservation(self, response: Response) -> tuple[str, ...]:
        """Why the profile would not keep this response as a page, from what it says of itself."""
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in response.headers.items()
            for value in values
        ]
        found, unread = own_signals(response, headers, token=self.token, max_tags=self.max_tags)
        decision = decide(
            response.url,
            found,
            profile=self.profile,
            stage="after-fetch",
            extra_reasons=[reasons.POLICY_ERROR] if unread else [],
        )
        return decision.reasons

    def _refused(
        self,
        kind: str,
        url: str,
        record_id: str,
        status: int | str,
        refusal: Sequence[str],
        why: str,
    ) -> str:
        """Record a refused fetch (no bytes); returns what its `evidence` row says."""
        logger.info(
            "%(kind)s %(url)s refused (%(reasons)s): %(why)s",
            {"kind": kind, "url": url, "reasons": ", ".join(refusal), "why": why},
        )
        for reason in refusal:
            self.crawler.stats.inc_value(f"policy/evidence/{kind}/refused/{reason}")
        error = f"refused ({', '.join(refusal)}): {why}"
        self._announce(EvidenceFetch(kind, url, datetime.now(UTC), status, record_id, error=error))
        return error

    async def _download(self, request: Request) -> Response:
        engine = self.crawler.engine
        assert engine is not None
        if hasattr(engine, "download_async"):  # Scrapy >= 2.14
            return await engine.download_async(request)
        return await maybe_deferred_to_future(engine.download(request))

    def _announce(self, fetch: EvidenceFetch) -> None:
        self.crawler.signals.send_catch_log(signal=evidence_fetched, evidence=fetch)
