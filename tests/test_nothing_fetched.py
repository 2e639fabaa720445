"""A crawl that finished without fetching a single page says why at the default log level and
exits with status 3 (README, docs/cron.md): a cron job must not take it for a night's work."""

from __future__ import annotations

import uuid

from tests.conftest import run_crawl


def test_every_seed_refused_before_fetching_exits_3_and_says_why(tmp_path):
    crawl = run_crawl(
        tmp_path,
        urls=["http://127.0.0.1:9/", "http://10.0.0.1/"],
        settings={"ALLOW_PRIVATE_ADDRESSES": "false", "LOG_LEVEL": "INFO"},
    )
    assert crawl.returncode == 3, crawl.output
    lines = [line for line in crawl.output.splitlines() if "fetched no page" in line]
    assert len(lines) == 1 and "WARNING" in lines[0], crawl.output
    assert "every URL was refused before fetching (private-address 2)" in lines[0]


def test_a_crawl_that_fetched_pages_exits_0_without_the_warning(gate_site, tmp_path):
    crawl = run_crawl(tmp_path, urls=[f"{gate_site.origins['open']}/about"])
    assert crawl.returncode == 0, crawl.output
    assert "fetched no page" not in crawl.output


def test_a_reused_distributed_crawl_id_exits_3_and_says_so(gate_site, tmp_path, redis_url):
    """The frontier of a finished distributed crawl stays in Redis: running the same
    DISTRIBUTED_CRAWL_ID again finds every seed seen and nothing queued."""
    import redis

    crawl_id = f"reused-{uuid.uuid4().hex[:8]}"
    settings = {"DISTRIBUTED_REDIS_URL": redis_url, "DISTRIBUTED_CRAWL_ID": crawl_id}
    urls = [f"{gate_site.origins['open']}/about"]
    try:
        first = run_crawl(tmp_path / "first", urls=urls, settings=settings)
        assert first.returncode == 0, first.output
        again = run_crawl(tmp_path / "again", urls=urls, settings=settings)
        assert again.returncode == 3, again.output
        assert f"the shared frontier of DISTRIBUTED_CRAWL_ID '{crawl_id}' had nothing left" in (
            again.output
        )
        assert again.requests_to(gate_site, "open") == []
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"*{crawl_id}*"):
            client.delete(key)
        client.close()
