"""Smoke tests over realistic robots.txt and tdmrep.json samples (tests/samples/README.md).

Every file is read by every parser (RobotsTxt, RobotsRecords, TdmrepFile, assess) for a handful of
URLs and agents without raising; then each file meets the expectations stated for it in
`EXPECTATIONS` — concrete readings a person checked against the specs (SIGNALS.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from policies import reasons
from policies.ai_agents import training_agents
from policies.assess import Assessment, assess, combine
from policies.evidence import Signal
from policies.signals.robots import RobotsTxt
from policies.signals.robots_records import RobotsRecords
from policies.signals.tdmrep_file import WELL_KNOWN_PATH, TdmrepFile

SAMPLES = Path(__file__).parent / "samples"
ROBOTS_SAMPLES = sorted((SAMPLES / "robots").glob("*.txt"))
TDMREP_SAMPLES = sorted((SAMPLES / "tdmrep").glob("*.json"))
ALL_SAMPLES = ROBOTS_SAMPLES + TDMREP_SAMPLES

AI_AGENTS = training_agents().tokens
ORIGIN = "https://www.example.test"
PATHS = [
    "/",
    "/robots.txt",
    "/2025/03/14/world/story.html",
    "/2025/03/14/world/story.html?print=1",
    "/search?q=ai",
    "/wp-admin/options.php",
    "/open-data/set.csv",
    "/members/x",
    "/premium/report.pdf",
    "/images/cat.jpg",
    "/wiki/Special:Random",
    "/cart",
    "/wiki/%C3%9Cbersicht",
]
# Our token, our full User-Agent, a listed AI-training agent, and agents only `*` applies to.
AGENTS = [
    "rightscrawl",
    "RightsCrawl/0.1 (+https://example.org/bot)",
    "GPTBot",
    "GPTBot/1.2",
    "UnlistedBot/1.0",
    "*",
]
VERDICTS = {"reserved", "not_reserved", "unknown", "disallowed", "allowed"}


def check_signal(sig: Signal) -> None:
    assert isinstance(sig, Signal)
    assert sig.verdict in VERDICTS
    assert sig.reason is None or sig.reason in reasons.ALL
    assert isinstance(sig.problems, tuple) and all(isinstance(p, str) for p in sig.problems)
    json.dumps(sig.to_json())


def check_assessment(result: Assessment) -> None:
    assert result.verdict in ("reserved", "not_reserved", "unknown")
    for sig in result.findings:
        check_signal(sig)
    assert result.verdict == combine(result.findings)


def sample_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=sample_id)
def test_every_parser_reads_every_sample_without_raising(path):
    body = path.read_bytes()
    text = body.decode("utf-8", "replace")
    robots = RobotsTxt.from_fetch(f"{ORIGIN}/robots.txt", 200, body)
    records = RobotsRecords.parse(text)
    tdmrep = TdmrepFile.parse(f"{ORIGIN}{WELL_KNOWN_PATH}", 200, body)
    assert all(isinstance(p, str) for p in (*robots.problems, *tdmrep.problems))
    for url in (ORIGIN + p for p in PATHS):
        sig = robots.ai_agent_signal(url, AI_AGENTS)
        if sig is not None:
            check_signal(sig)
            assert sig.reason == reasons.ROBOTS_AI_AGENT_DISALLOWED
        sig = tdmrep.signal(url)
        if sig is not None:
            check_signal(sig)
        for agent in AGENTS:
            assert isinstance(robots.allows(url, agent), bool)
            check_signal(robots.signal(url, agent))
            for field in ("content-usage", "content-signal", "disallow"):
                assert all(isinstance(v, str) for v in records.records_for(agent, field))
            if path in ROBOTS_SAMPLES:
                check_assessment(assess(url, user_agent=agent, robots_txt=body))
            else:
                check_assessment(assess(url, user_agent=agent, tdmrep_json=body))
        check_assessment(
            assess(url, robots_txt=body, tdmrep_json=body, ai_txt=body, html=body, rsl_xml=body)
        )


# --- stated expectations, one or more per file ----------------------------------------------------

EXPECTATIONS: dict[str, Callable[[bytes], None]] = {}


def expect(name: str):
    def register(check: Callable[[bytes], None]) -> Callable[[bytes], None]:
        assert name not in EXPECTATIONS
        EXPECTATIONS[name] = check
        return check

    return register


def robots_for(origin: str, body: bytes) -> RobotsTxt:
    return RobotsTxt.from_fetch(f"{origin}/robots.txt", 200, body)


def kinds(result: Assessment) -> dict[str, Signal]:
    return {s.kind: s for s in result.findings}


def agents_named(sig: Signal | None) -> set[str]:
    assert sig is not None
    return set(sig.value.removeprefix("disallowed for ").split(", "))


@expect("news-publisher-blocks-ai-agents.txt")
def _news_publisher(body: bytes) -> None:
    origin = "https://www.example-news.test"
    url = f"{origin}/2025/03/14/world/story.html"
    # The named AI agent may not collect anything.
    gpt = assess(url, robots_txt=body, user_agent="GPTBot")
    assert gpt.verdict == "reserved"
    assert reasons.ROBOTS_DISALLOWED in gpt.reasons
    # We may collect the article (the `*` group allows it); the AI-agent rule is recorded.
    ours = assess(url, robots_txt=body, user_agent="rightscrawl")
    assert kinds(ours)["robots.txt"].verdict == "allowed"
    assert kinds(ours)["robots.txt-ai-agent"].reason == reasons.ROBOTS_AI_AGENT_DISALLOWED
    assert ours.verdict == "unknown"  # an access rule for GPTBot is not a reservation by RFC 9309
    named = agents_named(robots_for(origin, body).ai_agent_signal(url, AI_AGENTS))
    assert {"gptbot", "ccbot", "claudebot", "google-extended", "bytespider", "omgili"} <= named
    # Search and user-triggered agents are blocked too, but are not AI-training agents.
    assert not named & {"perplexitybot", "chatgpt-user", "amazonbot", "claude-web", "youbot"}
    # The `*` rules still apply to us.
    assert assess(f"{url}?print=1", robots_txt=body).verdict == "reserved"
    assert not robots_for(origin, body).allows(f"{origin}/search?q=x", "rightscrawl")
    assert robots_for(origin, body).allows(f"{origin}/api/oembed?url=x", "rightscrawl")


@expect("cloudflare-managed-content-signals.txt")
def _cloudflare(body: bytes) -> None:
    origin = "https://blog.example.test"
    url = f"{origin}/2025/06/a-post/"
    result = assess(url, robots_txt=body)
    assert result.verdict == "reserved"
    signal = kinds(result)["content-signal-robots"]
    assert signal.reason == reasons.CONTENT_SIGNAL_RESERVED
    assert signal.value == "search=yes,ai-train=no"
    # Both `*` groups apply (RFC 9309 merges them): the managed Content-Signal and the site's rules.
    assert RobotsRecords.parse(body.decode()).records_for("UnlistedBot", "content-signal") == [
        "search=yes,ai-train=no"
    ]
    robots = robots_for(origin, body)
    assert not robots.allows(f"{origin}/wp-admin/options.php", "rightscrawl")
    assert robots.allows(f"{origin}/wp-admin/admin-ajax.php", "rightscrawl")
    assert not robots.allows(url, "GPTBot")
    assert "gptbot" in agents_named(robots.ai_agent_signal(url, AI_AGENTS))


@expect("aipref-content-usage.txt")
def _aipref(body: bytes) -> None:
    origin = "https://research.example.test"
    article = assess(f"{origin}/articles/x", robots_txt=body)
    assert article.verdict == "reserved"
    assert kinds(article)["content-usage-robots"].reason == reasons.CONTENT_USAGE_RESERVED
    # The longest matching path wins: /open-data/ says train-ai=y …
    open_data = assess(f"{origin}/open-data/set.csv", robots_txt=body)
    assert open_data.verdict == "not_reserved"
    # … and the longer /open-data/embargoed/ says n again.
    assert assess(f"{origin}/open-data/embargoed/x", robots_txt=body).verdict == "reserved"
    # Preferences attach only to crawlable paths: none on a disallowed one.
    members = assess(f"{origin}/members/x", robots_txt=body)
    assert "content-usage-robots" not in kinds(members)
    assert members.reasons == (reasons.ROBOTS_DISALLOWED, reasons.ROBOTS_AI_AGENT_DISALLOWED)
    # A named group replaces `*`: ExampleSearchBot's own rule applies to it.
    search = assess(f"{origin}/open-data/set.csv", robots_txt=body, user_agent="ExampleSearchBot")
    assert kinds(search)["content-usage-robots"].value == "search=y, train-ai=n"


RSL_DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
<rsl xmlns="https://rslstandard.org/rsl">
  <content url="https://www.example-press.test/">
    <license>
      <permits type="usage">search</permits>
      <prohibits type="usage">train-ai</prohibits>
    </license>
  </content>
</rsl>"""


