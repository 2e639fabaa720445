"""Lawful access: who we say we are, what we never send, and what we never request."""

from __future__ import annotations

import gzip
import json

from crawler.demo.server import LOGGED_HEADERS
from tests.conftest import run_crawl


def test_user_agent_names_the_crawler_and_its_contact(gate_site, tmp_path):
    url = f"{gate_site.origins['open']}/about"
    result = run_crawl(
        tmp_path,
        urls=[url],
        settings={"CRAWLER_CONTACT": "mailto:corpus@lab.example", "DEPTH_LIMIT": "1"},
    )
    assert result.returncode == 0, result.output
    everything = b"".join(gzip.decompress(p.read_bytes()) for p in result.warc_files())
    assert b"\r\nUser-Agent: rightscrawl/" in everything  # in the archived request records
    assert b"(+mailto:corpus@lab.example)\r\n" in everything
    (user_agent,) = result.sql("SELECT user_agent FROM runs")[0]
    assert user_agent.startswith("rightscrawl/") and user_agent.endswith(
        "(+mailto:corpus@lab.example)"
    )
    assert "CRAWLER_CONTACT is not set" not in result.output


def test_a_crawl_without_contact_warns(gate_site, tmp_path):
    result = run_crawl(
        tmp_path, urls=[f"{gate_site.origins['open']}/about"], settings={"DEPTH_LIMIT": "1"}
    )
    assert result.returncode == 0, result.output
    assert "WARNING: CRAWLER_CONTACT is not set" in result.output


def test_credentials_are_never_sent(gate_site, tmp_path):
    url = f"{gate_site.origins['open']}/about"
    headers = json.dumps({"Authorization": "Basic c2VjcmV0OnNlY3JldA==", "Accept-Language": "en"})
    result = run_crawl(
        tmp_path,
        urls=[url],
        settings={
            "DEFAULT_REQUEST_HEADERS": headers,
            "HTTPAUTH_USER": "u",
            "HTTPAUTH_PASS": "p",
            "DEPTH_LIMIT": "1",
        },
    )
    assert result.returncode == 0, result.output
    assert result.decisions()[url] == ("kept", ())
    # The server's own log is the proof (it logs credentials when a request carries them).
    received = result.requests_to(gate_site, "open")
    assert "/about" in [r["path"] for r in received]
    assert "authorization" in LOGGED_HEADERS
    assert [
        r for r in received if {"authorization", "proxy-authorization", "cookie"} & r.keys()
    ] == []
    raw = b"".join(h.get("WARC-Type", "").encode() + body for _, _, h, body in result.records())

    everything = b"".join(gzip.decompress(p.read_bytes()) for p in result.warc_files())
    assert b"Authorization" not in everything and b"c2VjcmV0" not in everything
    assert raw  # records were read
    detail = json.loads(result.sql("SELECT detail FROM decisions WHERE url = ?", url)[0][0])
    assert detail["access"]["credentials_sent"] is False


def test_a_profile_blocklist_is_never_requested(gate_site, tmp_path):
    blocked = gate_site.origins["busy"]
    blocklist = tmp_path / "infringing.csv"
    blocklist.write_text(
        "scope,value,party,channel,source,date\n"
        f"prefix,{blocked}/,Example Court,court order,https://court.example/j/1,2026-03-12\n"
    )
    profile = tmp_path / "with-blocklist.toml"
    profile.write_text(f'name = "with-blocklist"\nblocklists = ["{blocklist}"]\n')
    before = len([r for r in gate_site.requests() if r["origin"] == "busy"])
    result = run_crawl(
        tmp_path / "crawl",
        urls=[f"{blocked}/p/1", f"{gate_site.origins['open']}/"],
        settings={"POLICY_PROFILE": str(profile)},
    )
    assert result.returncode == 0, result.output
    assert result.decisions()[f"{blocked}/p/1"] == ("excluded", ("blocklisted",))
    assert result.decisions()[f"{gate_site.origins['open']}/"] == ("kept", ())
    assert (
        len([r for r in gate_site.requests() if r["origin"] == "busy"]) == before
    )  # not even robots.txt


def test_the_add_on_keeps_ports_closed_in_any_scrapy_project():
    """A project's settings.py outranks an add-on in Scrapy; these stay ours to decide."""
    from scrapy.settings import Settings

    from crawler.addon import Rightscrawl

    settings = Settings()
    for name in ("TELNETCONSOLE_ENABLED", "REMOTE_CONTROL_ENABLED", "ROBOTSTXT_OBEY"):
        settings.set(name, True, priority="project")
    Rightscrawl().update_settings(settings)
    assert not settings.getbool("TELNETCONSOLE_ENABLED")
    assert not settings.getbool("REMOTE_CONTROL_ENABLED")
    assert not settings.getbool("ROBOTSTXT_OBEY")  # ours applies RFC 9309, failing closed


def test_the_address_actually_connected_to_is_checked_after_the_fetch(gate_site, tmp_path):
    """The name looked public when the guard resolved it (here: not at all), but the connection
    went to loopback (DNS rebinding): nothing from it is kept.

    The origin's robots.txt, fetched first, came from loopback too and is refused (its origin is
    then unreachable); /robots.txt itself is always allowed (RFC 9309 §2.2.2), so asking for it as
    a page reaches the page's own connected-address check."""
    port = gate_site.origins["main"].rsplit(":", 1)[1]
    url = f"http://page.rebind.test:{port}/robots.txt"
    result = run_crawl(
        tmp_path,
        urls=[url],
        settings={
            "ALLOW_PRIVATE_ADDRESSES": "false",
            "DNS_RESOLVER": "tests.rebinding.RebindingResolver",
            "DEPTH_LIMIT": "0",
        },
    )
    assert result.returncode == 0, result.output
    asked = [r["path"] for r in result.requests_to(gate_site, "main")]
    assert asked == ["/robots.txt", "/robots.txt"]  # as evidence, then as the page: it connected
    assert result.decisions() == {url: ("excluded", ("private-address",))}
    detail = json.loads(result.sql("SELECT detail FROM decisions WHERE url = ?", url)[0][0])
    assert detail["detail"]["connected_to"] == "127.0.0.1"
    assert [h for _, _, h, _ in result.records() if h.get("WARC-Type") == "response"] == []
