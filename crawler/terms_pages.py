"""An origin's terms pages, read once for natural-language reservations (profiles whose
`[evidence] fetch` lists "terms": every bundled profile).

When a page of an origin is kept and is HTML, its links name the site's terms, legal notice,
copyright or licensing pages (policies/signals/terms_links.py). Those on the origin's own site
(same registrable domain) are fetched like any policy document (crawler/policy_documents.py: the
access guard, politeness, never Scrapy's cache, archived as evidence of kind `terms`), each only if
the robots.txt of its own origin lets our token fetch it, and read by
policies/signals/natural_language.py. A sentence that reserves TDM/AI use becomes a Signal
(`natural-language-reservation`, source = the terms page, evidence_record = its WARC record)
that the origin policy adds to every later request of the origin: the profile decides.

Timing. The reading happens while the page that named the terms is on its way back to the spider
(OriginPolicyMiddleware.process_response), and requests of that origin wait for it at the gate,
so every page requested from links, sitemaps or the spider's later requests is decided with it.
Pages that passed the gate before — the first page itself, requests already in flight — stay as
decided: the reading does not call back what it did not know. (Fetching a page before the first
page only to look for terms links would fetch an extra page per origin, and find nothing when the
site's home page is not that page.) Up to MAX_PAGES kept HTML pages of an origin are looked at
until one names terms pages; at most MAX_DOCUMENTS are fetched. Read once per run (per worker,
in distributed mode), not refreshed within the run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.http import HtmlResponse
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from crawler.contracts import registrable_domain
from policies.origin import origin_of
from policies.signals.natural_language import Phrases, reservation_signal
from policies.signals.terms_links import terms_links

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.middlewares.origin_policy import OriginPolicyMiddleware
    from crawler.policy_documents import PolicyDocumentFetcher
    from policies.evidence import Signal

logger = logging.getLogger(__name__)

KIND = "terms"  # the evidence kind
MAX_PAGES = 3  # kept HTML pages of an origin looked at for terms links
MAX_DOCUMENTS = 5  # terms pages fetched per origin at most
MAX_BYTES = 4 * 1024 * 1024  # a terms page is text; past this it is not read (download cap)


@dataclass(frozen=True, slots=True)
class OriginTerms:
    """What the terms pages of an origin said: the findings, and the pages read."""

    signals: tuple[Signal, ...] = ()
    pages: tuple[str, ...] = ()


def _site(url: str) -> str:
    return registrable_domain(urlsplit(url).hostname or "")


class TermsReader:
    def __init__(
        self,
        crawler: Crawler,
        origin_policy: OriginPolicyMiddleware,
        fetcher: PolicyDocumentFetcher,
        token: str,
        phrases: Phrases | None = None,
    ):
        self.crawler = crawler
        self.origin_policy = origin_policy
        self.fetcher = fetcher
        self.token = token
        self.phrases = phrases or Phrases.load()
        self._read: dict[str, OriginTerms | Deferred[None]] = {}
        self._looked: dict[str, int] = {}  # kept HTML pages looked at, per origin still open

    async def signals(self, origin: str) -> tuple[Signal, ...]:
        """The findings of `origin`'s terms pages; waits while they are being read."""
        entry = self._read.get(origin)
        while isinstance(entry, Deferred):
            await maybe_deferred_to_future(entry)
            entry = self._read.get(origin)
        return entry.signals if entry is not None else ()

    async def page_kept(self, response: Response) -> None:
        """A kept page: if it is HTML of an origin whose terms are not read yet, read them."""
        if not isinstance(response, HtmlResponse) or response.status != 200:
            return
        origin = origin_of(response.url)
        if origin in self._read:
            return
        links = [
            url for url in terms_links(response.text, response.url, self.phrases)
            if _site(url) == _site(response.url)
        ][:MAX_DOCUMENTS]  # fmt: skip
        if not links:
            looked = self._looked.get(origin, 0) + 1
            self._looked[origin] = looked
            if looked >= MAX_PAGES:
                self._read[origin] = OriginTerms()
                self._looked.pop(origin, None)
            return
        self._looked.pop(origin, None)
        waiting: Deferred[None] = Deferred()
        self._read[origin] = waiting
        try:
            terms = await self._read_pages(origin, links)
        except Exception:  # a bug here must not leave the origin's requests waiting
            logger.exception("Reading the terms pages of %(origin)s failed", {"origin": origin})
            terms = OriginTerms()
        self._read[origin] = terms
        waiting.callback(None)

    async def _read_pages(self, origin: str, links: list[str]) -> OriginTerms:
        stats = self.crawler.stats
        found: list[Signal] = []
        read: list[str] = []
        for url in links:
            evidence = await self.origin_policy.url_evidence(url)
            if evidence.robots is None or not evidence.robots.allows(url, self.token):
                logger.info("Terms page %(url)s not fetched: robots.txt disallows it", {"url": url})
                stats.inc_value("terms/robots_disallowed")
                continue
            document, unreadable = await self.fetcher.fetch(KIND, url, maxsize=MAX_BYTES)
            if not document.ok or document.body is None or unreadable:
                continue
            read.append(url)
            stats.inc_value("terms/read")
            signal = reservation_signal(
                url,
                document.body,
                document.content_type or "",
                record_id=document.record_id,
                phrases=self.phrases,
            )
            if signal is not None:
                logger.info(
                    "Terms page %(url)s reserves TDM/AI use in words: %(sentence)r",
                    {"url": url, "sentence": signal.value},
                )
                stats.inc_value("terms/reservations")
                found.append(signal)
        return OriginTerms(tuple(found), tuple(read))
