"""A crawl reads robots.txt groups as RFC 9309 does (issue #11 item 1.1), end to end."""

from __future__ import annotations

import pytest

from crawler.demo.server import SiteProcess
from tests.conftest import REPO, run_crawl
from tests.sites.robots_groups import PATHS


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    log = tmp_path_factory.mktemp("robots_groups") / "requests.jsonl"
    with SiteProcess("tests.sites.robots_groups", log_path=log, cwd=REPO) as process:
        yield process


def test_a_crawl_never_fetches_what_the_rfc_reading_disallows(site, tmp_path):
    urls = [
        f"{site.origins[origin]}{path}" for origin, (_, paths) in PATHS.items() for path in paths
    ]
    result = run_crawl(tmp_path, urls=urls)
    assert result.returncode == 0, result.output
    pages = {(o, p) for o, (_, paths) in PATHS.items() for p in paths}
    fetched = {(r["origin"], r["path"]) for r in site.requests()} & pages  # not policy documents
    refused = {
        ("crawl_delay_first", "/search/1"),  # the layout that lost a whole-site Disallow
        ("index_html", "/x/"),
        ("dollar", "/price"),
    }
    assert fetched == pages - refused
    decisions = result.decisions()
    for origin, path in refused:
        assert decisions[f"{site.origins[origin]}{path}"] == ("excluded", ("robots-disallowed",))