@expect("rsl-license.txt")
def _rsl(body: bytes) -> None:
    origin = "https://www.example-press.test"
    url = f"{origin}/2025/story"
    licences = (f"{origin}/license.xml", f"{origin}/images/license.xml")
    assert RobotsRecords.parse(body.decode()).licenses == licences  # global, in file order
    result = assess(url, robots_txt=body)
    assert tuple(s.value for s in result.findings if s.kind == "rsl-license") == licences
    assert result.verdict == "unknown"  # a licence link alone does not say what it licenses
    with_terms = assess(url, robots_txt=body, rsl_xml=RSL_DOCUMENT)
    assert with_terms.verdict == "reserved"
    assert reasons.RSL_RESERVED in with_terms.reasons
    assert not robots_for(origin, body).allows(f"{origin}/drafts/x", "rightscrawl")


@expect("sitemaps-and-crawl-delay.txt")
def _shop(body: bytes) -> None:
    origin = "https://shop.example.test"
    robots = robots_for(origin, body)
    assert robots.allows(f"{origin}/products/blue-kettle", "rightscrawl")
    assert assess(f"{origin}/products/blue-kettle", robots_txt=body).verdict == "unknown"
    for path in ("/cart", "/checkout/step-2", "/category/kettles?sort=price", "/feeds/prices.json"):
        assert not robots.allows(origin + path, "rightscrawl"), path
    assert robots.allows(f"{origin}/feeds/prices.json?v=2", "rightscrawl")  # `$` anchors the end
    assert any("not access records" in p for p in robots.problems)  # Clean-param
    assert robots.ai_agent_signal(f"{origin}/cart", AI_AGENTS) is None
    assert robots.named_agents() == {"bingbot", "yandex"}


