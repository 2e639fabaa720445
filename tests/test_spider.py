"""Seeds and scope of spider `corpus` (construction only; crawls are in test_crawl.py)."""

from __future__ import annotations

import pytest

from crawler.spiders.corpus import CorpusSpider, SeedError, read_seed_file, validate_seed


def test_seed_file_skips_blanks_and_comments(tmp_path):
    path = tmp_path / "seeds.txt"
    path.write_text("# header\n\nhttps://a.example/  # inline\n   \nhttps://b.example/x\n")
    assert read_seed_file(str(path)) == ["https://a.example/", "https://b.example/x"]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://a.example/", "only http and https"),
        ("a.example/page", "no scheme: did you mean https://a.example/page?"),
        ("http:///path", "no host"),
        ("http://a.example:99999/", "not a URL"),
    ],
)
def test_bad_seeds_are_explained(url, problem):
    assert problem in validate_seed(url)


def test_urls_and_seed_file_combine_without_duplicates(tmp_path):
    path = tmp_path / "seeds.txt"
    path.write_text("https://a.example/\nhttps://c.example/\n")
    spider = CorpusSpider(urls="https://a.example/, https://b.example/", seeds=str(path))
    assert spider.seed_urls == ["https://a.example/", "https://b.example/", "https://c.example/"]
    assert spider.allowed_domains == ["a.example", "b.example", "c.example"]


def test_idn_seed_is_scoped_by_its_punycode_host():
    spider = CorpusSpider(urls="http://bücher.example/")
    assert spider.allowed_domains == ["xn--bcher-kva.example"]


def test_no_usable_seed_raises():
    with pytest.raises(SeedError, match="none of the seeds is a usable URL"):
        CorpusSpider(urls="ftp://x/")


def test_few_tasks_process_a_pages_requests():
    """Scrapy creates CONCURRENT_ITEMS asyncio tasks for every response's output (default 100);
    the spider yields only requests, so it asks for a few. A -s value still wins."""
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

    assert Crawler(CorpusSpider).settings.getint("CONCURRENT_ITEMS") == 4
    given = Settings()
    given.set("CONCURRENT_ITEMS", 50, priority="cmdline")
    assert Crawler(CorpusSpider, given).settings.getint("CONCURRENT_ITEMS") == 50


def test_a_pages_parse_is_released_once_its_links_are_read():
    """The lxml tree is dropped when the links are read, not left to a reference cycle."""
    from scrapy.http import HtmlResponse

    spider = CorpusSpider(urls="https://a.example/", collect="html,images")
    body = b'<html><body><a href="/next">n</a><img src="/i.png"></body></html>'
    response = HtmlResponse("https://a.example/", body=body, encoding="utf-8")
    response.selector  # noqa: B018 - parsed, as the response policy does
    found = [(url, kind) for url, kind, *_ in spider.links(response)]
    assert found == [("https://a.example/next", "html"), ("https://a.example/i.png", "image")]
    assert response._cached_selector is None
