"""Every URL the crawler asks for ends in exactly one decision: each hop of a redirect chain,
whatever becomes of its target, and every fetch that fails (issue #11, items 3.10 and 3.11).
Credentials in links, seeds and redirects never reach a row, a record or a log line (3.12)."""

from __future__ import annotations

import gzip
import json
import urllib.request
import uuid
from collections import Counter

import pytest

from crawler.demo.server import SiteProcess
from policies.profile import PROFILES_DIR
from tests.conftest import (
    LOOPBACK_SETTINGS,
    QUICK_BACK_OFF,
    REPO,
    Crawl,
    run_crawl,
    scrapy_command,
)
from tests.sites import redirects as site_module
from tests.sites.redirects import LINK_PASSWORD, MAX_REDIRECTS, MAXSIZE, PASSWORD

# Policy documents and the sitemap (SITEMAPS): evidence rows, not decisions.
EVIDENCE_PATHS = {"/robots.txt", "/.well-known/tdmrep.json", "/ai.txt", "/sitemap.xml"}
REDIRECTED = ("excluded", ("redirected",))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    log = tmp_path_factory.mktemp("redirects") / "requests.jsonl"
    with SiteProcess("tests.sites.redirects", log_path=log, cwd=REPO) as process:
        yield process


def _registry(path, prefix: str) -> str:
    path.write_text(
        "scope,value,party,channel,source,date\n"
        f"prefix,{prefix},Test Party,test notice,https://notice.example/,2026-01-01\n"
    )
    return str(path)


def _settings(site, tmp) -> dict[str, str]:
    """Small limits, a declared reservation and a blocklist (in a copy of the strict profile)."""
    main = site.origins["main"]
    declared = _registry(tmp / "declared.csv", f"{main}/declared/")
    blocklist = _registry(tmp / "blocklist.csv", f"{main}/blocked/")
    profile = tmp / "with-blocklist.toml"
    strict = (PROFILES_DIR / "strict.toml").read_text()
    profile.write_text(
        strict.replace('blocklists = ["example.csv"]', f"blocklists = [{blocklist!r}]")
    )
    return {
        "REDIRECT_MAX_TIMES": str(MAX_REDIRECTS),
        "DOWNLOAD_MAXSIZE": str(MAXSIZE),
        "POLICY_REGISTRIES": declared,
        "POLICY_PROFILE": str(profile),
        "RETRY_TIMES": "0",
        **QUICK_BACK_OFF,  # failures are the point here (0.2 s: 10 s of this crawl's 50 requests)
        "LOG_LEVEL": "DEBUG",  # the most a log can say: still no password
    }


