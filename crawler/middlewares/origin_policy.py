"""Before fetching: what the origin says — robots.txt and, as the profile asks, tdmrep.json,
ai.txt and RSL licences — fetched once per origin, cached up to 24 hours, archived as evidence;
and what its terms pages say in words (crawler/terms_pages.py), read from the links of its first
kept HTML page, on that page's way back to the spider; and the RSL licences its pages name
(crawler/rsl_licences.py), read while the naming page is decided.

Replaces Scrapy's RobotsTxtMiddleware, which allows everything when robots.txt cannot be fetched;
here RFC 9309 applies (5xx, 429, network error → complete disallow). Requests for an origin whose
documents are being fetched wait for that one fetch. A URL that the origin's documents reserve is
refused here, before it is requested.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.utils.httpobj import urlparse_cached

from crawler import meta
from crawler.contracts import SettingError, crawl_run, non_negative_float
from crawler.decisions import exclude
from crawler.distributed import Fetch, shared_state
from crawler.fetched_once import FetchedOnce
from crawler.policy_documents import PolicyDocumentFetcher
from crawler.rsl_licences import LinkedLicences
from crawler.terms_pages import TermsReader
from policies.ai_agents import training_agents
from policies.engine import decide
from policies.origin import OriginEvidence, PolicyDocument
from policies.signals import robots as rfc9309
from policies.signals.robots import RobotsTxt
from policies.signals.tdmrep_file import WELL_KNOWN_PATH, TdmrepFile

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from policies.evidence import Signal

logger = logging.getLogger(__name__)


class OriginPolicyMiddleware:
    def __init__(self, crawler: Crawler, *, cache_seconds: float = rfc9309.CACHE_SECONDS):
        self.crawler = crawler
        run = crawl_run(crawler)
        self.profile = run.profile
        self.token = run.token
        self.rsl_user_type = run.rsl_user_type
        self.ai_agents = training_agents().tokens
        self.fetcher = PolicyDocumentFetcher(crawler)
        self.shared = shared_state(crawler)
        self.terms = (
            TermsReader(crawler, self, self.fetcher, self.token)
            if "terms" in self.profile.fetch
            else None
        )
        # RSL licences named by pages (Link header, HTML <link>): read by the response policy.
        self.licences = (
            LinkedLicences(crawler, self, cache_seconds) if "rsl" in self.profile.fetch else None
        )
        self._origins: FetchedOnce[str, OriginEvidence] = FetchedOnce(cache_seconds)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        cache_seconds = non_negative_float(crawler.settings, "POLICY_CACHE_SECONDS")
        if cache_seconds > rfc9309.CACHE_SECONDS:
            raise SettingError(
                f"Setting POLICY_CACHE_SECONDS must be at most {rfc9309.CACHE_SECONDS:.0f}: "
                "RFC 9309 §2.4 says a cached robots.txt SHOULD NOT be used for more than 24 hours"
            )
        return cls(crawler, cache_seconds=cache_seconds)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get(meta.EVIDENCE):
            return
        evidence, origin_signals, file_signal = await self.signals_for(request.url)
        request.meta[meta.SIGNALS] = origin_signals
        if evidence.robots is not None:
            request.meta[meta.CRAWL_DELAY] = evidence.robots.delay_for(self.token)
        request.meta[meta.TDMREP_FILE] = file_signal
        before = [*origin_signals, *([file_signal] if file_signal else ())]
        decision = decide(request.url, before, profile=self.profile, stage="before-fetch")
        if not decision.kept:
            exclude(self.crawler, decision)

    async def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        # After the response policy (110) kept it, before the spider sees it: its links may
        # name the origin's terms pages, read before any page it leads to is requested.
        if self.terms is not None and request.meta.get(meta.DECISION) is not None:
            await self.terms.page_kept(response)
        return response

    async def signals_for(
        self, url: str
    ) -> tuple[OriginEvidence, tuple[Signal, ...], Signal | None]:
        """What the origin of `url` says about it: its evidence, its signals, its tdmrep.json rule.

        The browser gate (crawler/render/gate.py) asks this for every request a rendering page
        makes, so pages and their subresources share one cache and one fetch per origin.
        """
        evidence = await self.url_evidence(url)
        origin_signals = tuple(
            evidence.signals(url, self.token, self.ai_agents, self.rsl_user_type)
        )
        if self.terms is not None:  # what its terms pages say in words, once they were read
            origin_signals += await self.terms.signals(evidence.origin)
        if self.licences is not None:  # licences earlier pages named, where they cover `url`
            origin_signals += tuple(self.licences.origin_signals(url))
        return evidence, origin_signals, evidence.tdmrep_signal(url)

    async def url_evidence(self, url: str) -> OriginEvidence:
        """The evidence of the origin of `url` (cached), without reading its rules for `url`."""
        parts = urlsplit(url)
        return await self.origin_evidence(f"{parts.scheme}://{parts.netloc}")

    async def evidence_for(self, request: Request) -> OriginEvidence:
        parsed = urlparse_cached(request)
        return await self.origin_evidence(f"{parsed.scheme}://{parsed.netloc}")

    async def origin_evidence(self, origin: str) -> OriginEvidence:
        return await self._origins.get(
            origin, lambda: self._fetch_evidence(origin), lambda: self._unreadable(origin)
        )

    async def _fetch_evidence(self, origin: str) -> tuple[OriginEvidence, float | None]:
        if self.shared is not None:  # fetched once for all workers, replayed by the others
            return await self.shared.evidence(
                origin, lambda fetch: self._fetch(origin, fetch), self.fetcher.fetch
            )
        return await self._fetch(origin, self.fetcher.fetch), None

    @staticmethod
    def _unreadable(origin: str) -> OriginEvidence:
        """A bug while reading them must not leave waiting requests hanging: fail closed."""
        logger.exception("Reading the policy documents of %(origin)s failed", {"origin": origin})
        return OriginEvidence(
            origin, RobotsTxt.from_fetch(f"{origin}/robots.txt", rfc9309.NETWORK_ERROR)
        )

    async def _fetch(self, origin: str, fetch: Fetch) -> OriginEvidence:
        document, unreadable = await fetch(
            "robots.txt", f"{origin}/robots.txt", max_redirects=rfc9309.MAX_REDIRECTS
        )
        robots = RobotsTxt.from_fetch(
            document.url,
            document.status,
            document.body,
            record_id=document.record_id,
            unreadable=unreadable,
        )
        if robots.access == "unreachable":
            return OriginEvidence(origin, robots)  # nothing will be fetched from this origin
        robots_text = document.text if robots.access == "parsed" else ""
        wanted = self.profile.fetch
        tdmrep = ai_txt = None
        if "tdmrep.json" in wanted:
            tdmrep = await self._tdmrep(origin, robots, fetch)
        if "ai.txt" in wanted:
            ai_txt = await self.fetch_document("ai.txt", f"{origin}/ai.txt", robots, fetch)
        partial = OriginEvidence(origin, robots, robots_text)
        rsl = []
        if "rsl" in wanted:
            for licence in partial.licence_urls:
                rsl.append(await self.fetch_document("rsl", licence, None, fetch))
        return OriginEvidence(origin, robots, robots_text, tdmrep, ai_txt, tuple(rsl))

    async def fetch_document(
        self, kind: str, url: str, robots: RobotsTxt | None, fetch: Fetch
    ) -> PolicyDocument:
        if robots is not None and not robots.allows(url, self.token):
            return PolicyDocument(url, 403)  # robots.txt forbids us to fetch it: not in use for us
        document, unreadable = await fetch(kind, url)
        if unreadable:  # cannot read it: as if it could not be fetched
            return PolicyDocument(url, rfc9309.NETWORK_ERROR, None, document.record_id)
        return document

    async def _tdmrep(self, origin: str, robots: RobotsTxt, fetch: Fetch) -> TdmrepFile:
        document = await self.fetch_document(
            "tdmrep.json", f"{origin}{WELL_KNOWN_PATH}", robots, fetch
        )
        return TdmrepFile.parse(
            document.url, document.status, document.body, record_id=document.record_id
        )
