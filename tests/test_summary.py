"""`scrapy summary --template eu-ai-act`: sections 2.3 and 3.1 from a real crawl."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from pipelines.summary import top_domains
from tests.conftest import scrapy_command


@pytest.fixture(scope="module")
def crawl(gate_corpus):
    return gate_corpus


def _summary(crawl, *extra):
    return scrapy_command(
        "summary", "--template", "eu-ai-act", "--db", f"sqlite:///{crawl.db_path}", *extra
    )


def test_json_sections_state_the_crawl(crawl):
    result = _summary(crawl, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    s23, s31 = data["section_2_3"], data["section_3_1"]
    (user_agent,) = crawl.sql("SELECT user_agent FROM runs")[0]
    assert s23["user_agents"] == [user_agent]
    assert s23["purposes"] == ["AI training, commercial or research"]
    assert s23["collection_period"]["start"] and s23["collection_period"]["end"]
    assert s23["top_domains"] == [
        {"domain": "127.0.0.1", "bytes": crawl.sql("SELECT sum(warc_length) FROM captures")[0][0]}
    ]
    assert sum(s23["content_types"].values()) == crawl.sql("SELECT count(*) FROM captures")[0][0]
    measures = {m["reason"]: m["urls_excluded"] for m in s31["measures"]}
    expected = Counter()
    for (row,) in crawl.sql("SELECT reasons FROM decisions WHERE outcome = 'excluded'"):
        expected.update(json.loads(row))
    assert measures == {r: n for r, n in expected.items() if r not in ("http-error", "redirected")}
    assert "strict" in s31["profiles"]


def test_markdown_has_both_sections(crawl):
    result = _summary(crawl)
    assert result.returncode == 0, result.stderr
    assert "## 2.3 Data crawled and scraped from online sources" in result.stdout
    assert "## 3.1 Measures to respect reservations of rights" in result.stdout
    assert "| 127.0.0.1 |" in result.stdout


@pytest.mark.parametrize(
    ("domains", "sme", "count"),
    [(100, False, 10), (15, False, 2), (100, True, 5), (40000, True, 1000)],
)
def test_top_domains_share(domains, sme, count):
    sizes = Counter({f"d{n}.example": n + 1 for n in range(domains)})
    top = top_domains(sizes, sme=sme)
    assert len(top) == count
    assert top[0] == {"domain": f"d{domains - 1}.example", "bytes": domains}
