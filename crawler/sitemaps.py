"""Sitemaps seed the crawl (`SITEMAPS`, on by default): for each seed's origin, the `Sitemap:`
lines of its robots.txt, else `/sitemap.xml`.

Read as sitemaps.org says: XML `urlset` and `sitemapindex` (Scrapy's `scrapy.utils.sitemap`, which
resolves no entity), text sitemaps (one URL a line), gzip-compressed files; at most 50,000 URLs
and 50 MiB uncompressed a file — past the count the first 50,000 are read, past the size the
file is not read (a problem logged and counted, `sitemaps/problems/<problem>`). An index may list
indexes (the spec says it must not; sites do) down to MAX_INDEX_DEPTH; each sitemap is read once.

A sitemap is fetched like a policy document (crawler/policy_documents.py): only when the robots.txt
of its own origin allows our token to fetch it, through the access guard and politeness, and
archived as evidence (`evidence` row, kind `sitemap`) whatever its outcome — it says where the
URLs it lists came from. Each listed URL is then a candidate like a link: in scope or dropped
unrequested (crawler/scope.py), gated, decided; its decision's `detail.sitemap` names the
sitemap, its evidence record and the `lastmod` it gave.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import lxml.etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from policies.origin import origin_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.middlewares.origin_policy import OriginPolicyMiddleware
    from crawler.policy_documents import PolicyDocumentFetcher

logger = logging.getLogger(__name__)

MAX_URLS = 50_000  # sitemaps.org: "no more than 50,000 URLs"
MAX_BYTES = 50 * 1024 * 1024  # sitemaps.org: "no larger than 50MB (52,428,800 bytes)"
MAX_INDEX_DEPTH = 3  # index → index → index → sitemap, deeper is not read
KIND = "sitemap"  # the evidence kind


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    loc: str
    lastmod: str | None = None


@dataclass(frozen=True, slots=True)
class SitemapFile:
    """A sitemap as read: `type` is urlset, sitemapindex, text or unreadable."""

    type: str
    entries: tuple[SitemapEntry, ...] = ()
    problems: tuple[str, ...] = ()


def _absolute(loc: str, base: str) -> str | None:
    url = urljoin(base, loc.strip())
    return url if urlsplit(url).scheme in ("http", "https") else None


def parse_sitemap(body: bytes, url: str) -> SitemapFile:
    """A sitemap file's entries, within the sitemaps.org limits (never an exception)."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=MAX_BYTES)
        except ValueError:  # Scrapy's _DecompressionMaxSizeExceeded: past max_size
            return SitemapFile("unreadable", problems=("too-large",))
        except (OSError, EOFError, struct.error):
            return SitemapFile("unreadable", problems=("bad-gzip",))
    if len(body) > MAX_BYTES:
        return SitemapFile("unreadable", problems=("too-large",))
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"<"):
        return _parse_xml(body, url)
    return _parse_text(body, url)


def _parse_xml(body: bytes, url: str) -> SitemapFile:
    try:
        sitemap = Sitemap(body)
    except (lxml.etree.XMLSyntaxError, StopIteration, ValueError):
        return SitemapFile("unreadable", problems=("bad-xml",))
    if sitemap.type not in ("urlset", "sitemapindex"):
        return SitemapFile("unreadable", problems=("not-a-sitemap",))
    entries: list[SitemapEntry] = []
    problems: list[str] = []
    try:
        for item in sitemap:
            if len(entries) == MAX_URLS:
                problems.append("too-many-urls")
                break
            loc = _absolute(item.get("loc", ""), url)
            if loc:
                entries.append(SitemapEntry(loc, item.get("lastmod") or None))
    except lxml.etree.XMLSyntaxError:
        problems.append("bad-xml")  # what was read before the error stands
    return SitemapFile(sitemap.type, tuple(entries), tuple(problems))