@expect("html-soft-404-served-as-robots.txt")
def _robots_soft_404(body: bytes) -> None:
    origin = "https://mag.example.test"
    robots = robots_for(origin, body)
    assert any("looks like HTML" in p for p in robots.problems)
    for agent in ("rightscrawl", "GPTBot"):
        assert robots.allows(f"{origin}/any/page", agent)
        assert assess(f"{origin}/any/page", robots_txt=body, user_agent=agent).verdict == "unknown"
    assert robots.ai_agent_signal(f"{origin}/any/page", AI_AGENTS) is None


@expect("utf8-bom-crlf.txt")
def _bom_crlf(body: bytes) -> None:
    assert body.startswith(b"\xef\xbb\xbfUser-agent: *") and b"\r\n" in body
    origin = "https://www.example-council.test"
    robots = robots_for(origin, body)
    assert not robots.allows(f"{origin}/admin/x", "rightscrawl")
    assert robots.allows(f"{origin}/news/x", "rightscrawl")
    assert agents_named(robots.ai_agent_signal(f"{origin}/news/x", AI_AGENTS)) == {
        "ccbot",
        "gptbot",
    }
    # The Content-Signal belongs to the group opened on the BOM line.
    result = assess(f"{origin}/news/x", robots_txt=body)
    assert reasons.CONTENT_SIGNAL_RESERVED in result.reasons, result.findings
    assert result.verdict == "reserved"


@expect("long-wildcard-rules.txt")
def _long_wildcards(body: bytes) -> None:
    assert body.count(b"\n") > 300
    origin = "https://wiki.example.test"
    robots = robots_for(origin, body)
    allowed = ["/wiki/Main_Page", "/w/load.php?modules=site", "/media/a.tif?download=1"]
    disallowed = [
        "/w/index.php?title=X",
        "/wiki/Foo?action=edit",
        "/wiki/Foo?oldid=123",
        "/en/wiki/Special:Random",
        "/de/wiki/Spezial:Suche",
        "/fr/wiki/Sp%C3%A9cial:Recherche",
        "/ru/wiki/Служебная:Поиск",
        "/wiki/Übersicht_privat",  # rule written percent-encoded, URL raw
        "/wiki/%C3%9Cbersicht_intern",  # rule written raw, URL percent-encoded
        "/wiki/~user/notes",  # %7E in the rule is the unreserved `~`
        "/media/scan.tif",
        "/x/Talk:y",
    ]
    for path in allowed:
        assert robots.allows(origin + path, "rightscrawl"), path
    for path in disallowed:
        assert not robots.allows(origin + path, "rightscrawl"), path
        assert assess(origin + path, robots_txt=body).verdict == "reserved", path
    named = agents_named(robots.ai_agent_signal(f"{origin}/wiki/Main_Page", AI_AGENTS))
    assert named == {"bytespider", "ccbot", "claudebot", "google-extended", "gptbot", "img2dataset"}
    assert assess(f"{origin}/wiki/Main_Page", robots_txt=body, user_agent="CCBot").verdict == (
        "reserved"
    )


