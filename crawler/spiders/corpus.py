"""Spider `corpus`: crawl from seeds and their sitemaps, stay in scope, follow links.

    scrapy crawl corpus -a urls=https://example.org/,https://example.net/
    scrapy crawl corpus -a seeds=data/seeds/example.txt -a collect=html,documents,images \
        -a scope=domain -a exclude='/login' -a exclude='/search'

The compliance gate runs in the downloader middlewares, which also archive and record every
response they keep (crawler/middlewares/capture.py): a response reaches `parse` only when it was
kept, with its decision in `response.meta`, and the spider only chooses what to request:

- links of a page (`<a>`, `<area>`, meta refresh) in scope (crawler/scope.py), pages and the
  linked files of the kinds collected (crawler/collect.py);
- media a page in scope embeds (`<img>`, `srcset`, `<picture>`, `<audio>`, `<video>`), for the
  kinds collected, from any host: the gate judges each by its own origin's documents;
- the URLs in scope that the seeds' sitemaps list (crawler/sitemaps.py).

Each request carries its kind (`meta.PROVENANCE`, recorded as `detail.kind`) and, for a file, the
download cap of its kind (`download_maxsize`, from COLLECT_MAX_SIZE: past it, `too-large`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.linkextractors import IGNORED_EXTENSIONS
from scrapy.responsetypes import responsetypes
from scrapy.utils.response import get_meta_refresh
from twisted.python.failure import Failure
from w3lib.url import safe_url_string

from crawler import meta
from crawler.collect import (
    EXTENSIONS,
    CollectError,
    embedded_media,
    kind_of_url,
    parse_collect,
    parse_max_size,
)
from crawler.distributed import request_done
from crawler.job_resume import interrupted_runs, job_archive, undecided
from crawler.links import PageLinks
from crawler.middlewares.no_credentials import STAT as CREDENTIALS_STAT
from crawler.middlewares.no_credentials import without_credentials
from crawler.scope import Scope
from crawler.sitemaps import SitemapReader, seed_origins
from pipelines.warc_reader import READ_ERRORS, read_payload
from policies.origin import origin_of

logger = logging.getLogger(__name__)


class SeedError(ValueError):
    """No usable seed URL was given."""


def read_seed_file(path: str) -> list[str]:
    """One URL a line; blank lines and `#` comments are ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"Cannot read seed file {path!r}: {exc}") from exc
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def validate_seed(url: str) -> str | None:
    """The problem with a seed URL, or None when it is usable."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return f"not a URL ({exc})"
    if not parts.scheme and not parts.netloc and "." in url.split("/", 1)[0]:
        return f"no scheme: did you mean https://{url}?"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs can be crawled"
    if not parts.hostname:
        return "no host"
    return None


def archived_response(path: Path, offset: int, url: str, content_type: str | None) -> Response:
    """A response archived in a WARC file, as Scrapy would have built it (body decoded)."""
    body = read_payload(path, offset)
    headers = {"Content-Type": content_type} if content_type else {}
    cls = responsetypes.from_args(headers=headers, url=url, body=body)
    return cls(url=url, body=body, headers=headers)


def forget_parse(response: Response) -> None:
    """Drop Scrapy's cached parse and decoded text of a response (rebuilt if asked again): the
    lxml tree, several times the page's size and outside the garbage collector's accounting,
    goes when the page's links are read, not when a reference cycle holding the response is
    collected."""
    if isinstance(response, TextResponse):
        response._cached_selector = None
        response._cached_ubody = None


class CorpusSpider(scrapy.Spider):
    name = "corpus"
    # `scrapy crawl` refuses any other -a NAME (include and exclude may be repeated).
    arguments = ("urls", "seeds", "collect", "scope", "include", "exclude")
    # Scrapy processes a callback's output with CONCURRENT_ITEMS asyncio tasks, all created for
    # every response (default 100: ~100 tasks a page). This spider yields only requests, which
    # are scheduled synchronously in order, so a few tasks do the same work.
    custom_settings = {"CONCURRENT_ITEMS": 4}

    def __init__(
        self,
        urls: str | None = None,
        seeds: str | None = None,
        collect: str | None = None,
        scope: str | None = None,
        include: str | None = None,
        exclude: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        candidates = [u.strip() for u in (urls or "").split(",") if u.strip()]
        if seeds:
            candidates.extend(read_seed_file(seeds))
        # Credentials go first, before a seed is logged (no_credentials.py).
        self.stripped_seeds: set[str] = set()
        for n, url in enumerate(candidates):
            clean = without_credentials(url)
            if clean is not None:
                candidates[n] = clean
                self.stripped_seeds.add(clean)
        self.seed_urls: list[str] = []
        problems = []
        for url in dict.fromkeys(candidates):
            problem = validate_seed(url)
            if problem:
                problems.append(f"{url!r}: {problem}")
            else:
                self.seed_urls.append(url)
        if not self.seed_urls:
            given = (
                f"none of the seeds is a usable URL ({'; '.join(problems[:3])})"
                if candidates
                else "no seed was given"
            )
            raise SeedError(
                f"Spider 'corpus' needs seeds: {given}. "
                "Use -a urls=URL[,URL...] and/or -a seeds=FILE (one URL a line)."
            )
        for problem in problems:  # the crawl goes on with the others
            logger.error("Skipping seed %(problem)s", {"problem": problem})
        # Host names as requests carry them: an IDN seed's host in punycode (bücher → xn--bcher-kva).
        request_urls = [scrapy.Request(u).url for u in self.seed_urls]
        self.scope = Scope.build(scope, request_urls, include=include, exclude=exclude)
        # Scrapy's offsite filter drops what leaves this (redirects out of scope among them).
        self.allowed_domains = (
            [] if self.scope.type == "any"
            else sorted(self.scope.domains if self.scope.type == "domain" else self.scope.hosts)
        )  # fmt: skip
        self.hosts = self.scope.hosts
        self.collect_argument = collect
        self.configure(parse_collect(collect), {"html": 0}, sitemaps=False)

    def configure(
        self, kinds: frozenset[str], max_sizes: dict[str, int], *, sitemaps: bool
    ) -> None:
        """What to request: the kinds collected, their download caps, whether to read sitemaps."""
        self.kinds = kinds
        self.max_sizes = max_sizes
        # Each seed origin's sitemaps are read once a page of it is kept: its robots.txt has
        # been read, its address passed the guard (crawler/sitemaps.py).
        self.sitemap_origins = set(seed_origins(self.seed_urls)) if sitemaps else set()
        self._sitemap_reader: SitemapReader | None = None
        wanted = {ext for kind in kinds for ext in EXTENSIONS.get(kind, ())}
        # Scope is checked on the host name here: LinkExtractor(allow_domains=…) compares the
        # netloc, port included, and would drop every link of a seed given with a port. Its
        # IGNORED_EXTENSIONS drop documents and media: those collected are let through.
        self.page_links = PageLinks(
            deny_extensions=[e for e in IGNORED_EXTENSIONS if e not in wanted]
        )

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> CorpusSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        given = spider.collect_argument
        kinds = parse_collect(given if given is not None else settings.get("COLLECT"))
        try:
            sizes = settings.getdict("COLLECT_MAX_SIZE")
        except (TypeError, ValueError):
            raise CollectError(
                "Setting COLLECT_MAX_SIZE must be a mapping of kind to bytes, e.g. "
                f"'{{\"images\": 5242880}}', not {settings.get('COLLECT_MAX_SIZE')!r}"
            ) from None
        max_sizes = parse_max_size(sizes, settings.getint("DOWNLOAD_MAXSIZE"))
        spider.configure(kinds, max_sizes, sitemaps=settings.getbool("SITEMAPS"))
        return spider

    async def start(self):
        runs = interrupted_runs(self.crawler)
        if runs:
            for request in self.resumed_requests(runs):
                yield request
            return
        for url in self.seed_urls:
            yield self.page_request(
                url, kind_of_url(url), credentials_stripped=url in self.stripped_seeds
            )

    async def sitemap_requests(self, origin: str) -> Any:
        """Requests for the in-scope URLs that `origin`'s sitemaps list (crawler/sitemaps.py)."""
        from crawler.contracts import crawl_run
        from crawler.middlewares import downloader_middleware
        from crawler.middlewares.origin_policy import OriginPolicyMiddleware

        policy = downloader_middleware(self.crawler, OriginPolicyMiddleware)
        if policy is None:
            logger.warning("No origin policy in this crawl: sitemaps are not read")
            return
        if self._sitemap_reader is None:
            token = crawl_run(self.crawler).token
            self._sitemap_reader = SitemapReader(self.crawler, policy, policy.fetcher, token)
        stats = self.crawler.stats
        try:
            async for listed in self._sitemap_reader.urls(origin):
                url = without_credentials(listed.url) or listed.url
                if not self.scope.allows(url):
                    stats.inc_value("sitemaps/out_of_scope")
                    continue
                stats.inc_value("sitemaps/requests")
                yield self.page_request(
                    url,
                    kind_of_url(url),
                    provenance={"sitemap": listed.provenance()},
                    offsite=not self.scope.type_allows(url),
                )
        except Exception:  # a bug reading one origin's sitemaps must not stop the crawl
            logger.exception("Reading the sitemaps of %(origin)s failed", {"origin": origin})

    def resumed_requests(self, runs: list[str]) -> Iterator[scrapy.Request]:
        """The frontier of a killed JOBDIR crawl, rebuilt from its archive (job_resume.py)."""
        settings = self.settings
        archive = job_archive(settings.get("PROVENANCE_DB_URL"), runs)
        warc_dir = Path(settings.get("WARC_DIR"))

        def candidates() -> Iterator[str]:
            yield from self.seed_urls
            for url in archive.redirect_targets:
                if self.scope.allows(url):
                    yield url
            for url, warc_file, offset, content_type in archive.kept:
                try:
                    page = archived_response(warc_dir / warc_file, offset, url, content_type)
                except READ_ERRORS as exc:
                    logger.warning(
                        "Cannot read %(url)s from %(file)s (%(error)r): its links are lost",
                        {"url": url, "file": warc_file, "error": exc},
                    )
                    continue
                yield from (url for url, *_ in self.links(page))

        count = 0
        for url in undecided(candidates(), archive.decided):
            count += 1
            # Through the dupefilter, which now holds only decided URLs (crawler/dupefilter.py):
            # a link met again later in this run is not fetched twice.
            yield self.page_request(url, kind_of_url(url))
        self.crawler.stats.set_value("resume/requests_rebuilt", count)
        logger.warning(
            "Resuming: %(count)d requests rebuilt; %(decided)d URLs were decided before the kill",
            {"count": count, "decided": len(archive.decided)},
        )

    def page_request(
        self,
        url: str,
        kind: str = "html",
        *,
        credentials_stripped: bool = False,
        provenance: dict[str, Any] | None = None,
        offsite: bool = False,
    ) -> scrapy.Request:
        """A request for `url` as a `kind` (html, document, image, audio, video). `offsite`: the
        scope type does not cover it (media on a CDN, an include= pattern on another host), so
        Scrapy's offsite filter, which drops redirects out of scope, lets this one through."""
        request_meta: dict[str, Any] = {meta.PROVENANCE: {"kind": kind, **(provenance or {})}}
        if offsite:
            request_meta["allow_offsite"] = True
        if kind != "html":
            request_meta[meta.RENDER] = False  # a file is not rendered in the browser
            if self.max_sizes.get(kind):
                request_meta["download_maxsize"] = self.max_sizes[kind]
        if credentials_stripped:
            self.crawler.stats.inc_value(CREDENTIALS_STAT)
            request_meta[meta.CREDENTIALS_STRIPPED] = True
        return scrapy.Request(
            url, callback=self.parse, errback=self.fetch_failed, meta=request_meta
        )

    def links(self, response: Response) -> Iterator[tuple[str, str, bool, bool]]:
        """What a page leads to: its in-scope links (meta refresh first), pages and linked files
        of the kinds collected, then the media it embeds if it is in scope itself; each as (URL
        without the credentials it may have carried, kind, whether it did: no_credentials.py,
        whether the scope type leaves it out: `page_request`'s `offsite`)."""
        if not isinstance(response, TextResponse):
            return
        links = [(url, kind_of_url(url)) for url in self.page_links.urls(response)]
        if isinstance(response, HtmlResponse):
            _, refresh = get_meta_refresh(response)
            if refresh:
                links.insert(0, (refresh, "html"))
        media = self.embedded(response)
        forget_parse(response)
        for url, kind in links:
            clean = without_credentials(url)
            url = clean or url
            if kind in self.kinds and self.scope.allows(url):  # links are already safe URLs
                yield url, kind, clean is not None, not self.scope.type_allows(url)
        for written, kind in media:
            url = safe_url_string(response.urljoin(written))
            if urlsplit(url).scheme not in ("http", "https"):
                continue  # data:, blob:, javascript:
            clean = without_credentials(url)
            url = clean or url
            if not self.scope.excluded(url):  # any host: its own origin's documents decide
                yield url, kind, clean is not None, not self.scope.type_allows(url)

    def embedded(self, response: Response) -> list[tuple[str, str]]:
        """The media a page in scope embeds, of the kinds collected, as written and their kind."""
        media_kinds = self.kinds - {"html", "document"}
        if not media_kinds or not isinstance(response, HtmlResponse):
            return []
        if not self.scope.allows(response.url):
            return []  # a page reached out of scope (a redirect) is kept, not crawled from
        return list(embedded_media(response.selector, media_kinds))

    async def parse(self, response: Response) -> Any:
        # Archived and recorded already, by the compliance layer (crawler/middlewares/capture.py).
        if response.meta.get(meta.DECISION) is None:  # not through the gate: no links from it
            return
        previous = response.meta.get(meta.PREVIOUS)
        if previous is not None and previous.url != response.url:
            previous = None  # asked about another URL (a redirect)
        if response.status == 304 and previous is not None:
            # Not modified: follow the links of the payload stored the last time.
            try:
                response = archived_response(
                    Path(self.settings.get("WARC_DIR")) / previous.warc_file,
                    previous.warc_offset,
                    response.url,
                    previous.content_type,
                )
            except READ_ERRORS as exc:
                logger.warning(
                    "Cannot read the stored payload of %(url)s (%(error)r): links not followed",
                    {"url": response.url, "error": exc},
                )
                return
        for url, kind, stripped, offsite in self.links(response):
            yield self.page_request(url, kind, credentials_stripped=stripped, offsite=offsite)
        origin = origin_of(response.url)
        if origin in self.sitemap_origins:
            self.sitemap_origins.discard(origin)
            async for request in self.sitemap_requests(origin):
                yield request

    def fetch_failed(self, failure: Failure) -> Iterable[Any]:
        """Distributed mode: the request is done. (The compliance layer decided the failure:
        crawler/middlewares/fetch_failure.py, redirect.py.)"""
        request_done(self.crawler, failure.request)  # type: ignore[attr-defined]
        return ()
