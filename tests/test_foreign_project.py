"""The add-on in a Scrapy project that is not ours: `ADDONS = {"crawler.addon.Rightscrawl": 0}`
and nothing else. Its spider yields its own items to its own pipeline and knows nothing of
WARC files or decisions; every response the gate keeps is archived and recorded all the same,
and the offline commands work there with the add-on's defaults."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import uuid
from pathlib import Path

import pytest

from tests.conftest import (
    LOOPBACK_SETTINGS,
    Crawl,
    assert_payloads_as_served,
    check_warc,
    log_length,
    requests_since,
    scrapy_args,
)

SETTINGS = textwrap.dedent(
    """
    BOT_NAME = "shopbot"
    SPIDER_MODULES = ["shopbot.spiders"]
    ADDONS = {"crawler.addon.Rightscrawl": 0}
    ITEM_PIPELINES = {"shopbot.pipelines.TitlesPipeline": 300}
    CRAWLER_CONTACT = "mailto:team@example.org"
    """
)
SPIDER = textwrap.dedent(
    """
    import scrapy
    from scrapy.http import TextResponse


    class TitlesSpider(scrapy.Spider):
        name = "titles"

        def __init__(self, urls="", **kwargs):
            super().__init__(**kwargs)
            self.start_urls = urls.split(",")

        def parse(self, response):
            if not isinstance(response, TextResponse):
                return
            yield {"url": response.url, "title": response.css("title::text").get()}
            yield from response.follow_all(css="a")
    """
)
PIPELINE = textwrap.dedent(
    """
    import json


    class TitlesPipeline:
        def open_spider(self, spider=None):
            self.out = open("titles.jsonl", "w", encoding="utf-8")

        def close_spider(self, spider=None):
            self.out.close()

        def process_item(self, item, spider=None):
            self.out.write(json.dumps(item) + "\\n")
            return item
    """
)


def make_project(root: Path) -> Path:
    (root / "shopbot" / "spiders").mkdir(parents=True)
    (root / "scrapy.cfg").write_text("[settings]\ndefault = shopbot.settings\n")
    (root / "shopbot" / "__init__.py").write_text("")
    (root / "shopbot" / "settings.py").write_text(SETTINGS)
    (root / "shopbot" / "pipelines.py").write_text(PIPELINE)
    (root / "shopbot" / "spiders" / "__init__.py").write_text("")
    (root / "shopbot" / "spiders" / "titles.py").write_text(SPIDER)
    return root


def in_project(project: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """`scrapy ARGS…` inside the foreign project, with its settings only."""
    env = {k: v for k, v in os.environ.items() if k not in ("SCRAPY_SETTINGS_MODULE", "PYTHONPATH")}
    return subprocess.run(
        scrapy_args(*args),
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**env, "COLUMNS": "300"},
    )


def crawl_in_project(
    project: Path, site, *settings: str
) -> tuple[Crawl, subprocess.CompletedProcess]:
    shop, blog = site.origins["shop"], site.origins["blog"]
    offset = log_length(site)
    command = ["crawl", "titles", "-a", f"urls={shop}/"]
    for name, value in LOOPBACK_SETTINGS.items():
        command += ["-s", f"{name}={value}"]
    for setting in settings:
        command += ["-s", setting]
    result = in_project(project, *command)
    crawl = Crawl(
        result.returncode,
        result.stdout + result.stderr,
        project / "data" / "warc",  # the add-on's defaults, relative to the project
        project / "data" / "provenance.sqlite",
        {id(site): requests_since(site, offset)},
    )
    assert blog  # both origins served
    return crawl, result


def expected_decisions(site) -> dict[str, tuple[str, tuple[str, ...]]]:
    shop, blog = site.origins["shop"], site.origins["blog"]
    return {
        f"{shop}/": ("kept", ()),
        f"{shop}/p/1": ("kept", ()),
        f"{shop}/p/2": ("kept", ()),
        f"{shop}/logo.png": ("kept", ()),
        f"{shop}/p/noai": ("excluded", ("noai-meta",)),
        f"{shop}/private/x": ("excluded", ("robots-disallowed",)),
        f"{shop}/gone": ("excluded", ("http-error",)),
        f"{shop}/moved": ("excluded", ("redirected",)),
        f"{blog}/": ("kept", ()),
        f"{blog}/post/1": ("kept", ()),
        f"{blog}/post/2": ("excluded", ("content-usage-reserved",)),
    }


@pytest.fixture(scope="module")
def foreign_site(tmp_path_factory):
    from tests.conftest import site_process

    with site_process("tests.sites.foreign", tmp_path_factory.mktemp("site")) as site:
        yield site


@pytest.fixture(scope="module")
def foreign_crawl(foreign_site, tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("shopbot"))
    crawl, result = crawl_in_project(project, foreign_site)
    assert result.returncode == 0, crawl.output
    return project, crawl


def test_every_kept_response_is_archived_whatever_the_spider_yields(foreign_crawl, foreign_site):
    project, crawl = foreign_crawl
    decisions = expected_decisions(foreign_site)
    kept = {url for url, (outcome, _) in decisions.items() if outcome == "kept"}
    assert crawl.decisions() == decisions
    records = crawl.records()
    responses = [h["WARC-Target-URI"] for _, _, h, _ in records if h["WARC-Type"] == "response"]
    evidence = {url for (url,) in crawl.sql("SELECT url FROM evidence")}
    pages = [u for u in responses if u not in evidence]
    assert sorted(pages) == sorted(kept)  # each kept page once; nothing excluded
    requests = [h for _, _, h, _ in records if h["WARC-Type"] == "request"]
    assert len(requests) == len(responses)
    metadata = [h for _, _, h, _ in records if h["WARC-Type"] == "metadata"]
    assert len(metadata) == len(responses)
    check_warc(crawl.warc_files())
    assert assert_payloads_as_served(crawl, foreign_site) == len(responses)  # evidence too
    rows = crawl.sql("SELECT url FROM captures")
    assert sorted(url for (url,) in rows) == sorted(kept)


def test_the_projects_own_pipeline_gets_its_own_items(foreign_crawl, foreign_site):
    project, _ = foreign_crawl
    shop, blog = foreign_site.origins["shop"], foreign_site.origins["blog"]
    items = [json.loads(line) for line in (project / "titles.jsonl").read_text().splitlines()]
    assert sorted((i["url"], i["title"]) for i in items) == sorted(
        [
            (f"{shop}/", "Shop"),
            (f"{shop}/p/1", "Product 1"),
            (f"{shop}/p/2", "Product 2"),
            (f"{blog}/", "Blog"),
            (f"{blog}/post/1", "Post 1"),
        ]
    )


def test_offline_commands_work_in_the_foreign_project(foreign_crawl):
    project, crawl = foreign_crawl
    verify = in_project(project, "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "Traceback" not in verify.stderr
    summary = in_project(project, "summary", "--format", "json")
    assert summary.returncode == 0, summary.stderr
    assert json.loads(summary.stdout)
    # The corpus was written where the add-on's defaults say, inside the project.
    assert crawl.warc_files() and crawl.db_path.exists()


def test_a_distributed_foreign_crawl_finishes_with_nothing_left_in_hand(
    foreign_site, tmp_path, redis_url
):
    """A spider that never tells the shared frontier a request is done: the compliance layer
    does (crawler/distributed/scheduler.py DoneWithOutput), so the crawl ends and nothing is put back."""
    import redis

    project = make_project(tmp_path / "p")
    crawl_id = f"foreign-{uuid.uuid4().hex[:8]}"
    crawl, result = crawl_in_project(
        project,
        foreign_site,
        f"DISTRIBUTED_REDIS_URL={redis_url}",
        f"DISTRIBUTED_CRAWL_ID={crawl_id}",
    )
    assert result.returncode == 0, crawl.output
    decisions = expected_decisions(foreign_site)
    assert crawl.decisions() == decisions
    client = redis.Redis.from_url(redis_url)
    try:
        keys = [k.decode() for k in client.scan_iter(f"*{crawl_id}*")]
        in_hand = [k for k in keys if ":inflight:" in k and client.hlen(k)]
        queued = [k for k in keys if k.endswith(":requests") and client.zcard(k)]
        assert in_hand == [] and queued == [], keys
    finally:
        for key in client.scan_iter(f"*{crawl_id}*"):
            client.delete(key)
        client.close()
    # Every page fetched once.
    fetched = [(r["origin"], r["path"]) for r in crawl.requests_to(foreign_site)]
    assert len(fetched) == len(set(fetched)), fetched