@pytest.fixture(scope="module")
def crawl(site, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crawl")
    main = site.origins["main"]
    netloc = main.split("://", 1)[1]
    result = run_crawl(
        tmp,
        urls=[f"{main}/", f"http://seeduser:{PASSWORD}@{netloc}/seed"],
        settings=_settings(site, tmp),
        timeout=120,
    )
    assert result.returncode == 0, result.output
    return result


def _expected(main: str, other: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    kept = ("kept", ())
    pages = {f"{main}/page/{n}": kept for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12)}
    sources = [
        *("/r/301", "/r/302", "/r/303", "/r/307", "/r/308", "/r/relative", "/r/scheme-relative"),
        *("/r/spaces", "/r/garbage", "/r/chain-a", "/r/chain-b", "/r/to-seen", "/r/credentials"),
        *("/r/robots", "/r/robots-other", "/r/declared", "/r/blocked"),
        *("/r/ftp", "/r/mailto", "/r/data", "/r/javascript"),
        *("/r/reserved", "/r/missing-target", "/r/offsite"),
        *("/r/loop-a", "/r/loop-b", "/r/self", "/r/empty-location"),
        *(f"/r/long/{n}" for n in range(MAX_REDIRECTS)),
    ]
    return {
        f"{main}/": kept,
        f"{main}/seed": kept,
        f"{main}/page/with%20spaces": kept,
        **pages,
        **{f"{main}{path}": REDIRECTED for path in sources},
        # Where the redirects led.
        f"{main}/r/%7F%3C%3E%22%7Bjunk%7D%7C%5E%60": ("excluded", ("http-error",)),
        f"{main}/private/1": ("excluded", ("robots-disallowed",)),
        f"{other}/private/2": ("excluded", ("robots-disallowed",)),
        f"{main}/declared/1": ("excluded", ("declared-reservation",)),
        f"{main}/blocked/1": ("excluded", ("blocklisted",)),
        "ftp://127.0.0.1/file.txt": ("excluded", ("unsupported-scheme",)),
        "mailto:someone@example.org": ("excluded", ("unsupported-scheme",)),
        "data:,hello": ("excluded", ("unsupported-scheme",)),
        "javascript:alert(1)": ("excluded", ("unsupported-scheme",)),
        f"{main}/reserved": ("excluded", ("tdm-reservation-header",)),
        f"{main}/nothing-here": ("excluded", ("http-error",)),
        # Redirects that are not followed.
        f"{main}/r/long/{MAX_REDIRECTS}": ("excluded", ("fetch-error",)),  # one too many
        f"{main}/r/no-location": ("excluded", ("http-error",)),
        f"{main}/r/invalid": ("excluded", ("http-error",)),  # Location is not a URL
        f"{main}/r/port": ("excluded", ("http-error",)),
        f"{main}/r/300": ("excluded", ("http-error",)),  # not a redirect Scrapy follows
        # Bodies past DOWNLOAD_MAXSIZE, however they are framed or encoded.
        **{
            f"{main}/big/{name}": ("excluded", ("too-large",))
            for name in ("content-length", "chunked", "close-delimited", "gzip", "gzip-chunked")
        },
    }


def test_every_hop_and_every_target_has_exactly_its_decision(site, crawl):
    main, other = site.origins["main"], site.origins["other"]
    assert crawl.decisions() == _expected(main, other)
    counts = Counter(url for (url,) in crawl.sql("SELECT url FROM decisions"))
    assert {url: n for url, n in counts.items() if n != 1} == {}


def test_every_url_asked_for_has_one_row(site, crawl):
    counts = Counter(url for (url,) in crawl.sql("SELECT url FROM decisions"))
    asked = {
        f"{site.origins[r['origin']]}{r['path']}"
        for r in site.requests()
        if r["path"] not in EVIDENCE_PATHS and r["path"] != "/_authorization"
    }
    assert {url: counts[url] for url in asked if counts[url] != 1} == {}
    never = ["/private/1", "/declared/1", "/blocked/1", f"/r/long/{MAX_REDIRECTS + 1}", "/page/10"]
    paths = {r["path"] for r in site.requests()}
    assert paths.isdisjoint(never) and "/page/x" not in paths  # the off-site target


def test_each_redirect_names_its_target(site, crawl):
    main, netloc = site.origins["main"], site.origins["main"].split("://", 1)[1]
    rows = crawl.sql(
        "SELECT url, json_extract(detail, '$.detail.location') FROM decisions "
        "WHERE reasons = '[\"redirected\"]'"
    )
    locations = dict(rows)
    assert None not in locations.values()
    assert locations[f"{main}/r/relative"] == f"{main}/page/6"
    assert locations[f"{main}/r/scheme-relative"] == f"{main}/page/7"
    assert locations[f"{main}/r/spaces"] == f"{main}/page/with%20spaces"
    assert locations[f"{main}/r/offsite"] == f"http://localhost:{netloc.rsplit(':', 1)[1]}/page/x"
    assert locations[f"{main}/r/loop-b"] == f"{main}/r/loop-a"
    assert locations[f"{main}/r/self"] == f"{main}/r/self"
    assert locations[f"{main}/r/mailto"] == "mailto:someone@example.org"
    assert locations[f"{main}/r/credentials"] == f"{main}/page/9"  # without the credentials
    (not_followed,) = crawl.sql(
        "SELECT json_extract(detail, '$.detail.location_not_followed') FROM decisions "
        "WHERE url = ?",
        f"{main}/r/long/{MAX_REDIRECTS}",
    )[0]
    assert not_followed == f"{main}/r/long/{MAX_REDIRECTS + 1}"  # one redirect too many
    statuses = dict(crawl.sql("SELECT url, json_extract(detail, '$.access.status') FROM decisions"))
    assert statuses[f"{main}/r/303"] == 303 and statuses[f"{main}/r/308"] == 308


def test_too_large_says_how_large(site, crawl):
    main = site.origins["main"]
    (detail,) = crawl.sql("SELECT detail FROM decisions WHERE url = ?", f"{main}/big/chunked")[0]
    assert json.loads(detail)["detail"]["limit"] == MAXSIZE


def _plain(data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError):
        return data


def test_credentials_never_reach_records_rows_logs_or_the_server(site, crawl):
    main = site.origins["main"]
    secret, link_secret = PASSWORD.encode(), LINK_PASSWORD.encode()
    for path in crawl.warc_files():
        assert secret not in _plain(path.read_bytes()), path
    for path in crawl.db_path.parent.glob("provenance.sqlite*"):
        assert secret not in path.read_bytes() and link_secret not in path.read_bytes(), path
    # The link's password is in the body of the page that links with it, kept as received; in
    # no other record (request, metadata …).
    for _, _, headers, payload in crawl.records():
        if headers["WARC-Type"] != "response" or headers["WARC-Target-URI"] != f"{main}/":
            assert link_secret not in payload, headers
    assert PASSWORD not in crawl.output and "seeduser" not in crawl.output
    assert LINK_PASSWORD not in crawl.output
    # The server never saw an Authorization header.
    with urllib.request.urlopen(f"{main}/_authorization", timeout=10) as answer:
        assert json.loads(answer.read()) == []
    # And the crawl says that it stripped them: on the decision of each URL, and in its stats.
    stripped = crawl.sql(
        "SELECT url FROM decisions WHERE json_extract(detail, '$.detail.credentials_stripped')"
    )
    assert sorted(url for (url,) in stripped) == [
        f"{main}/page/11",  # a link
        f"{main}/page/9",  # a redirect's Location
        f"{main}/seed",  # a seed
    ]
    (stats,) = crawl.sql("SELECT stats FROM runs")[0]
    assert json.loads(stats)["policy/credentials_stripped"] == 3


def test_the_site_has_enough_redirects():
    table = site_module.redirects({"main": "http://127.0.0.1:1", "other": "http://127.0.0.1:2"})
    assert len([r for r in table.values() if 300 <= r.status < 400]) >= 29


def test_a_foreign_spider_gets_the_same_decisions(site, tmp_path):
    """No errback, no scope: redirects, failures and credentials are still decided."""
    main, netloc = site.origins["main"], site.origins["main"].split("://", 1)[1]
    paths = ["/big/chunked", "/big/gzip", "/r/robots", "/r/long/0", "/r/mailto"]
    urls = [f"{main}{path}" for path in paths] + [f"http://u:{PASSWORD}@{netloc}/r/declared"]
    settings = {
        **LOOPBACK_SETTINGS,
        **_settings(site, tmp_path),
        "WARC_DIR": str(tmp_path / "warc"),
        "PROVENANCE_DB_URL": f"sqlite:///{tmp_path / 'provenance.sqlite'}",
    }
    command = ["runspider", "tests/foreign_spider.py", "-a", "urls=" + ",".join(urls)]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    result = scrapy_command(*command)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    crawl = Crawl(result.returncode, output, tmp_path / "warc", tmp_path / "provenance.sqlite")
    assert crawl.decisions() == {
        f"{main}/big/chunked": ("excluded", ("too-large",)),
        f"{main}/big/gzip": ("excluded", ("too-large",)),
        f"{main}/r/robots": REDIRECTED,
        f"{main}/private/1": ("excluded", ("robots-disallowed",)),
        **{f"{main}/r/long/{n}": REDIRECTED for n in range(MAX_REDIRECTS)},
        f"{main}/r/long/{MAX_REDIRECTS}": ("excluded", ("fetch-error",)),
        f"{main}/r/mailto": REDIRECTED,
        "mailto:someone@example.org": ("excluded", ("unsupported-scheme",)),
        f"{main}/r/declared": REDIRECTED,
        f"{main}/declared/1": ("excluded", ("declared-reservation",)),
    }
    assert PASSWORD not in output
    assert PASSWORD.encode() not in crawl.db_path.read_bytes()
    stripped = crawl.sql(
        "SELECT url FROM decisions WHERE json_extract(detail, '$.detail.credentials_stripped')"
    )
    assert stripped == [(f"{main}/r/declared",)]


def test_credentials_never_reach_redis(site, redis_url, tmp_path):
    import redis

    main, netloc = site.origins["main"], site.origins["main"].split("://", 1)[1]
    crawl_id = f"test-credentials-{uuid.uuid4().hex[:12]}"
    seeds = [f"http://seeduser:{PASSWORD}@{netloc}/seed", f"{main}/r/credentials"]
    result = run_crawl(
        tmp_path,
        urls=[*seeds, f"{main}/with-credentials"],
        settings={"DISTRIBUTED_REDIS_URL": redis_url, "DISTRIBUTED_CRAWL_ID": crawl_id},
        timeout=120,
    )
    assert result.returncode == 0, result.output
    assert {url for url, (outcome, _) in result.decisions().items() if outcome == "kept"} == {
        f"{main}/seed",
        f"{main}/page/9",
        f"{main}/with-credentials",
        f"{main}/page/11",
    }
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"rightscrawl:{crawl_id}:*"))
        assert keys  # the frontier's keys are kept after the crawl
        stored = b"".join(keys)
        for key in keys:  # every value, read as its type
            kind = client.type(key)
            if kind == b"string":
                stored += client.get(key)
            elif kind == b"list":
                stored += b"".join(client.lrange(key, 0, -1))
            elif kind == b"set":
                stored += b"".join(client.smembers(key))
            elif kind == b"zset":
                stored += b"".join(client.zrange(key, 0, -1))
            elif kind == b"hash":
                stored += b"".join(k + v for k, v in client.hgetall(key).items())
        assert PASSWORD.encode() not in stored and LINK_PASSWORD.encode() not in stored
    finally:
        for key in client.scan_iter(match=f"rightscrawl:{crawl_id}:*"):
            client.delete(key)
        client.close()
