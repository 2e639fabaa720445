"""Spider `corpus`: crawl from seeds, stay on the seeds' hosts, follow links.

    scrapy crawl corpus -a urls=https://example.org/,https://example.net/
    scrapy crawl corpus -a seeds=data/seeds/example.txt

The compliance gate runs in the downloader middlewares, which also archive and record every
response they keep (crawler/middlewares/capture.py): a response reaches `parse` only when it was
kept, with its decision in `response.meta`, and the spider only follows its links.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.responsetypes import responsetypes
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import get_meta_refresh
from twisted.python.failure import Failure

from crawler import meta
from crawler.distributed import request_done
from crawler.job_resume import interrupted_runs, job_archive, undecided
from crawler.middlewares.no_credentials import STAT as CREDENTIALS_STAT
from crawler.middlewares.no_credentials import without_credentials
from pipelines.warc_reader import READ_ERRORS, read_payload

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


class CorpusSpider(scrapy.Spider):
    name = "corpus"
    arguments = ("urls", "seeds")  # `scrapy crawl` refuses any other -a NAME

    def __init__(self, urls: str | None = None, seeds: str | None = None, **kwargs: Any):
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
        self.allowed_domains = sorted(
            {urlparse_cached(scrapy.Request(u)).hostname for u in self.seed_urls}
        )
        self.hosts = frozenset(self.allowed_domains)
        # Scope is checked on the host name here: LinkExtractor(allow_domains=…) compares the
        # netloc, port included, and would drop every link of a seed given with a port.
        self.link_extractor = LinkExtractor()

    async def start(self):
        runs = interrupted_runs(self.crawler)
        if runs:
            for request in self.resumed_requests(runs):
                yield request
            return
        for url in self.seed_urls:
            yield self.page_request(url, credentials_stripped=url in self.stripped_seeds)

    def resumed_requests(self, runs: list[str]) -> Iterator[scrapy.Request]:
        """The frontier of a killed JOBDIR crawl, rebuilt from its archive (job_resume.py)."""
        settings = self.settings
        archive = job_archive(settings.get("PROVENANCE_DB_URL"), runs)
        warc_dir = Path(settings.get("WARC_DIR"))

        def candidates() -> Iterator[str]:
            yield from self.seed_urls
            for url in archive.redirect_targets:
                if urlsplit(url).hostname in self.hosts:
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
                yield from (url for url, _ in self.links(page))

        count = 0
        for url in undecided(candidates(), archive.decided):
            count += 1
            # Through the dupefilter, which now holds only decided URLs (crawler/dupefilter.py):
            # a link met again later in this run is not fetched twice.
            yield scrapy.Request(url, callback=self.parse, errback=self.fetch_failed)
        self.crawler.stats.set_value("resume/requests_rebuilt", count)
        logger.warning(
            "Resuming: %(count)d requests rebuilt; %(decided)d URLs were decided before the kill",
            {"count": count, "decided": len(archive.decided)},
        )

    def page_request(self, url: str, *, credentials_stripped: bool = False) -> scrapy.Request:
        request_meta = {}
        if credentials_stripped:
            self.crawler.stats.inc_value(CREDENTIALS_STAT)
            request_meta[meta.CREDENTIALS_STRIPPED] = True
        return scrapy.Request(
            url, callback=self.parse, errback=self.fetch_failed, meta=request_meta
        )

    def links(self, response: Response) -> Iterator[tuple[str, bool]]:
        """In-scope links of a page, meta refresh first; each without the credentials it may
        have carried, and whether it did (no_credentials.py)."""
        if not isinstance(response, TextResponse):
            return
        links = [link.url for link in self.link_extractor.extract_links(response)]
        if isinstance(response, HtmlResponse):
            _, refresh = get_meta_refresh(response)
            if refresh:
                links.insert(0, refresh)
        for url in links:
            clean = without_credentials(url)
            url = clean or url
            if urlsplit(url).hostname in self.hosts:  # links are already safe URLs
                yield url, clean is not None

    def parse(self, response: Response) -> Iterator[Any]:
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
        for url, stripped in self.links(response):
            yield self.page_request(url, credentials_stripped=stripped)

    def fetch_failed(self, failure: Failure) -> Iterable[Any]:
        """Distributed mode: the request is done. (The compliance layer decided the failure:
        crawler/middlewares/fetch_failure.py, redirect.py.)"""
        request_done(self.crawler, failure.request)  # type: ignore[attr-defined]
        return ()