TDMREP_ORIGIN = "https://www.example-publisher.test"


def tdmrep_file(body: bytes) -> TdmrepFile:
    return TdmrepFile.parse(f"{TDMREP_ORIGIN}{WELL_KNOWN_PATH}", 200, body)


@expect("site-wide-reservation.json")
def _site_wide(body: bytes) -> None:
    parsed = tdmrep_file(body)
    assert parsed.in_use and not parsed.problems
    for path in ("/", "/2025/article", "/images/a.jpg?w=1"):
        assert parsed.signal(TDMREP_ORIGIN + path).verdict == "reserved"
    result = assess(f"{TDMREP_ORIGIN}/a", tdmrep_json=body)
    assert result.verdict == "reserved"
    assert result.reasons == (reasons.TDMREP_RESERVED,)


@expect("multi-rule-with-policies.json")
def _multi_rule(body: bytes) -> None:
    parsed = tdmrep_file(body)
    assert parsed.in_use and len(parsed.rules) == 5

    def verdict(path: str) -> str:
        return parsed.signal(TDMREP_ORIGIN + path).verdict

    assert verdict("/premium/report.pdf") == "reserved"
    assert verdict("/images/cat.jpg") == "not_reserved"
    assert verdict("/images/cat.jpg?w=200") == "reserved"  # `$` anchors; falls through to "/"
    assert verdict("/open-access/paper-1") == "not_reserved"
    # First match in sequence, not longest: the catch-all "/" comes before "/press/".
    assert verdict("/press/release-1") == "reserved"
    # Processing priority: an HTTP header supersedes the file.
    url = f"{TDMREP_ORIGIN}/premium/report.pdf"
    assert assess(url, tdmrep_json=body).verdict == "reserved"
    assert assess(url, tdmrep_json=body, headers=[("tdm-reservation", "0")]).verdict == (
        "not_reserved"
    )


@expect("html-soft-404-served-as-tdmrep.json")
def _tdmrep_soft_404(body: bytes) -> None:
    parsed = tdmrep_file(body)
    assert parsed.in_use is False
    assert any("not JSON" in p for p in parsed.problems)
    result = assess(f"{TDMREP_ORIGIN}/a", tdmrep_json=body)
    assert result.verdict == "unknown"
    assert reasons.TDMREP_RESERVED not in result.reasons


@expect("object-instead-of-array.json")
def _object(body: bytes) -> None:
    parsed = tdmrep_file(body)
    assert parsed.in_use is False
    assert any("not a JSON array" in p for p in parsed.problems)
    assert assess(f"{TDMREP_ORIGIN}/a", tdmrep_json=body).verdict == "unknown"


@expect("json-true-value.json")
def _json_true(body: bytes) -> None:
    parsed = tdmrep_file(body)
    assert parsed.in_use is True
    signal = parsed.signal(f"{TDMREP_ORIGIN}/a")
    assert signal.verdict == "unknown"  # `true` is not the integer 1: a protocol error, unset
    assert any("not the integer 0 or 1" in p for p in signal.problems)
    assert assess(f"{TDMREP_ORIGIN}/a", tdmrep_json=body).verdict == "unknown"


def test_every_sample_has_a_stated_expectation():
    assert {p.name for p in ALL_SAMPLES} == set(EXPECTATIONS)
    assert len(ROBOTS_SAMPLES) >= 8 and len(TDMREP_SAMPLES) >= 5


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=sample_id)
def test_sample_meets_its_stated_expectation(path):
    EXPECTATIONS[path.name](path.read_bytes())


@pytest.mark.parametrize("path", ROBOTS_SAMPLES, ids=sample_id)
def test_robots_sample_says_it_is_modelled_not_copied(path):
    first_line = path.read_bytes().decode("utf-8-sig").splitlines()[0]
    assert "modelled on the structure of" in first_line
    assert "not a copy" in first_line
