"""robots.txt for our token with RFC 9309 access semantics (policies.signals.robots)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies import reasons
from policies.signals.robots import PARSE_LIMIT, RobotsTxt, access_for_status

URL = "https://example.org/articles/1"
ROBOTS = "https://example.org/robots.txt"


@pytest.mark.parametrize(
    ("status", "access"),
    [
        (200, "parsed"),
        (204, "parsed"),
        (301, "unreachable"),  # still a redirect after the redirects we follow
        (401, "unavailable"),
        (403, "unavailable"),
        (404, "unavailable"),
        (410, "unavailable"),
        (429, "unreachable"),
        (500, "unreachable"),
        (503, "unreachable"),
        ("network-error", "unreachable"),
    ],
)
def test_access_for_status(status, access):
    assert access_for_status(status) == access


def test_unavailable_allows_everything():
    robots = RobotsTxt.from_fetch(ROBOTS, 404, b"User-agent: *\nDisallow: /\n")
    assert robots.allows(URL, "rightscrawl")
    assert robots.signal(URL, "rightscrawl").reason is None


@pytest.mark.parametrize("status", [500, 503, 429, "network-error"])
def test_unreachable_is_complete_disallow(status):
    robots = RobotsTxt.from_fetch(ROBOTS, status, b"")
    signal = robots.signal(URL, "rightscrawl")
    assert not robots.allows(URL, "rightscrawl")
    assert signal.reason == reasons.ROBOTS_UNREACHABLE
    assert signal.problems


def test_robots_txt_itself_is_always_allowed():
    robots = RobotsTxt.from_fetch(ROBOTS, 200, b"User-agent: *\nDisallow: /\n")
    assert robots.allows(ROBOTS, "rightscrawl")


def test_token_matches_case_insensitively():
    robots = RobotsTxt.from_fetch(ROBOTS, 200, b"User-agent: RightsCrawl\nDisallow: /articles/\n")
    assert not robots.allows(URL, "rightscrawl")
    assert robots.signal(URL, "rightscrawl").reason == reasons.ROBOTS_DISALLOWED


def test_named_group_replaces_star_group():
    robots = RobotsTxt.from_fetch(
        ROBOTS, 200, b"User-agent: *\nDisallow: /\n\nUser-agent: rightscrawl\nAllow: /\n"
    )
    assert robots.allows(URL, "rightscrawl")


def test_longest_match_wins_and_allow_wins_ties():
    robots = RobotsTxt.from_fetch(
        ROBOTS,
        200,
        b"User-agent: *\nDisallow: /articles/\nAllow: /articles/1\nDisallow: /a$\nAllow: /a$\n",
    )
    assert robots.allows(URL, "rightscrawl")
    assert not robots.allows("https://example.org/articles/2", "rightscrawl")
    assert robots.allows("https://example.org/a", "rightscrawl")


def test_unknown_record_does_not_end_group():
    # RFC 9309 §2.2.4; Protego alone would end the group at "Content-Usage".
    robots = RobotsTxt.from_fetch(
        ROBOTS,
        200,
        b"User-agent: rightscrawl\nContent-Usage: train-ai=n\nUser-agent: other\nDisallow: /\n",
    )
    assert not robots.allows(URL, "rightscrawl")
    assert any("not access records" in p for p in robots.problems)


def test_parse_limit_truncates_and_records_it():
    padding = b"# " + b"x" * 100 + b"\n"
    body = b"User-agent: *\nAllow: /\n" + padding * (PARSE_LIMIT // len(padding) + 10)
    body += b"User-agent: rightscrawl\nDisallow: /\n"
    robots = RobotsTxt.from_fetch(ROBOTS, 200, body)
    assert robots.allows(URL, "rightscrawl")
    assert any("longer than" in p for p in robots.problems)


def test_html_soft_404_is_read_as_robots_txt_with_a_problem():
    robots = RobotsTxt.from_fetch(
        ROBOTS, 200, b"<!doctype html><html><body>Not found</body></html>"
    )
    assert robots.allows(URL, "rightscrawl")
    assert any("HTML" in p for p in robots.problems)


def test_undecodable_bytes_are_replaced_not_fatal():
    robots = RobotsTxt.from_fetch(
        ROBOTS, 200, b"User-agent: *\nDisallow: /\xff\xfe\nDisallow: /articles/\n"
    )
    assert not robots.allows(URL, "rightscrawl")
    assert any("UTF-8" in p for p in robots.problems)


@given(st.binary(max_size=2000))
def test_any_bytes_parse_without_raising(body):
    robots = RobotsTxt.from_fetch(ROBOTS, 200, body)
    assert robots.signal(URL, "rightscrawl").verdict in ("allowed", "disallowed")


def test_a_group_must_name_our_token_whole():
    # Protego alone would apply "User-agent: rights" to "rightscrawl".
    robots = RobotsTxt.from_fetch(
        ROBOTS, 200, b"User-agent: rights\nAllow: /\n\nUser-agent: *\nDisallow: /\n"
    )
    assert not robots.allows(URL, "rightscrawl")
    robots = RobotsTxt.from_fetch(
        ROBOTS, 200, b"User-agent: rightscrawl/2.0\nAllow: /\n\nUser-agent: *\nDisallow: /\n"
    )
    assert robots.allows(URL, "rightscrawl")


def test_product_token_of_a_user_agent_string():
    robots = RobotsTxt.from_fetch(ROBOTS, 200, b"User-agent: Scrapy\nDisallow: /\n")
    assert not robots.allows(URL, "Scrapy/2.13 (+https://scrapy.org)")
    assert robots.allows(URL, "ScrapyCloud")


def test_unreadable_body_is_unreachable():
    robots = RobotsTxt.from_fetch(
        ROBOTS, 200, b"\x1f\x8b...", unreadable="Content-Encoding br could not be decoded"
    )
    assert robots.signal(URL, "rightscrawl").reason == reasons.ROBOTS_UNREACHABLE


@pytest.mark.parametrize(
    "record",
    [
        "Crawl-delay: 2",
        "Request-rate: 1/5",
        "Visit-time: 0600-0845",
        "Sitemap: https://example.org/sitemap.xml",
        "Host: example.org",
        "Clean-param: ref /articles/",
        "Content-Usage: train-ai=n",
        "Content-Signal: ai-train=no",
        "License: https://example.org/license.xml",
        "Noindex: /x/",
        "garbage without a colon",
    ],
)
def test_no_other_record_ends_a_group(record):
    # RFC 9309 §2.2.4: other records MUST NOT interfere with the parsing of the explicit ones, so
    # the two user-agent lines below open ONE group and `/search/` is disallowed for `*` too.
    body = f"User-agent: *\n{record}\nUser-agent: Googlebot\nDisallow: /search/\n".encode()
    robots = RobotsTxt.from_fetch(ROBOTS, 200, body)
    assert not robots.allows("https://example.org/search/x", "rightscrawl")
    assert not robots.allows("https://example.org/search/x", "Googlebot")
    assert robots.allows("https://example.org/other", "rightscrawl")


def test_crawl_delay_belongs_to_the_group_it_sits_in():
    robots = RobotsTxt.from_fetch(
        ROBOTS, 200, b"User-agent: *\nCrawl-delay: 2\nUser-agent: Googlebot\nDisallow: /search/\n"
    )
    assert robots.delay_for("rightscrawl") == 2.0
    assert robots.delay_for("googlebot") == 2.0
    assert robots.named_agents() == {"googlebot"}


def test_allow_of_index_html_does_not_allow_the_directory():
    # Google's and Protego's "index.html is the directory" is not in RFC 9309.
    robots = RobotsTxt.from_fetch(
        ROBOTS, 200, b"User-agent: *\nAllow: /x/index.html\nDisallow: /\n"
    )
    assert not robots.allows("https://example.org/x/", "rightscrawl")
    assert robots.allows("https://example.org/x/index.html", "rightscrawl")


def test_a_final_dollar_is_only_an_end_anchor():
    # RFC 9309 §2.2.3: `$` designates the end of the pattern; Protego also matched a literal `$`.
    robots = RobotsTxt.from_fetch(ROBOTS, 200, b"User-agent: *\nDisallow: /price$\n")
    assert not robots.allows("https://example.org/price", "rightscrawl")
    assert robots.allows("https://example.org/price$", "rightscrawl")
    assert robots.allows("https://example.org/prices", "rightscrawl")


def test_special_characters_match_verbatim_when_percent_encoded():
    # RFC 9309 §2.2.3: to match `*` or `$` in a URI, a pattern percent-encodes them.
    robots = RobotsTxt.from_fetch(
        ROBOTS, 200, b"User-agent: *\nDisallow: /file-with-a-%2A.html\nDisallow: /foo-%24\n"
    )
    assert not robots.allows("https://example.org/file-with-a-*.html", "rightscrawl")
    assert not robots.allows("https://example.org/foo-$", "rightscrawl")
    assert robots.allows("https://example.org/file-with-a-x.html", "rightscrawl")


def test_groups_naming_the_same_agent_are_merged():
    robots = RobotsTxt.from_fetch(
        ROBOTS,
        200,
        b"User-agent: rightscrawl\nDisallow: /a/\n\nUser-agent: other\nDisallow: /\n\n"
        b"User-agent: RightsCrawl\nDisallow: /b/\n",
    )
    assert not robots.allows("https://example.org/a/1", "rightscrawl")
    assert not robots.allows("https://example.org/b/1", "rightscrawl")
    assert robots.allows("https://example.org/c/1", "rightscrawl")


def test_rules_before_any_user_agent_line_are_ignored():
    robots = RobotsTxt.from_fetch(ROBOTS, 200, b"Disallow: /\nUser-agent: *\nDisallow: /a/\n")
    assert robots.allows(URL, "rightscrawl")
    assert not robots.allows("https://example.org/a/1", "rightscrawl")


def test_star_group_applies_only_when_no_group_names_us():
    robots = RobotsTxt.from_fetch(
        ROBOTS, 200, b"User-agent: *\nDisallow: /a/\n\nUser-agent: rightscrawl\nDisallow: /b/\n"
    )
    assert robots.allows("https://example.org/a/1", "rightscrawl")
    assert not robots.allows("https://example.org/b/1", "rightscrawl")
    assert not robots.allows("https://example.org/a/1", "otherbot")


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_every_line_ending_ends_a_line(eol):
    # RFC 9309 §2.2: EOL = CR / LF / CRLF (google/robotstxt ID_LinesNumbersAreCountedCorrectly).
    body = eol.join(
        ["User-Agent: foo", "Allow: /some/path", "User-Agent: rightscrawl", "", "Disallow: /"]
    )
    robots = RobotsTxt.from_fetch(ROBOTS, 200, body.encode())
    assert not robots.allows(URL, "rightscrawl")
    assert robots.allows("https://example.org/some/path", "foo")


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b"\xef\xbb", b"\xef"])
def test_a_byte_order_mark_whole_or_cut_is_skipped(bom):
    # As google/robotstxt ID_UTF8ByteOrderMarkIsSkipped: the first line still counts.
    robots = RobotsTxt.from_fetch(ROBOTS, 200, bom + b"User-Agent: rightscrawl\nDisallow: /\n")
    assert not robots.allows(URL, "rightscrawl")


def test_a_forgotten_colon_is_read_as_google_reads_it():
    robots = RobotsTxt.from_fetch(ROBOTS, 200, b"User-agent rightscrawl\nDisallow /articles/\n")
    assert not robots.allows(URL, "rightscrawl")
    robots = RobotsTxt.from_fetch(ROBOTS, 200, b"User-agent rightscrawl\nDisallow /a /b\n")
    assert robots.allows("https://example.org/a", "rightscrawl")  # three words: not a record


def test_agent_names_are_compared_whole_digits_included():
    robots = RobotsTxt.from_fetch(
        ROBOTS, 200, b"User-agent: Rule1Bot\nDisallow: /\n\nUser-agent: Rule2Bot\nDisallow: /a\n"
    )
    assert not robots.allows("https://example.org/b", "Rule1Bot")
    assert robots.allows("https://example.org/b", "Rule2Bot")
    assert robots.allows("https://example.org/b", "Rule")


def test_hostile_wildcards_match_in_linear_time():
    rule = "/" + "*a" * 5000 + "$"
    robots = RobotsTxt.from_fetch(ROBOTS, 200, f"User-agent: *\nDisallow: {rule}\n".encode())
    started = time.perf_counter()
    assert robots.allows("https://example.org/" + "a" * 4999 + "b", "rightscrawl")
    assert time.perf_counter() - started < 1.0
