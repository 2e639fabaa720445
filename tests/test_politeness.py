"""No interference: Crawl-delay, Retry-After, stopping an origin that keeps failing, page caps."""

from __future__ import annotations

import pytest

from crawler.middlewares.politeness import retry_after_seconds
from policies.signals.robots import RobotsTxt
from tests.conftest import assert_paced, run_crawl, site_process


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with site_process("tests.sites.polite", tmp_path_factory.mktemp("polite")) as process:
        yield process


def _page_requests(crawl, site, origin):
    return [r for r in crawl.requests_to(site, origin) if r["path"].startswith("/p/")]


def test_crawl_delay_spaces_requests_to_the_origin(site, tmp_path):
    urls = [f"{site.origins['paced']}/p/{n}" for n in range(4)]
    result = run_crawl(tmp_path, urls=urls, settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "8"})
    assert result.returncode == 0, result.output
    times = sorted(r["t"] for r in _page_requests(result, site, "paced"))
    assert len(times) == 4
    assert_paced(times, 1.0)  # Crawl-delay: 1, whatever the concurrency (server clock)


def test_an_origin_that_keeps_answering_429_is_slowed_then_stopped(site, tmp_path):
    urls = [f"{site.origins['overloaded']}/p/{n}" for n in range(12)]
    result = run_crawl(
        tmp_path, urls=urls, settings={"POLITENESS_ORIGIN_MAX_ERRORS": "3", "RETRY_TIMES": "0"}
    )
    assert result.returncode == 0, result.output
    requested = _page_requests(result, site, "overloaded")
    assert 3 <= len(requested) <= 4  # three failures, plus at most one more in flight
    times = sorted(r["t"] for r in requested)
    assert_paced(times[1:3], 1.0)  # two at a time, then Retry-After: 1 (server clock)
    reasons = [r for outcome, r in result.decisions().values()]
    assert reasons.count(("origin-stopped",)) == 12 - len(requested)
    assert reasons.count(("http-error",)) == len(requested)
    assert "Stopped" in result.output and "after 3 failures in a row" in result.output


def test_pages_per_origin_can_be_capped(site, tmp_path):
    urls = [f"{site.origins['capped']}/p/{n}" for n in range(12)]
    result = run_crawl(tmp_path, urls=urls, settings={"POLITENESS_MAX_PAGES_PER_ORIGIN": "3"})
    assert result.returncode == 0, result.output
    outcomes = [outcome for outcome in result.decisions().values()]
    assert outcomes.count(("kept", ())) == 3
    assert outcomes.count(("excluded", ("origin-page-cap",))) == 9
    assert len(_page_requests(result, site, "capped")) == 3


def test_request_rate_and_crawl_delay_take_the_slower():
    robots = RobotsTxt.from_fetch(
        "https://e.org/robots.txt", 200, b"User-agent: *\nCrawl-delay: 2\nRequest-rate: 1/10s\n"
    )
    assert robots.delay_for("rightscrawl") == 10.0
    assert RobotsTxt.from_fetch("https://e.org/robots.txt", 404).delay_for("rightscrawl") is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(b"120", 120.0), (b"Wed, 21 Oct 2015 07:28:00 GMT", 0.0), (b"soon", None), (None, None)],
)
def test_retry_after_values(value, seconds):
    assert retry_after_seconds(value) == seconds