def _parse_text(body: bytes, url: str) -> SitemapFile:
    entries: list[SitemapEntry] = []
    problems: list[str] = []
    for line in body.decode("utf-8-sig", "replace").splitlines():
        loc = line.strip()
        if not loc:
            continue
        if len(entries) == MAX_URLS:
            problems.append("too-many-urls")
            break
        if urlsplit(loc).scheme in ("http", "https"):  # sitemaps.org: full URLs only
            entries.append(SitemapEntry(loc))
    return SitemapFile("text", tuple(entries), tuple(problems))


@dataclass(frozen=True, slots=True)
class ListedUrl:
    """A URL a sitemap listed, with where it came from (the decision's `detail.sitemap`)."""

    url: str
    sitemap: str
    record: str | None  # WARC-Record-ID of the archived sitemap
    lastmod: str | None

    def provenance(self) -> dict[str, str]:
        found = {"url": self.sitemap}
        if self.record:
            found["record"] = self.record
        if self.lastmod:
            found["lastmod"] = self.lastmod
        return found


class SitemapReader:
    """Reads the sitemaps of an origin through the gate's own origin policy and fetcher."""

    def __init__(
        self,
        crawler: Crawler,
        origin_policy: OriginPolicyMiddleware,
        fetcher: PolicyDocumentFetcher,
        token: str,
    ):
        self.crawler = crawler
        self.origin_policy = origin_policy
        self.fetcher = fetcher
        self.token = token
        self.read: set[str] = set()

    async def sitemaps_of(self, origin: str) -> list[str]:
        """The origin's robots.txt `Sitemap:` lines, else its /sitemap.xml."""
        evidence = await self.origin_policy.origin_evidence(origin)
        listed = []
        if evidence.robots is not None and evidence.robots.access == "parsed":
            text = evidence.robots_text.encode("utf-8")
            listed = [u for u in sitemap_urls_from_robots(text, origin + "/") if _absolute(u, u)]
        return list(dict.fromkeys(listed)) or [f"{origin}/sitemap.xml"]

    async def urls(self, origin: str) -> AsyncIterator[ListedUrl]:
        queue = [(url, 0) for url in await self.sitemaps_of(origin)]
        while queue:
            url, depth = queue.pop(0)
            if url in self.read:
                continue
            self.read.add(url)
            found = await self._read(url)
            if found is None:
                continue
            parsed, record = found
            if parsed.type == "sitemapindex":
                if depth + 1 > MAX_INDEX_DEPTH:
                    self._problem(url, "index-too-deep")
                    continue
                queue += [(entry.loc, depth + 1) for entry in parsed.entries]
                continue
            for entry in parsed.entries:
                yield ListedUrl(entry.loc, url, record, entry.lastmod)

    async def _read(self, url: str) -> tuple[SitemapFile, str | None] | None:
        stats = self.crawler.stats
        evidence = await self.origin_policy.url_evidence(url)
        if evidence.robots is None or not evidence.robots.allows(url, self.token):
            logger.info("Sitemap %(url)s not fetched: robots.txt disallows it", {"url": url})
            stats.inc_value("sitemaps/robots_disallowed")
            return None
        document, unreadable = await self.fetcher.fetch(KIND, url, maxsize=MAX_BYTES)
        if not document.ok or document.body is None or unreadable:
            return None
        parsed = parse_sitemap(document.body, url)
        for problem in parsed.problems:
            self._problem(url, problem)
        stats.inc_value("sitemaps/read")
        stats.inc_value(
            "sitemaps/urls", len(parsed.entries) if parsed.type != "sitemapindex" else 0
        )
        return parsed, document.record_id

    def _problem(self, url: str, problem: str) -> None:
        logger.warning("Sitemap %(url)s: %(problem)s", {"url": url, "problem": problem})
        self.crawler.stats.inc_value(f"sitemaps/problems/{problem}")


def seed_origins(seeds: list[str]) -> list[str]:
    return list(dict.fromkeys(origin_of(url) for url in seeds))
