"""Every parser in `policies/` takes hostile input without raising, hanging or returning junk.

Property-based (hypothesis): arbitrary text and bytes for every parser, plus structured strategies
(robots.txt from realistic lines, tdmrep.json from random JSON, XMP/OPF/RSL/HTML templates with
random values, zip archives with random members and corruption), and pinned hostile inputs: deep
nesting, inputs near the size limits, XML entity bombs, zip bombs, invalid UTF-8, NUL bytes.

Well-formed means: a `Signal` has a verdict from the allowed set, a reason from `reasons.ALL` or
None, `problems` a tuple of str, serialises to JSON; an in-force reservation carries a reason code;
an `Assessment` verdict is what its findings combine to.

Tests named `..._in_linear_time` / `..._quickly` run under a SIGALRM deadline, so a super-linear
parser fails the test instead of hanging the suite.
"""

from __future__ import annotations

import html as html_lib
import io
import json
import re
import signal
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policies import reasons
from policies.ai_agents import training_agents
from policies.assess import Assessment, assess, combine
from policies.evidence import Signal
from policies.signals import c2pa, content_signal, content_usage, tdmrep
from policies.signals.ai_txt import ai_txt_signal
from policies.signals.c2pa import c2pa_signal
from policies.signals.embedded import (
    MAX_OPF_BYTES,
    document_metadata,
    epub_package,
    epub_signals,
    find_xmp_packet,
    xmp_signals,
)
from policies.signals.html_meta import extract_meta, meta_from_tree, parse_html
from policies.signals.licence import HtmlRights, rights_from_tree
from policies.signals.path_pattern import PathPattern, compile_pattern, normalize, url_path
from policies.signals.robots import PARSE_LIMIT, RobotsTxt
from policies.signals.robots_records import RobotsRecords
from policies.signals.rsl import rsl_signal
from policies.signals.tdmrep_file import MAX_BYTES as TDMREP_MAX_BYTES
from policies.signals.tdmrep_file import WELL_KNOWN_PATH, TdmrepFile
from policies.signals.x_robots_tag import noai_signals

VERDICTS = frozenset({"reserved", "not_reserved", "unknown", "disallowed", "allowed"})
READINGS = frozenset({"reserved", "not_reserved", "unknown"})
REASON_CODES = frozenset(reasons.ALL)
AI_AGENTS = training_agents().tokens
ORIGIN = "https://example.com"
ROBOTS_URL = f"{ORIGIN}/robots.txt"
TDMREP_URL = f"{ORIGIN}{WELL_KNOWN_PATH}"

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,  # do not write failing examples into the shared .hypothesis directory
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_FEW = settings(FUZZ, max_examples=30)


# --- well-formedness checks --------------------------------------------------------------------


def check_signal(sig: Any) -> None:
    assert isinstance(sig, Signal), sig
    assert isinstance(sig.kind, str) and sig.kind
    assert isinstance(sig.source, str)
    assert isinstance(sig.value, str)
    assert sig.verdict in VERDICTS, sig
    assert sig.reason is None or sig.reason in REASON_CODES, sig
    assert isinstance(sig.problems, tuple), sig
    assert all(isinstance(p, str) for p in sig.problems), sig
    assert isinstance(sig.unreachable, bool) and isinstance(sig.in_force, bool)
    assert sig.evidence_record is None or isinstance(sig.evidence_record, str)
    if sig.verdict in ("reserved", "disallowed") and sig.in_force:
        assert sig.reason, f"a reservation in force without a reason code: {sig}"
    if sig.kind.startswith("tdm-reservation-"):  # header, meta, xmp, epub: read_value
        assert (sig.verdict == "reserved") == (sig.value == "1"), sig
        assert (sig.verdict == "not_reserved") == (sig.value == "0"), sig
    json.dumps(sig.to_json())  # provenance records must serialise


def check_signals(signals: Any) -> None:
    assert isinstance(signals, list | tuple), signals
    for sig in signals:
        check_signal(sig)


def check_optional(sig: Any) -> None:
    if sig is not None:
        check_signal(sig)


def check_assessment(result: Any, url: str) -> None:
    assert isinstance(result, Assessment)
    assert result.url == url
    assert result.verdict in READINGS
    assert isinstance(result.findings, tuple)
    check_signals(result.findings)
    assert result.verdict == combine(result.findings)
    assert set(result.reasons) <= REASON_CODES


def check_tdmrep_file(parsed: Any) -> None:
    assert isinstance(parsed, TdmrepFile)
    assert isinstance(parsed.in_use, bool) and isinstance(parsed.unreachable, bool)
    assert isinstance(parsed.rules, tuple)
    assert all(isinstance(rule.location, str) for rule in parsed.rules)
    assert isinstance(parsed.problems, tuple)
    assert all(isinstance(p, str) for p in parsed.problems)
    assert not (parsed.in_use and parsed.unreachable)


class TookTooLong(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging) when the block runs longer than `seconds` (SIGALRM, main thread)."""

    def expire(signum, frame):
        raise TookTooLong(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


needs_alarm = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")


# --- strategies --------------------------------------------------------------------------------


def cap_stars(text: str, limit: int = 3) -> str:
    """At most `limit` wildcards: more make `compile_pattern` backtrack super-linearly, which
    `test_path_patterns_match_in_linear_time` pins on its own, so fuzzing does not hang on it."""
    head, *rest = text.split("*")
    return head + "".join(("*" if i < limit else "") + part for i, part in enumerate(rest))


PATH_PIECES = [
    "/", "/", "*", "$", "%2A", "%24", "%7E", "%7e", "%2F", "%zz", "%", "%2", "%00", "%C3%BC",
    "%E6%97%A5", "a", "B", "ü", "日本", "/private/", "/articles/", "?q=1", "&x=", ".pdf", ".jpg",
    "~", " ", "\t", "#frag", ";", "=", "\x00", "\\", "[", "]",
]  # fmt: skip
path_patterns = st.lists(st.sampled_from(PATH_PIECES), max_size=8).map("".join).map(cap_stars)
paths = st.one_of(path_patterns, st.text(max_size=30)).map(
    lambda p: cap_stars(p if p.startswith("/") else "/" + p)
)
HOSTS = ["example.com", "example.com:8080", "EXAMPLE.com", "[::1]", "127.0.0.1", "xn--bcher-kva.ch"]
urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}{path}",
    st.sampled_from(["https", "http"]),
    st.sampled_from(HOSTS),
    paths,
)
AGENT_NAMES = [
    "*", "rightscrawl", "RightsCrawl", "rightscrawl/1.0", "GPTBot", "gptbot", "CCBot",
    "Google-Extended", "Brightbot 1.0", "anthropic-ai", "Scrapy", "rights", "", "123", "Ü-bot",
]  # fmt: skip
user_agents = st.one_of(
    st.sampled_from(
        [
            "rightscrawl",
            "RightsCrawl/0.1 (+https://example.org/bot)",
            "GPTBot",
            "CCBot/2.0",
            "Scrapy/2.13 (+https://scrapy.org)",
            "*",
            "",
            " ",
            "123",
            "rights",
        ]
    ),
    st.text(max_size=20),
)
STATUSES = [0, 100, 200, 204, 206, 299, 301, 304, 401, 403, 404, 410, 429, 451, 500, 503, 599]
statuses = st.one_of(
    st.sampled_from([*STATUSES, 999, -1, "network-error", "timeout", "200", ""]),
    st.integers(-(2**40), 2**40),
    st.text(max_size=12),
)
optional_statuses = st.one_of(st.none(), statuses)
texts = st.text(max_size=400)
blobs = st.binary(max_size=400)
text_or_bytes = st.one_of(texts, blobs)

HEADER_NAMES = [
    "Content-Usage", "content-usage", "Content-Signal", "tdm-reservation", "TDM-Reservation",
    "tdm-policy", "X-Robots-Tag", "x-robots-tag", "Link", "Content-Type",
]  # fmt: skip
HEADER_VALUES = [
    "train-ai=n", "train-ai=y", "train-ai=n, search=y", "Train-AI=n", 'train-ai="n"', "train-ai",
    "bots=n", "train-ai=n,", "train-ai = n", "train-ai;allow=n, train-ai=y", "search=yes, ai-train=no",
    "ai-train=yes", "ai-train=no,use=reference", "1", "0", " 1 ", "1, 0", "1, 1", "true", "2",
    "noai", "noimageai", "GPTBot: noai", "rightscrawl: noai", "rightscrawl: noindex, noai",
    "max-snippet: 20, noai", "noindex", ":,", ":, :, ,;: -:: ", "",
]  # fmt: skip
header_values = st.one_of(st.sampled_from(HEADER_VALUES), st.text(max_size=60))
headers_lists = st.lists(
    st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=15)), header_values),
    max_size=6,
)
META_NAMES = [
    "robots",
    "tdm-reservation",
    "TDM-Reservation",
    "rightscrawl",
    "googlebot",
    "tdm-policy",
]
meta_lists = st.lists(
    st.tuples(st.one_of(st.sampled_from(META_NAMES), st.text(max_size=15)), header_values),
    max_size=6,
).map(tuple)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, 2, -1, 0.0, 1.0, 1e400, True, False, "0", "1", ""]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
JSON_KEYS = ["location", "tdm-reservation", "tdm-policy", "label", "data", "entries", "use"]
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(
            st.one_of(st.sampled_from(JSON_KEYS), st.text(max_size=10)), inner, max_size=5
        ),
    ),
    max_leaves=25,
)


@st.composite
def json_texts(draw, values=json_values) -> str:
    return json.dumps(
        draw(values), ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 0, 2]))
    )


# robots.txt built from realistic lines


def _line(name: str, value: str) -> str:
    return f"{name}:{' ' if value else ''}{value}"


usage_prefs = st.one_of(st.sampled_from(HEADER_VALUES[:10]), st.text(max_size=30))
robots_lines = st.one_of(
    st.builds(
        _line,
        st.sampled_from(["User-agent", "user-agent", "USER-AGENT", "Useragent", "User agent"]),
        st.one_of(st.sampled_from(AGENT_NAMES), st.text(max_size=12)),
    ),
    st.builds(
        _line,
        st.sampled_from(["Allow", "Disallow", "disallow", "DISALLOW", "Dissallow", "allow "]),
        path_patterns,
    ),
    st.builds(
        lambda name, path, prefs: _line(name, f"{path} {prefs}" if path else prefs),
        st.sampled_from(["Content-Usage", "content-usage", "Content-usage "]),
        st.one_of(st.just(""), path_patterns.map(lambda p: "/" + p.lstrip("/"))),
        usage_prefs,
    ),
    st.builds(
        _line,
        st.sampled_from(["Content-Signal", "Content-signal", "content-signal"]),
        st.one_of(
            st.sampled_from(
                [
                    "search=yes, ai-train=no",
                    "search=yes,ai-train=no,use=reference",
                    "ai-train=yes",
                    "ai-input=no",
                    "ai-train=No",
                    "ai-train",
                    "=,=,",
                ]
            ),
            st.text(max_size=30),
        ),
    ),
    st.builds(
        _line,
        st.sampled_from(["License", "license"]),
        st.sampled_from(["https://example.com/license.xml", "", "not a url", "https://[::1"]),
    ),
    st.sampled_from(
        [
            "Sitemap: https://example.com/sitemap.xml",
            "Crawl-delay: 10",
            "Crawl-delay: abc",
            "Crawl-delay: -1",
            "Request-rate: 1/5",
            "Request-rate: x/y",
            "Request-rate: 1/0",
            "Visit-time: 0600-0845",
            "Visit-time: junk",
            "Host: example.com",
            "Noindex: /",
            "# a comment",
            "Disallow: /x # trailing comment",
            "",
            "   ",
            "<html><body>Not found</body></html>",
            "User-agent: *\x00",
            "Disallow:",
            "Allow:",
            ":",
            "::::",
        ]
    ),
    st.text(max_size=30),
)


@st.composite
def robots_files(draw) -> bytes:
    lines = draw(st.lists(robots_lines, max_size=25))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = eol.join(lines) + draw(st.sampled_from(["", eol]))
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    return bom + text.encode("utf-8")


# Rules whose verdict is known: patterns and paths over a few characters that need no escaping,
# matched here by `re` (an independent reading of RFC 9309 §2.2.3: `*` any run, a final `$` the
# end), so the expected answer does not come from the code under test.

SAFE_PIECES = ["/", "a", "b", "ab", ".", "-", "?", "="]
safe_paths = (
    st.lists(st.sampled_from(SAFE_PIECES), max_size=6)
    .map(lambda p: "/" + "".join(p))
    .filter(lambda p: not p.endswith("?"))  # a URL's empty query is no part of what is matched
)
safe_patterns = st.builds(
    lambda pieces, anchored: cap_stars("/" + "".join(pieces), 2) + ("$" if anchored else ""),
    st.lists(st.sampled_from([*SAFE_PIECES, "*"]), max_size=5),
    st.booleans(),
)


def pattern_matches(pattern: str, path: str) -> bool:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(part) for part in body.split("*"))
    return re.match(regex + (r"\Z" if anchored else ""), path, re.DOTALL) is not None


def longest_match_allows(rules: list[tuple[bool, str]], path: str) -> bool:
    """RFC 9309 §2.2.2: the matching rule with the most octets decides, an allow wins a tie, an
    empty pattern matches nothing, and a path no rule matches is allowed."""
    matching = [(len(p), allow) for allow, p in rules if p and pattern_matches(p, path)]
    if not matching:
        return True
    best = max(octets for octets, _ in matching)
    return any(allow for octets, allow in matching if octets == best)


OUR_AGENT_LINES = [
    "rightscrawl",
    "RightsCrawl",
    "RIGHTSCRAWL",
    "rightscrawl/1.0",
    "rightscrawl/2 x",
]
# Named agents that are not us: a longer name, a prefix, a name with our token inside.
OTHER_AGENT_LINES = [
    "GPTBot",
    "rightscrawlbot",
    "rights",
    "rightscrawl-beta",
    "CCBot",
    "xrightscrawl",
]
# Records that RFC 9309 §2.2.4 says must not end or split a group.
GROUP_NEUTRAL_LINES = [
    "Sitemap: https://example.com/sitemap.xml", "Crawl-delay: 5", "Request-rate: 1/5",
    "Visit-time: 0600-0845", "Host: example.com", "# a comment", "", "   ", "Unknown-field: x",
    "Content-Signal: ai-train=no", "Content-Usage: train-ai=n", "Noindex: /a",
]  # fmt: skip


@st.composite
def robots_rule_groups(draw) -> tuple[bytes, list[tuple[bool, str]], list[tuple[bool, str]]]:
    """A robots.txt built from groups, with the rules that apply to `rightscrawl` (the groups
    naming it, merged, else the `*` groups) and those that apply to an agent it does not name."""
    neutral = st.sampled_from(GROUP_NEUTRAL_LINES)
    lines: list[str] = []
    if draw(st.booleans()):  # rules before any user-agent line belong to no group: ignored
        lines += ["Disallow: /", "Allow: /a"]
    ours: list[tuple[bool, str]] = []
    star: list[tuple[bool, str]] = []
    named_us = False
    for _ in range(draw(st.integers(1, 4))):
        agents = draw(
            st.lists(
                st.sampled_from(["*", *OUR_AGENT_LINES, *OTHER_AGENT_LINES]), min_size=1, max_size=2
            )
        )
        # At least one rule line, so the next group's user-agent lines start a new group; an
        # empty `Disallow:` is a rule line that matches nothing.
        rules = draw(
            st.lists(
                st.one_of(st.tuples(st.booleans(), safe_patterns), st.just((False, ""))),
                min_size=1,
                max_size=4,
            )
        )
        for agent in agents:
            lines.append(
                f"{draw(st.sampled_from(['User-agent', 'user-agent', 'USER-AGENT']))}: {agent}"
            )
            lines += draw(st.lists(neutral, max_size=1))
        for allow, pattern in rules:
            name = draw(
                st.sampled_from(["Allow", "allow", "ALLOW"] if allow else ["Disallow", "disallow"])
            )
            lines.append(f"{name}: {pattern}".rstrip() + draw(st.sampled_from(["", " # why"])))
            lines += draw(st.lists(neutral, max_size=1))
        if any(agent in OUR_AGENT_LINES for agent in agents):
            named_us = True
            ours += rules
        if "*" in agents:
            star += rules
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    return bom + eol.join(lines).encode(), ours if named_us else star, star


# XMP / OPF / RSL / HTML templates with random values

TDM_VALUES = ["1", "0", " 1 ", "\n1\n", "true", "2", "", "01", "1.0"]
DMI_VALUES = [
    "DMI-PROHIBITED-AIMLTRAINING",
    "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED",
    "DMI-ALLOWED",
    "dmi-allowed",
    "DMI-UNSPECIFIED",
    "DMI-NOPE",
    "",
]
xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=30)
tdm_values = st.one_of(st.sampled_from(TDM_VALUES), xml_text)
dmi_values = st.one_of(st.sampled_from(DMI_VALUES), xml_text)


@st.composite
def xmp_packet_parts(draw, tdm=tdm_values, dmi=dmi_values) -> tuple[str, list[str], list[str]]:
    """An XMP packet, and the tdm:reservation and plus:DataMining values written into it."""
    ns = draw(st.sampled_from(["http://www.w3.org/ns/tdmrep/", "http://www.w3.org/ns/tdmrep#"]))
    tdm_written, dmi_written = [], []
    attrs = ""
    if draw(st.booleans()):
        tdm_written.append(draw(tdm))
        attrs += f" tdm:reservation={quoteattr(tdm_written[-1])}"
    if draw(st.booleans()):
        dmi_written.append(draw(dmi))
        attrs += f" plus:DataMining={quoteattr(dmi_written[-1])}"
    element_tdm = draw(st.lists(tdm, max_size=2))
    element_dmi = draw(st.lists(st.tuples(dmi, st.booleans()), max_size=2))
    tdm_written += element_tdm
    dmi_written += [v for v, _ in element_dmi]
    elements = "".join(f"<tdm:reservation>{xml_escape(v)}</tdm:reservation>" for v in element_tdm)
    elements += "".join(
        f"<plus:DataMining rdf:resource={quoteattr(v)}/>"
        if resource
        else f"<plus:DataMining>{xml_escape(v)}</plus:DataMining>"
        for v, resource in element_dmi
    )
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:tdm="{ns}" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/"{attrs}>'
        f"{elements}</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    return packet, tdm_written, dmi_written


def xmp_packets() -> st.SearchStrategy[str]:
    return xmp_packet_parts().map(lambda parts: parts[0])


@st.composite
def opf_document_parts(draw, tdm=tdm_values) -> tuple[str, list[str]]:
    """An EPUB package document, and the tdm:reservation values written into it."""
    metas, written = [], []
    for value, epub3 in draw(st.lists(st.tuples(tdm, st.booleans()), max_size=3)):
        written.append(value)
        if epub3:
            metas.append(f'<meta property="tdm:reservation">{xml_escape(value)}</meta>')
        else:
            metas.append(f'<meta name="tdm:reservation" content={quoteattr(value)}/>')
    document = (
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'prefix="tdm: http://www.w3.org/ns/tdmrep#">'
        f"<metadata>{''.join(metas)}</metadata></package>"
    )
    return document, written


def opf_documents() -> st.SearchStrategy[str]:
    return opf_document_parts().map(lambda parts: parts[0])


# What each listed value says (TDMRep: only "1"/"0" once trimmed; IPTC: DMI-PROHIBITED* reserves,
# DMI-ALLOWED permits, case-insensitively): the known answers for packets built from them.
TDM_READING = {
    "1": "reserved", "0": "not_reserved", " 1 ": "reserved", "\n1\n": "reserved",
    "true": "unknown", "2": "unknown", "": "unknown", "01": "unknown", "1.0": "unknown",
}  # fmt: skip
DMI_READING = {
    "DMI-PROHIBITED-AIMLTRAINING": "reserved",
    "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED": "reserved",
    "DMI-ALLOWED": "not_reserved",
    "dmi-allowed": "not_reserved",
    "DMI-UNSPECIFIED": "unknown",
    "DMI-NOPE": "unknown",
    "": "unknown",
}
assert set(TDM_READING) == set(TDM_VALUES) and set(DMI_READING) == set(DMI_VALUES)


RSL_URLS = [
    "/",
    "/*",
    "/articles/",
    "/*.pdf$",
    "https://example.com/",
    "https://example.com/articles/*",
    "http://example.com/",
    "https://other.example/",
    "//example.com/x",
    "mailto:licensing@example.com",
    "http://[::1]/",
    "http://[::1",
    "http://[x]/",
    "",
]
RSL_TOKENS = ["train-ai", "ai-train", "all", "ai-all", "search", "ai-input", "ai-index", ""]


@st.composite
def rsl_documents(draw) -> str:
    contents = []
    for _ in range(draw(st.integers(0, 3))):
        url = draw(st.one_of(st.sampled_from(RSL_URLS), path_patterns, xml_text.map(cap_stars)))
        server = draw(st.sampled_from(["", ' server="https://rsl.example/"', ' server=""']))
        terms = []
        for tag, kind, tokens in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["permits", "prohibits"]),
                    st.sampled_from(["usage", "user", None]),
                    st.lists(st.one_of(st.sampled_from(RSL_TOKENS), xml_text), max_size=3),
                ),
                max_size=3,
            )
        ):
            type_attr = f" type={quoteattr(kind)}" if kind else ""
            terms.append(f"<{tag}{type_attr}>{xml_escape(', '.join(tokens))}</{tag}>")
        contents.append(
            f"<content url={quoteattr(url)}{server}><license>{''.join(terms)}</license></content>"
        )
    return f'<rsl xmlns="https://rslstandard.org/rsl">{"".join(contents)}</rsl>'


@st.composite
def html_documents(draw) -> str:
    parts = ["<!doctype html><html><head>"]
    for name, content in draw(meta_lists):
        parts.append(f'<meta name="{html_lib.escape(name)}" content="{html_lib.escape(content)}">')
    for rel, typ, href in draw(
        st.lists(
            st.tuples(
                st.sampled_from(["license", "LICENSE", "license nofollow", "alternate", ""]),
                st.sampled_from(["", "application/rsl+xml", "text/html"]),
                st.sampled_from(["https://creativecommons.org/licenses/by/4.0/", "/rsl.xml", ""]),
            ),
            max_size=3,
        )
    ):
        parts.append(f'<link rel="{rel}" type="{typ}" href="{href}">')
    for block in draw(
        st.lists(
            st.one_of(
                json_texts(),
                st.sampled_from(
                    [
                        '{"@type": "NewsArticle", "isAccessibleForFree": false}',
                        '{"@type": "NewsArticle", "isAccessibleForFree": "False",'
                        ' "hasPart": {"isAccessibleForFree": "false"}}',
                        '{"license": {"@id": "https://creativecommons.org/licenses/by/4.0/"}}',
                        '{"@graph": [{"license": "https://example.com/l"}, 3, null]}',
                        '{"license": 5, "hasPart": [1, "x", {"isAccessibleForFree": null}]}',
                    ]
                ),
                texts,
            ),
            max_size=2,
        )
    ):
        parts.append(f'<script type="application/ld+json">{block}</script>')
    parts.append("</head><body><p>text</p>")
    parts.append(draw(st.text(max_size=50)))
    return "".join(parts)


C2PA_LABELS = ["c2pa.training-mining", "cawg.training-mining", "c2pa.actions", "other"]
C2PA_KEYS = [
    "c2pa.ai_training",
    "cawg.ai_generative_training",
    "cawg.data_mining",
    "c2pa.ai_inference",
    "com.example.custom",
    "ai_training",
]
c2pa_assertion = st.one_of(
    st.fixed_dictionaries(
        {
            "label": st.one_of(st.sampled_from(C2PA_LABELS), json_values),
            "data": st.one_of(
                st.fixed_dictionaries(
                    {
                        "entries": st.one_of(
                            st.dictionaries(
                                st.one_of(st.sampled_from(C2PA_KEYS), st.text(max_size=8)),
                                st.one_of(
                                    st.fixed_dictionaries(
                                        {
                                            "use": st.one_of(
                                                st.sampled_from(
                                                    ["allowed", "notAllowed", "constrained", "no"]
                                                ),
                                                json_values,
                                            )
                                        }
                                    ),
                                    json_values,
                                ),
                                max_size=4,
                            ),
                            json_values,
                        )
                    }
                ),
                json_values,
            ),
        }
    ),
    json_values,
)
c2pa_assertion_lists = st.lists(c2pa_assertion, max_size=4)


EPUB_CONTAINER = (
    b'<?xml version="1.0"?>\n<container version="1.0" '
    b'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
    b'<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
    b"</rootfiles></container>"
)
EPUB_OPF = (
    b'<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata>'
    b'<meta property="tdm:reservation">1</meta></metadata></package>'
)


def make_zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def good_epub(method: int = zipfile.ZIP_DEFLATED) -> bytes:
    return make_zip(
        {
            "mimetype": b"application/epub+zip",
            "META-INF/container.xml": EPUB_CONTAINER,
            "OEBPS/content.opf": EPUB_OPF,
        },
        method,
    )


def _member_data_offset(data: bytes, name: str) -> tuple[int, int]:
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    return start, info.compress_size


def corrupt_member(data: bytes, name: str, skip: int = 0) -> bytes:
    start, size = _member_data_offset(data, name)
    corrupted = bytearray(data)
    for i in range(start + skip, start + size):
        corrupted[i] ^= 0x55
    return bytes(corrupted)


def patch_headers(data: bytes, offset_local: int, offset_central: int, patch) -> bytes:
    patched = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", offset_local), (b"PK\x01\x02", offset_central)):
        i = patched.find(signature)
        while i >= 0:
            patch(patched, i + offset)
            i = patched.find(signature, i + 4)
    return bytes(patched)


def _set_method(buffer: bytearray, at: int) -> None:
    buffer[at : at + 2] = struct.pack("<H", 6)  # PKWARE "implode": unsupported by zipfile


def _set_encrypted(buffer: bytearray, at: int) -> None:
    buffer[at] |= 0x01  # general purpose flag bit 0: encrypted


CORRUPT_EPUBS = {
    "deflate-stream-corrupt": lambda: corrupt_member(good_epub(), "META-INF/container.xml"),
    "bzip2-stream-corrupt": lambda: corrupt_member(
        good_epub(zipfile.ZIP_BZIP2), "META-INF/container.xml", skip=4
    ),
    "lzma-stream-corrupt": lambda: corrupt_member(
        good_epub(zipfile.ZIP_LZMA), "META-INF/container.xml", skip=4
    ),
    "unsupported-compression-method": lambda: patch_headers(good_epub(), 8, 10, _set_method),
    "encrypted-flag-set": lambda: patch_headers(good_epub(), 6, 8, _set_encrypted),
    "opf-deflate-stream-corrupt": lambda: corrupt_member(good_epub(), "OEBPS/content.opf"),
}


@st.composite
def zip_archives(draw) -> bytes:
    """Small zips with EPUB-like and random members, some bytes then overwritten at random."""
    names = ["mimetype", "META-INF/container.xml", "OEBPS/content.opf", "content.opf"]
    methods = st.sampled_from(
        [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
    )
    bodies = st.one_of(
        st.binary(max_size=200),
        st.sampled_from(names).map(
            lambda path: EPUB_CONTAINER.replace(b"OEBPS/content.opf", path.encode())
        ),
        opf_documents().map(str.encode),
    )
    members = draw(
        st.lists(
            st.tuples(
                st.one_of(
                    st.sampled_from(names),
                    st.text(st.characters(min_codepoint=32), min_size=1, max_size=10),
                ),
                bodies,
                methods,
            ),
            max_size=3,
            unique_by=lambda m: m[0],
        )
    )
    if draw(st.integers(0, 9)) and all(m[0] != "META-INF/container.xml" for m in members):
        members.insert(0, ("META-INF/container.xml", draw(bodies), draw(methods)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, method in members:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    data = bytearray(buffer.getvalue())
    infos = zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()
    if infos and draw(st.booleans()):  # damage one member's compressed stream
        info = draw(st.sampled_from(infos))
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        for offset, mask in draw(
            st.lists(st.tuples(st.integers(0, 200), st.integers(1, 255)), min_size=1, max_size=4)
        ):
            if info.compress_size:
                data[start + offset % info.compress_size] ^= mask
    for position, byte in draw(
        st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3)
    ):
        data[position % len(data)] = byte
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


# --- robots.txt --------------------------------------------------------------------------------


def read_robots(robots: RobotsTxt, url: str, agent: str) -> None:
    assert robots.access in ("parsed", "unavailable", "unreachable")
    assert isinstance(robots.problems, tuple) and all(isinstance(p, str) for p in robots.problems)
    assert isinstance(robots.allows(url, agent), bool)
    check_signal(robots.signal(url, agent))
    check_optional(robots.ai_agent_signal(url, AI_AGENTS))
    assert all(isinstance(name, str) and name for name in robots.named_agents())
    # RFC 9309 §2.2.2: /robots.txt is implicitly allowed, whatever the file or the fetch said.
    assert robots.allows(ROBOTS_URL, agent)
    if hasattr(robots, "delay_for"):  # Crawl-delay / Request-rate for our politeness
        delay = robots.delay_for(agent)
        assert delay is None or (isinstance(delay, float) and delay >= 0), delay


def access_of(status: object) -> str:
    """RFC 9309 §2.3.1: 2xx parsed; 4xx unavailable (but 429, read as a server error, as Google
    does); 5xx, 429, a network error, too many redirects or nonsense: unreachable."""
    if type(status) is int and 200 <= status < 300:
        return "parsed"
    if type(status) is int and 400 <= status < 500 and status != 429:
        return "unavailable"
    return "unreachable"


@FUZZ
@given(body=st.one_of(st.none(), blobs), status=statuses, url=urls, agent=user_agents)
def test_robots_txt_any_bytes_any_status_is_read_as_its_status_says(body, status, url, agent):
    robots = RobotsTxt.from_fetch(ROBOTS_URL, status, body)
    read_robots(robots, url, agent)
    assert robots.access == access_of(status)
    if robots.access == "unavailable":
        assert robots.allows(url, agent) and robots.signal(url, agent).reason is None
    elif robots.access == "unreachable":
        sig = robots.signal(url, agent)
        if urlsplit(url).path == "/robots.txt":
            assert sig.verdict == "allowed"
        else:
            assert (sig.verdict, sig.reason) == ("disallowed", reasons.ROBOTS_UNREACHABLE)


@FUZZ
@example(  # a Sitemap line inside our group must not end it (RFC 9309 §2.2.4)
    built=(
        b"User-agent: rightscrawl\nSitemap: https://example.com/s.xml\nDisallow: /a\n"
        b"User-agent: *\nAllow: /",
        [(False, "/a")],
        [(True, "/")],
    ),
    path="/ab",
)
@example(  # the longest match wins whatever the order; an allow wins a tie
    built=(
        b"User-agent: *\nDisallow: /a\nAllow: /a*\nDisallow: /ab$\nAllow: /ab$",
        [(False, "/a"), (True, "/a*"), (False, "/ab$"), (True, "/ab$")],
        [(False, "/a"), (True, "/a*"), (False, "/ab$"), (True, "/ab$")],
    ),
    path="/ab",
)
@given(built=robots_rule_groups(), path=safe_paths)
def test_robots_txt_built_from_rules_gives_their_longest_match_verdict(built, path):
    body, ours, others = built
    robots = RobotsTxt.from_fetch(ROBOTS_URL, 200, body)
    url = ORIGIN + path
    expected = longest_match_allows(ours, path)
    for agent in ("rightscrawl", "RightsCrawl/0.1 (+https://example.org/bot)"):
        assert robots.allows(url, agent) == expected, (body, path)
    sig = robots.signal(url, "rightscrawl")
    assert (sig.verdict, sig.reason) == (
        ("allowed", None) if expected else ("disallowed", reasons.ROBOTS_DISALLOWED)
    )
    # An agent the file never names reads the `*` groups only.
    assert robots.allows(url, "Scrapy/2.13 (+https://scrapy.org)") == longest_match_allows(
        others, path
    )


@FUZZ
@given(body=blobs, status=st.sampled_from([401, 403, 404, 410, 451]), url=urls, agent=user_agents)
def test_robots_txt_4xx_is_unavailable_and_allows_everything(body, status, url, agent):
    robots = RobotsTxt.from_fetch(ROBOTS_URL, status, body)
    assert robots.access == "unavailable"
    assert robots.allows(url, agent)
    assert robots.signal(url, agent).verdict == "allowed"


@FUZZ
@given(
    body=blobs,
    status=st.one_of(
        st.sampled_from([429, 500, 503, 599, 999, 0, 301, "network-error"]), st.text(max_size=8)
    ),
    path=paths.filter(lambda p: not p.startswith("/robots.txt")),
    agent=user_agents,
)
def test_robots_txt_unreachable_is_complete_disallow_with_reason(body, status, path, agent):
    robots = RobotsTxt.from_fetch(ROBOTS_URL, status, body)
    url = ORIGIN + path
    assert robots.access == "unreachable"
    sig = robots.signal(url, agent)
    assert sig.verdict == "disallowed" and sig.reason == reasons.ROBOTS_UNREACHABLE
    assert sig.problems
    assert robots.ai_agent_signal(url, AI_AGENTS) is None


@FUZZ
@given(body=robots_files(), url=urls, agent=user_agents)
def test_robots_txt_from_realistic_lines_is_read_without_raising(body, url, agent):
    robots = RobotsTxt.from_fetch(ROBOTS_URL, 200, body)
    assert robots.access == "parsed"
    read_robots(robots, url, agent)
    for name in ("rightscrawl", "GPTBot", "*", agent):
        read_robots(robots, url, name)
    records = RobotsRecords.parse(body.decode("utf-8", "replace"))
    for field in ("content-usage", "content-signal", "allow", "disallow", "crawl-delay"):
        values = records.records_for(agent, field)
        assert isinstance(values, list) and all(isinstance(v, str) for v in values)
    assert all(isinstance(licence, str) for licence in records.licenses)


@FUZZ
@given(text=st.one_of(texts, robots_files().map(lambda b: b.decode())), agent=user_agents)
def test_robots_records_any_text_never_raises(text, agent):
    records = RobotsRecords.parse(text)
    for field in ("content-usage", "content-signal", "disallow", "junk"):
        assert all(isinstance(v, str) for v in records.records_for(agent, field))
    for group in records.groups:
        assert group.agents, "a group always starts at a user-agent line"


@FUZZ
@example(
    body=b"User-agent: *\nContent-Signal: ai-train=no\n",
    url="https://example.com/",
    agent="rightscrawl",
)
@given(body=robots_files(), url=urls, agent=user_agents)
def test_a_utf8_bom_and_line_endings_do_not_change_the_reading_of_robots_txt(body, url, agent):
    """RFC 9309 §2.2: UTF-8, lines end in CR, LF or CRLF; a BOM is not part of the first record."""
    text = body.removeprefix(b"\xef\xbb\xbf").decode()
    lines = text.splitlines()

    def reading(raw: bytes) -> list[tuple[str, str, str | None]]:
        result = assess(url, robots_txt=raw, user_agent=agent)
        return [(s.kind, s.verdict, s.reason) for s in result.findings]

    plain = reading("\n".join(lines).encode())
    assert reading(("\ufeff" + "\n".join(lines)).encode()) == plain
    assert reading("\r\n".join(lines).encode()) == plain


# --- TDMRep ------------------------------------------------------------------------------------


def read_tdmrep(parsed: TdmrepFile, url: str) -> None:
    check_tdmrep_file(parsed)
    sig = parsed.signal(url)
    check_optional(sig)
    if not parsed.in_use:
        # Not in use says nothing about the URL: at most a record of why (unreachable, soft 404).
        assert sig is None or (sig.verdict == "unknown" and sig.reason is None), sig
    elif sig is not None:
        raw = json.loads(sig.value)
        value = raw["tdm-reservation"]
        # Type-strict: only the JSON integer 1 reserves, only 0 permits; true/"1"/1.0 are unset.
        assert (sig.verdict == "reserved") == (type(value) is int and value == 1)
        assert (sig.verdict == "not_reserved") == (type(value) is int and value == 0)


@FUZZ
@given(body=st.one_of(st.none(), text_or_bytes), status=optional_statuses, url=urls)
def test_tdmrep_json_any_body_any_status_is_read_as_its_status_says(body, status, url):
    parsed = TdmrepFile.parse(TDMREP_URL, status, body)
    read_tdmrep(parsed, url)
    if status is None or (type(status) is int and 200 <= status < 300):
        return  # read from the body: the properties below give it known answers
    # Not fetched: TDMRep not in use. A server error, 429 or no answer at all may hide a file
    # (unreachable: a profile may fail closed); a 4xx says there is none.
    assert not parsed.in_use and not parsed.rules
    assert parsed.unreachable == (type(status) is not int or status >= 500 or status == 429)
    sig = parsed.signal(url)
    if parsed.unreachable:
        assert sig.verdict == "unknown" and sig.unreachable and sig.reason is None
    else:
        assert sig is None


@FUZZ
@given(data=json_values, url=urls, as_bytes=st.booleans(), ensure_ascii=st.booleans())
def test_tdmrep_json_any_json_value_never_raises(data, url, as_bytes, ensure_ascii):
    text = json.dumps(data, ensure_ascii=ensure_ascii)
    read_tdmrep(TdmrepFile.parse(TDMREP_URL, 200, text.encode() if as_bytes else text), url)
    read_tdmrep(TdmrepFile.from_data(TDMREP_URL, 200, data), url)
    if not isinstance(data, list):
        assert not TdmrepFile.from_data(TDMREP_URL, 200, data).in_use


tdm_rules = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"location": st.one_of(path_patterns, st.just("/"))},
            optional={
                "tdm-reservation": st.one_of(
                    st.sampled_from([0, 1, 1, 0, True, False, "1", "0", 2, -1, 1.0, None]),
                    json_values,
                ),
                "tdm-policy": st.one_of(st.just("https://example.com/policy.json"), json_values),
            },
        ),
        json_values,
    ),
    max_size=6,
)


def first_valid_rule(rules: list[Any], matches: Callable[[str], bool]) -> dict | None:
    """TDMRep: "the most specific match is the first in sequence" — the first rule (an object
    with a string location; others cannot match) whose location matches."""
    for rule in rules:
        if isinstance(rule, dict) and isinstance(rule.get("location"), str):
            if matches(rule["location"]):
                return rule
    return None


def tdm_verdict(value: object) -> str:
    # Type-strict: only the JSON integer 1 reserves, only 0 permits; true/"1"/1.0 are unset.
    if type(value) is int and value in (0, 1):
        return "reserved" if value == 1 else "not_reserved"
    return "unknown"


def assert_rule_in_force(parsed: TdmrepFile, url: str, rule: dict | None) -> None:
    sig = parsed.signal(url)
    if rule is None:
        assert sig is None, (url, sig)
        return
    stated = {"location": rule["location"], "tdm-reservation": rule.get("tdm-reservation")}
    if isinstance(rule.get("tdm-policy"), str) and rule["tdm-policy"]:
        stated["tdm-policy"] = rule["tdm-policy"]  # the licensing contact, recorded
    # Compared as canonical JSON text: a stated NaN (Python's json reads it) is not == itself.
    assert json.dumps(json.loads(sig.value), sort_keys=True) == json.dumps(stated, sort_keys=True)
    assert sig.verdict == tdm_verdict(rule.get("tdm-reservation"))
    assert sig.reason == (reasons.TDMREP_RESERVED if sig.verdict == "reserved" else None)


@FUZZ
@example(
    rules=[7, {"location": "/", "tdm-reservation": 1}, {"location": "/a", "tdm-reservation": 0}],
    url=f"{ORIGIN}/a",
    encoding="utf-8",
)
@example(
    rules=[{"location": "/", "tdm-reservation": float("nan")}], url=f"{ORIGIN}/", encoding="utf-8"
)
@given(rules=tdm_rules, url=urls, encoding=st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
def test_tdmrep_first_matching_rule_decides_and_only_integer_1_reserves(rules, url, encoding):
    """Whatever the rules hold, the one in force is the first whose location matches (as the
    location matcher reads it; `test_tdmrep_rules_with_known_matches_…` checks the matcher)."""
    body = json.dumps(rules).encode(encoding)
    parsed = TdmrepFile.parse(TDMREP_URL, 200, body)
    assert parsed.in_use, "a JSON array of rules means TDMRep is in use"
    read_tdmrep(parsed, url)
    path = url_path(url)
    rule = first_valid_rule(rules, lambda location: compile_pattern(location).matches(path))
    assert_rule_in_force(parsed, url, rule)


tdm_known_rules = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"location": safe_patterns},
            optional={"tdm-reservation": st.sampled_from([0, 1, True, False, "1", 1.0, 2, None])},
        ),
        # Entries that cannot match: skipped, never an end to the search.
        st.sampled_from([None, 1, "/", [], {"tdm-reservation": 1}, {"location": 1}]),
    ),
    max_size=6,
)


@FUZZ
@example(rules=[{"location": "/", "tdm-reservation": 1}, {"location": "/a", "tdm-reservation": 0}],
         path="/a")  # fmt: skip
@example(rules=[{"location": "/a$", "tdm-reservation": 0}, {"location": "/", "tdm-reservation": 1}],
         path="/ab")  # fmt: skip
@given(rules=tdm_known_rules, path=safe_paths)
def test_tdmrep_rules_with_known_matches_take_the_first_not_the_longest(rules, path):
    """SIGNALS.md §1.3: first in sequence, unlike robots.txt — `[{"/": 1}, {"/a": 0}]` reserves
    `/a`. Locations here are matched by `re`, independently of the code under test."""
    parsed = TdmrepFile.parse(TDMREP_URL, 200, json.dumps(rules))
    url = ORIGIN + path
    rule = first_valid_rule(rules, lambda location: pattern_matches(location, path))
    assert_rule_in_force(parsed, url, rule)
    assert assess(url, tdmrep_json=json.dumps(rules)).verdict == (
        "unknown" if rule is None else tdm_verdict(rule.get("tdm-reservation"))
    )


@FUZZ
@given(headers=headers_lists, meta=meta_lists, xmp=st.one_of(st.none(), xmp_packets()))
def test_tdm_reservation_header_meta_and_priority_never_raise(headers, meta, xmp):
    check_optional(tdmrep.header_signal(headers))
    check_signals(tdmrep.meta_signals(meta))
    documents = xmp_signals(xmp) if xmp is not None else []
    file_signal = TdmrepFile.parse(TDMREP_URL, 200, b'[{"location": "/", "tdm-reservation": 1}]')
    found = tdmrep.tdm_reservation_signals(
        headers,
        meta,
        file_signal=file_signal.signal(f"{ORIGIN}/x"),
        document_signals=[s for s in documents if s.kind.startswith("tdm-")],
    )
    check_signals(found)
    valid = [s for s in found if s.verdict in ("reserved", "not_reserved")]
    assert sum(s.in_force for s in valid) == (1 if valid else 0), "exactly one valid value in force"


# --- AIPREF Content-Usage, Content Signals, noai -------------------------------------------------


@FUZZ
@given(value=st.one_of(texts, header_values), headers=headers_lists, url=urls)
def test_content_usage_any_value_never_raises(value, headers, url):
    preferences, problems = content_usage.parse_preferences(value)
    assert isinstance(preferences, dict)
    assert all(isinstance(k, str) and v in ("y", "n") for k, v in preferences.items())
    assert isinstance(problems, tuple) and all(isinstance(p, str) for p in problems)
    check_optional(content_usage.header_signal(headers))
    check_optional(content_usage.header_signal([("Content-Usage", value)]))


@FUZZ
@given(
    values=st.lists(
        st.one_of(
            st.builds(lambda p, v: f"/{p.lstrip('/')} {v}", path_patterns, usage_prefs),
            usage_prefs,
            texts.map(cap_stars),
        ),
        max_size=5,
    ),
    url=urls,
)
def test_content_usage_robots_rules_any_value_never_raise(values, url):
    sig = content_usage.robots_signal(values, url, ROBOTS_URL)
    check_optional(sig)
    if not values:
        assert sig is None


@FUZZ
@given(
    value=st.one_of(texts, header_values),
    values=st.lists(header_values, max_size=4),
    headers=headers_lists,
)
def test_content_signal_any_value_never_raises(value, values, headers):
    stated, problems = content_signal.parse(value)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in stated.items())
    assert set(stated) <= content_signal.KNOWN_KEYS
    assert all(isinstance(p, str) for p in problems)
    check_optional(content_signal.robots_signal(values, ROBOTS_URL))
    check_optional(content_signal.header_signal(headers))


@FUZZ
@given(headers=headers_lists, meta=meta_lists, token=user_agents)
def test_noai_any_headers_and_meta_never_raise(headers, meta, token):
    found = noai_signals(headers, meta, token=token)
    check_signals(found)
    assert all(s.verdict == "reserved" for s in found)


OTHER_HEADERS = [("Content-Type", "text/html"), ("Content-Signal", "ai-train=no"), ("Link", "</a>")]
# RFC 9651 §3.2 keys: a lower-case letter or `*`, then lower-case letters, digits, `_-.*`.
sf_keys = st.one_of(
    st.sampled_from(["train-ai", "search", "bots", "tdm", "ai", "train-genai"]),
    st.from_regex(r"\A[a-z*][a-z0-9_.*-]{0,6}\Z"),
)


@st.composite
def content_usage_headers(draw) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Content-Usage header lines (among others) stating y/n members, and those members."""
    members = draw(
        st.lists(st.tuples(sf_keys, st.sampled_from(["y", "n"])), min_size=1, max_size=6)
    )
    cuts = (
        sorted(draw(st.sets(st.integers(1, len(members) - 1), max_size=2)))
        if len(members) > 1
        else []
    )
    headers: list[tuple[str, str]] = []
    for start, end in zip([0, *cuts], [*cuts, len(members)], strict=True):
        separator = draw(st.sampled_from([",", ", ", " ,  "]))
        value = separator.join(f"{key}={stated}" for key, stated in members[start:end])
        headers.append(
            (draw(st.sampled_from(["Content-Usage", "content-usage", "CONTENT-USAGE"])), value)
        )
        headers += draw(st.lists(st.sampled_from(OTHER_HEADERS), max_size=1))
    return headers, members


@FUZZ
@given(built=content_usage_headers())
def test_content_usage_header_of_known_members_states_them(built):
    """draft-ietf-aipref-attach-05: the lines combine into one Dictionary, a repeated key's last
    value wins (RFC 9651 §3.2); `train-ai=n` reserves, `train-ai=y` permits, no statement says
    nothing."""
    headers, members = built
    stated = dict(members)  # the last duplicate wins
    combined = ", ".join(value for name, value in headers if name.lower() == "content-usage")
    preferences, problems = content_usage.parse_preferences(combined)
    assert preferences == stated
    assert bool(problems) == bool(set(stated) & content_usage.LEGACY_LABELS)
    sig = content_usage.header_signal(headers)
    expected = {"n": ("reserved", reasons.CONTENT_USAGE_RESERVED), "y": ("not_reserved", None)}
    assert (sig.verdict, sig.reason) == expected.get(stated.get("train-ai"), ("unknown", None))


@FUZZ
@example(rules=[("/a", "y"), (None, "n"), ("/a*", "n")], path="/ab")  # equal length: `n` first
@given(
    rules=st.lists(
        st.tuples(st.one_of(st.none(), safe_patterns), st.sampled_from(["y", "n"])), max_size=5
    ),
    path=safe_paths,
)
def test_content_usage_robots_rules_with_known_paths_take_the_longest_match(rules, path):
    """attach-05 §5: the rule with the longest matching path applies (a rule without a path
    matches every path, with length 0); rules of equal length combine, `n` first."""
    values = [f"{p} train-ai={v}" if p else f"train-ai={v}" for p, v in rules]
    sig = content_usage.robots_signal(values, ORIGIN + path, ROBOTS_URL)
    matching = [(len(p or ""), v) for p, v in rules if p is None or pattern_matches(p, path)]
    if not matching:
        assert sig is None
        return
    longest = max(octets for octets, _ in matching)
    stated = "n" if ("n" in {v for octets, v in matching if octets == longest}) else "y"
    assert (sig.verdict, sig.reason) == (
        ("reserved", reasons.CONTENT_USAGE_RESERVED) if stated == "n" else ("not_reserved", None)
    )


content_signal_statements = st.lists(
    st.tuples(
        st.sampled_from(["search", "ai-input", "ai-train", "use", "ai-training", "AI-Train"]),
        st.sampled_from(["yes", "no"]),
    ),
    max_size=4,
)


@FUZZ
@given(statements=st.lists(content_signal_statements, min_size=1, max_size=3))
def test_content_signal_of_known_statements_reserves_when_any_says_ai_train_no(statements):
    """Keys are compared as written; within one statement the last value of a key counts; across
    statements the most restrictive wins. Unknown keys are recorded and ignored."""
    values = [
        ", ".join(f"{key}={setting}" for key, setting in statement) for statement in statements
    ]
    trains = []
    for value, statement in zip(values, statements, strict=True):
        known = {k: v for k, v in statement if k in content_signal.KNOWN_KEYS}
        stated, problems = content_signal.parse(value)
        assert stated == known
        assert len(problems) == sum(k not in content_signal.KNOWN_KEYS for k, _ in statement)
        if "ai-train" in known:
            trains.append(known["ai-train"])
    if "no" in trains:
        expected = ("reserved", reasons.CONTENT_SIGNAL_RESERVED)
    else:
        expected = ("not_reserved", None) if "yes" in trains else ("unknown", None)
    for sig in (
        content_signal.robots_signal(values, ROBOTS_URL),
        content_signal.header_signal([("Content-Signal", value) for value in values]),
    ):
        assert (sig.verdict, sig.reason) == expected


NOAI_RULES = ["noai", "noimageai", "NoAI", "noindex", "nofollow", "none", "max-snippet: 20"]
RESERVING_RULES = {"noai", "noimageai"}
X_ROBOTS_AGENTS = ["rightscrawl", "RightsCrawl", "googlebot", "GPTBot"]


@st.composite
def x_robots_tag_lines(draw) -> tuple[str, bool]:
    """An X-Robots-Tag value of unscoped rules then `agent: rules…` runs (a scope lasts to the
    next one), and whether it reserves for `rightscrawl`."""
    rules = st.lists(st.sampled_from(NOAI_RULES), min_size=1, max_size=3)
    parts, reserves = [], False
    unscoped = draw(st.lists(st.sampled_from(NOAI_RULES), max_size=3))
    parts += unscoped
    reserves |= any(rule.lower() in RESERVING_RULES for rule in unscoped)
    for agent, scoped in draw(
        st.lists(st.tuples(st.sampled_from(X_ROBOTS_AGENTS), rules), max_size=3)
    ):
        parts += [f"{agent}: {scoped[0]}", *scoped[1:]]
        if agent.lower() == "rightscrawl":
            reserves |= any(rule.lower() in RESERVING_RULES for rule in scoped)
    return ", ".join(parts), reserves


@FUZZ
@given(
    lines=st.lists(x_robots_tag_lines(), max_size=3),
    meta=st.lists(
        st.tuples(
            st.sampled_from(["robots", "rightscrawl", "googlebot", "gptbot"]),
            st.lists(
                st.sampled_from(["noai", "NOAI", "noimageai", "noindex", "nofollow"]), max_size=3
            ),
        ),
        max_size=3,
    ),
)
def test_noai_of_known_rules_reserves_for_us_only(lines, meta):
    """`noai`/`noimageai` reserve when they apply to us: unscoped or scoped `rightscrawl:` in
    X-Robots-Tag (another agent's scope does not), in `<meta name="robots">` or our own name."""
    headers = [("X-Robots-Tag", value) for value, _ in lines]
    meta_tags = tuple((name, ", ".join(rules)) for name, rules in meta)
    found = noai_signals([*headers, *OTHER_HEADERS], meta_tags, token="rightscrawl")
    check_signals(found)
    header_found = [s for s in found if s.kind == "x-robots-tag"]
    meta_found = [s for s in found if s.kind == "meta-robots"]
    assert [s.value for s in header_found] == [value for value, reserves in lines if reserves]
    assert len(meta_found) == sum(
        name in ("robots", "rightscrawl") and bool({r.lower() for r in rules} & RESERVING_RULES)
        for name, rules in meta
    )
    assert {s.reason for s in header_found} <= {reasons.NOAI_HEADER}
    assert {s.reason for s in meta_found} <= {reasons.NOAI_META}


@FUZZ
@given(
    header=st.lists(st.sampled_from(TDM_VALUES), max_size=3),
    meta=st.lists(st.sampled_from(TDM_VALUES), max_size=3),
    packet=st.one_of(st.none(), xmp_packet_parts(tdm=st.sampled_from(TDM_VALUES))),
)
def test_tdm_reservation_of_known_values_the_last_valid_one_is_in_force(header, meta, packet):
    """TDMRep processing priority: tdmrep.json < header < meta < document metadata, the last
    valid value (trimmed "1" or "0") in force; repeated header lines that disagree are unset."""
    headers = [("tdm-reservation", value) for value in header]
    meta_tags = tuple(("tdm-reservation", value.strip()) for value in meta)
    documents = [s for s in xmp_signals(packet[0]) if s.kind.startswith("tdm-")] if packet else []
    file_rule = TdmrepFile.parse(TDMREP_URL, 200, b'[{"location": "/", "tdm-reservation": 1}]')
    found = tdmrep.tdm_reservation_signals(
        headers, meta_tags, file_signal=file_rule.signal(f"{ORIGIN}/x"), document_signals=documents
    )
    check_signals(found)
    # What each source says, in processing order.
    trimmed = {v.strip() for v in ",".join(header).split(",")} if header else set()
    header_reading = None
    if header:
        header_reading = TDM_READING.get(trimmed.pop()) if len(trimmed) == 1 else "unknown"
        header_reading = header_reading or "unknown"
    readings = ["reserved", *filter(None, [header_reading])]
    readings += [TDM_READING[v] for v in meta] + [
        TDM_READING[v] for v in (packet[1] if packet else [])
    ]
    assert [s.verdict for s in found] == readings
    valid = [i for i, verdict in enumerate(readings) if verdict != "unknown"]
    reserving = [i for i in valid[-1:] if readings[i] == "reserved"]
    assert [i for i, s in enumerate(found) if s.reason] == reserving
    assert [s.in_force for s in found] == [i not in valid[:-1] for i in range(len(readings))]


# --- HTML: meta, licence, JSON-LD --------------------------------------------------------------


def read_html(document: str | bytes, token: str = "rightscrawl") -> None:
    meta = extract_meta(document)
    assert isinstance(meta, tuple)
    assert all(isinstance(n, str) and isinstance(c, str) for n, c in meta)
    root = parse_html(document)
    assert meta_from_tree(root) == meta
    rights = rights_from_tree(root)
    assert isinstance(rights, HtmlRights)
    assert all(isinstance(u, str) for u in (*rights.licences, *rights.rsl_documents))
    check_signals(rights.signals())
    check_signals(tdmrep.meta_signals(meta))
    check_signals(noai_signals((), meta, token=token))


@FUZZ
@given(document=st.one_of(texts, blobs, st.text(max_size=400).map(lambda t: "<html>" + t)))
def test_html_any_text_or_bytes_never_raises(document):
    read_html(document)


@FUZZ
@given(document=html_documents(), as_bytes=st.booleans(), token=user_agents)
def test_html_meta_and_json_ld_with_random_values_never_raise(document, as_bytes, token):
    read_html(document.encode() if as_bytes else document, token)


@FUZZ
@given(
    metas=st.lists(
        st.tuples(
            st.sampled_from([*META_NAMES, "Robots", " robots ", "ROBOTS"]),
            st.sampled_from([*HEADER_VALUES, " 1 ", "NOAI"]),
        ),
        max_size=5,
    ),
    as_bytes=st.booleans(),
)
def test_html_meta_tags_of_known_values_are_read_as_written(metas, as_bytes):
    """Every `<meta name content>` is found, name lower-cased and trimmed (WHATWG compares names
    ASCII-case-insensitively), content trimmed; then TDMRep meta (`1` reserves) and noai."""
    tags = "".join(
        f'<meta name="{html_lib.escape(name)}" content="{html_lib.escape(content)}">'
        for name, content in metas
    )
    document = f"<!doctype html><html><head>{tags}</head><body><p>text</p></body></html>"
    meta = extract_meta(document.encode() if as_bytes else document)
    assert meta == tuple((name.strip().lower(), content.strip()) for name, content in metas)
    tdm = tdmrep.meta_signals(meta)
    assert [s.verdict for s in tdm] == [
        {"1": "reserved", "0": "not_reserved"}.get(content.strip(), "unknown")
        for name, content in metas
        if name.strip().lower() == "tdm-reservation"
    ]
    noai = noai_signals((), meta, token="rightscrawl")
    assert len(noai) == sum(
        name.strip().lower() in ("robots", "rightscrawl")
        and bool({r.strip().lower() for r in content.split(",")} & RESERVING_RULES)
        for name, content in metas
    )


# --- embedded metadata: XMP, EPUB ----------------------------------------------------------------


@FUZZ
@given(
    xmp=st.one_of(
        texts,
        blobs,
        st.dictionaries(
            st.one_of(
                st.sampled_from(["tdm:reservation", "plus:DataMining", "TDM:Reservation"]),
                st.text(max_size=10),
            ),
            st.one_of(tdm_values, dmi_values, json_scalars),
            max_size=4,
        ),
    )
)
def test_xmp_any_text_bytes_or_mapping_never_raises(xmp):
    check_signals(xmp_signals(xmp))


@FUZZ
@given(packet=xmp_packets(), as_bytes=st.booleans(), prefix=blobs, suffix=blobs)
def test_xmp_packets_with_random_values_are_found_and_read(packet, as_bytes, prefix, suffix):
    found = xmp_signals(packet.encode() if as_bytes else packet)
    check_signals(found)
    assert all(s.kind != "xmp" for s in found), "a well-formed packet is not a problem"
    if b"<x:xmpmeta" not in prefix:
        assert find_xmp_packet(prefix + packet.encode() + suffix) == packet.encode()


@FUZZ
@given(
    parts=xmp_packet_parts(tdm=st.sampled_from(TDM_VALUES), dmi=st.sampled_from(DMI_VALUES)),
    as_bytes=st.booleans(),
)
def test_xmp_packets_of_known_values_say_what_the_values_say(parts, as_bytes):
    packet, tdm_written, dmi_written = parts
    found = xmp_signals(packet.encode() if as_bytes else packet)
    tdm = [s for s in found if s.kind == "tdm-reservation-xmp"]
    iptc = [s for s in found if s.kind == "iptc-data-mining"]
    assert len(tdm) + len(iptc) == len(found)
    assert sorted(s.verdict for s in tdm) == sorted(TDM_READING[v] for v in tdm_written)
    assert sorted(s.verdict for s in iptc) == sorted(DMI_READING[v] for v in dmi_written)
    codes = {
        "tdm-reservation-xmp": reasons.TDMREP_RESERVED,
        "iptc-data-mining": reasons.IPTC_RESERVED,
    }
    assert [s.reason for s in found] == [
        codes[s.kind] if s.verdict == "reserved" else None for s in found
    ]


@FUZZ
@given(opf=st.one_of(texts, blobs, opf_documents(), opf_documents().map(str.encode)))
def test_epub_opf_any_text_or_bytes_never_raises(opf):
    check_signals(epub_signals(opf))


@FUZZ
@given(parts=opf_document_parts(tdm=st.sampled_from(TDM_VALUES)), as_bytes=st.booleans())
def test_epub_opf_of_known_values_says_what_the_values_say(parts, as_bytes):
    """EPUB 2 `<meta name content>` and EPUB 3 `<meta property>` alike, in document order."""
    document, written = parts
    found = epub_signals(document.encode() if as_bytes else document)
    assert [s.verdict for s in found] == [TDM_READING[v] for v in written]
    assert [s.reason for s in found] == [
        reasons.TDMREP_RESERVED if TDM_READING[v] == "reserved" else None for v in written
    ]


@FUZZ
@given(data=blobs)
def test_find_xmp_packet_any_bytes_never_raises(data):
    found = find_xmp_packet(data)
    assert found is None or (found.startswith(b"<x:xmpmeta") and found.endswith(b"</x:xmpmeta>"))


@FUZZ
@given(data=st.one_of(blobs, st.binary(max_size=4000).map(lambda b: b"PK\x03\x04" + b)))
def test_epub_package_any_bytes_returns_bytes_or_none(data):
    found = epub_package(data)
    assert found is None or isinstance(found, bytes)


@settings(FUZZ, report_multiple_bugs=False)  # shrinking several distinct zip errors is slow
@example(data=CORRUPT_EPUBS["deflate-stream-corrupt"]())
@given(data=zip_archives())
def test_epub_package_random_or_corrupt_zip_returns_bytes_or_none(data):
    found = epub_package(data)
    assert found is None or isinstance(found, bytes)


@FUZZ
@given(
    content_type=st.one_of(
        st.sampled_from(
            [
                "application/pdf",
                "image/jpeg",
                "application/epub+zip",
                "APPLICATION/EPUB+ZIP; charset=binary",
                "text/html",
                "",
                ";",
            ]
        ),
        st.text(max_size=20),
    ),
    body=st.one_of(blobs, xmp_packets().map(str.encode)),
)
def test_document_metadata_any_type_and_body_never_raises(content_type, body):
    found = document_metadata(content_type, body)
    assert all(isinstance(packet, bytes) for packet in found.xmp)
    assert found.opf is None or isinstance(found.opf, bytes)
    assert found.unread is None or isinstance(found.unread, str)


# --- RSL, ai.txt, C2PA, path patterns ----------------------------------------------------------


@FUZZ
@given(xml=st.one_of(texts, blobs), url=urls)
def test_rsl_any_text_or_bytes_never_raises(xml, url):
    check_signal(rsl_signal(url, xml))


@FUZZ
@example(xml='<rsl><content url="http://[::1"/></rsl>', url="https://example.com/")
@given(xml=rsl_documents(), url=urls)
def test_rsl_documents_with_random_content_urls_and_terms_never_raise(xml, url):
    sig = rsl_signal(url, xml)
    check_signal(sig)
    assert not sig.value or sig.value.startswith("content ")


@FUZZ
@given(
    text=st.one_of(st.none(), text_or_bytes, robots_files(), robots_files().map(bytes.decode)),
    status=optional_statuses,
    url=urls,
    agent=user_agents,
)
def test_ai_txt_any_text_any_status_never_raises(text, status, url, agent):
    sig = ai_txt_signal(url, text, status, user_agent=agent, source=f"{ORIGIN}/ai.txt")
    check_optional(sig)
    if sig is not None:
        assert sig.verdict in ("reserved", "not_reserved")


@st.composite
def ai_txt_files(draw) -> tuple[str, list[tuple[bool, str]]]:
    """An ai.txt of a `*` group and perhaps one for us, and the rules that apply to us."""
    rules = st.lists(st.tuples(st.booleans(), safe_patterns), min_size=1, max_size=4)
    groups = [("*", draw(rules))]
    if draw(st.booleans()):
        groups.insert(draw(st.integers(0, 1)), ("RightsCrawl", draw(rules)))
    lines = []
    for agent, group_rules in groups:
        lines.append(f"User-agent: {agent}")
        lines += [
            f"{'Allow' if allow else 'Disallow'}: {pattern}" for allow, pattern in group_rules
        ]
    return "\n".join(lines), dict(groups).get("RightsCrawl", dict(groups)["*"])


@FUZZ
@given(built=ai_txt_files(), path=safe_paths, as_bytes=st.booleans())
def test_ai_txt_of_known_rules_takes_the_longest_match(built, path, as_bytes):
    """Read as robots.txt (SIGNALS.md §6): our group else `*`, the longest matching rule, an
    Allow winning a tie; a matching Disallow reserves, a matching Allow permits, none says
    nothing."""
    text, ours = built
    sig = ai_txt_signal(
        ORIGIN + path, text.encode() if as_bytes else text, 200,
        user_agent="rightscrawl/0.1", source=f"{ORIGIN}/ai.txt",
    )  # fmt: skip
    matching = [(len(p), allow) for allow, p in ours if pattern_matches(p, path)]
    if not matching:
        assert sig is None
        return
    longest = max(octets for octets, _ in matching)
    allowed = any(allow for octets, allow in matching if octets == longest)
    assert (sig.verdict, sig.reason) == (
        ("not_reserved", None) if allowed else ("reserved", reasons.AI_TXT_RESERVED)
    )


@FUZZ
@example(assertions=[{"label": ["c2pa.training-mining"]}])
@given(assertions=st.one_of(st.none(), c2pa_assertion_lists))
def test_c2pa_any_assertions_never_raise(assertions):
    check_optional(c2pa_signal(assertions))


C2PA_DECIDING = [f"{p}.{n}" for p in ("c2pa", "cawg") for n in sorted(c2pa.DECIDING)]


@FUZZ
@given(
    assertions=st.lists(
        st.tuples(
            st.sampled_from([*sorted(c2pa.LABELS), "c2pa.actions"]),
            st.dictionaries(
                st.sampled_from([*C2PA_DECIDING, "c2pa.ai_inference", "com.example.custom"]),
                st.sampled_from(["allowed", "notAllowed", "constrained"]),
                max_size=3,
            ),
        ),
        max_size=3,
        # Each entry stated once: for an entry stated twice the later statement wins today, so
        # an `allowed` after a `notAllowed` drops the reservation (a product question, open).
    ).filter(lambda found: len(keys := [k for _, e in found for k in e]) == len(set(keys)))
)
def test_c2pa_of_known_entries_reserves_when_one_is_not_allowed_or_constrained(assertions):
    """CAWG 1.1: a training or mining entry `notAllowed` or `constrained` reserves; `allowed`
    permits; inference and custom entries, and other assertions, are only recorded."""
    sig = c2pa.c2pa_signal(
        [{"label": label, "data": {"entries": {k: {"use": u} for k, u in entries.items()}}}
         for label, entries in assertions]
    )  # fmt: skip
    check_optional(sig)
    counted = [
        use for label, entries in assertions if label in c2pa.LABELS
        for key, use in entries.items()
        if key in C2PA_DECIDING
    ]  # fmt: skip
    recorded = [
        key for label, entries in assertions if label in c2pa.LABELS
        for key in entries
        if key not in C2PA_DECIDING
    ]  # fmt: skip
    if not counted and not recorded:
        assert sig is None
    elif {"notAllowed", "constrained"} & set(counted):
        assert (sig.verdict, sig.reason) == ("reserved", reasons.C2PA_RESERVED)
    else:
        assert (sig.verdict, sig.reason) == ("not_reserved" if counted else "unknown", None)


@FUZZ
@given(pattern=st.one_of(path_patterns, st.text(max_size=40).map(cap_stars)), url=urls)
def test_path_patterns_any_text_never_raise(pattern, url):
    compiled = compile_pattern(pattern)
    assert isinstance(compiled, PathPattern)
    assert isinstance(compiled.octets, int) and compiled.octets >= 0
    path = url_path(url)
    assert path.startswith("/") and path.isascii()
    assert isinstance(compiled.matches(path), bool)
    assert normalize(pattern).isascii()


# --- assess() ----------------------------------------------------------------------------------


@FUZZ
@example(
    url="https://example.com/",
    user_agent="rightscrawl",
    headers=[],
    html=None,
    robots_txt=None,
    robots_status=None,
    tdmrep_json=None,
    tdmrep_status=None,
    ai_txt=None,
    ai_txt_status=None,
    rsl_xml='<rsl><content url="http://[::1"/></rsl>',
    rsl_status=None,
    xmp=None,
    epub_opf=None,
    c2pa_assertions=[{"label": {}}],
)
@given(
    url=urls,
    user_agent=user_agents,
    headers=headers_lists,
    html=st.one_of(st.none(), text_or_bytes, html_documents()),
    robots_txt=st.one_of(st.none(), text_or_bytes, robots_files()),
    robots_status=optional_statuses,
    tdmrep_json=st.one_of(st.none(), text_or_bytes, json_texts(), tdm_rules.map(json.dumps)),
    tdmrep_status=optional_statuses,
    ai_txt=st.one_of(st.none(), text_or_bytes, robots_files()),
    ai_txt_status=optional_statuses,
    rsl_xml=st.one_of(st.none(), text_or_bytes, rsl_documents()),
    rsl_status=optional_statuses,
    xmp=st.one_of(
        st.none(),
        text_or_bytes,
        xmp_packets(),
        st.dictionaries(st.sampled_from(["tdm:reservation", "plus:DataMining"]), tdm_values),
    ),
    epub_opf=st.one_of(st.none(), text_or_bytes, opf_documents()),
    c2pa_assertions=st.one_of(st.none(), c2pa_assertion_lists),
)
def test_assess_any_value_for_every_keyword_never_raises(url, **inputs):
    check_assessment(assess(url, **inputs), url)


@FUZZ_FEW
@given(url=urls, user_agent=user_agents, status=statuses, body=st.one_of(st.none(), text_or_bytes))
def test_assess_statuses_without_bodies_never_raise(url, user_agent, status, body):
    for keyword in ("robots", "tdmrep", "ai_txt", "rsl"):
        body_keyword = {"robots": "robots_txt", "tdmrep": "tdmrep_json", "rsl": "rsl_xml"}.get(
            keyword, keyword
        )
        result = assess(
            url, user_agent=user_agent, **{f"{keyword}_status": status, body_keyword: body}
        )
        check_assessment(result, url)


# --- pinned hostile inputs: depth, size, bombs, encodings ----------------------------------------

DEEP_JSON = "[" * 10_000 + "]" * 10_000


def assert_says_nothing(sig: Signal | None) -> None:
    """TDMRep not in use: no signal, or an "unknown" one that records the problem."""
    check_optional(sig)
    assert sig is None or (sig.verdict == "unknown" and sig.reason is None and sig.problems)


@pytest.mark.parametrize(
    "body", [DEEP_JSON, DEEP_JSON.encode(), '{"a":' * 10_000 + "1" + "}" * 10_000]
)
def test_tdmrep_json_nested_10000_deep_is_not_read_whole_and_fails_closed(body):
    """Deeper than json.loads goes, the file may still be valid and reserve: policy-error."""
    parsed = TdmrepFile.parse(TDMREP_URL, 200, body)
    check_tdmrep_file(parsed)
    assert parsed.unread and "nested deeper" in parsed.unread
    signal = parsed.signal(f"{ORIGIN}/a")
    check_optional(signal)
    assert signal.reason == reasons.POLICY_ERROR and signal.verdict == "unknown"
    assessment = assess(f"{ORIGIN}/a", tdmrep_json=body)
    check_assessment(assessment, f"{ORIGIN}/a")
    assert reasons.POLICY_ERROR in assessment.reasons


def test_json_ld_nested_10000_deep_is_a_problem_not_an_exception():
    document = f'<html><script type="application/ld+json">{DEEP_JSON}</script></html>'
    found = rights_from_tree(parse_html(document)).signals()
    check_signals(found)
    assert any(s.problems for s in found)


@pytest.mark.parametrize("depth", [500, 900, 990, 1200])
def test_json_ld_nested_as_deep_as_json_allows_is_read_or_a_problem(depth):
    """Up to where json.loads goes the licence at the bottom is found; deeper, the block is
    recorded as not read (and one with isAccessibleForFree fails closed: see above)."""
    nested = '{"@graph":' * depth + '{"license": "x"}' + "}" * depth
    for block, licences in (("[" * depth + "]" * depth, ()), (nested, ("x",))):
        rights = rights_from_tree(
            parse_html(f'<script type="application/ld+json">{block}</script>')
        )
        found = rights.signals()
        check_signals(found)
        assert not any(s.reason for s in found)
        read = rights.licences == licences and not any(s.problems for s in found)
        not_read = rights.licences == () and any(
            "nested too deep" in p for s in found for p in s.problems
        )
        # Python's recursion limit counts the caller's frames too: near 1,000 either can happen.
        assert read if depth <= 900 else not_read if depth > 1000 else (read or not_read)


DEEP = 100_000
DEEPLY_NESTED_RESERVATIONS: dict[str, tuple[str, Callable[[str], list[Signal]], str]] = {
    "xmp": (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" xmlns:tdm="http://www.w3.org/ns/tdmrep/">'
        "{}<tdm:reservation>1</tdm:reservation>{}</x:xmpmeta>",
        lambda doc: xmp_signals(doc),
        reasons.TDMREP_RESERVED,
    ),
    "epub": (
        '<package xmlns="http://www.idpf.org/2007/opf">{}'
        '<meta property="tdm:reservation">1</meta>{}</package>',
        lambda doc: epub_signals(doc),
        reasons.TDMREP_RESERVED,
    ),
    "rsl": (
        '<rsl xmlns="https://rslstandard.org/rsl">{}<content url="/"><license>'
        '<prohibits type="usage">train-ai</prohibits></license></content>{}</rsl>',
        lambda doc: [rsl_signal(f"{ORIGIN}/", doc)],
        reasons.RSL_RESERVED,
    ),
}


@pytest.mark.parametrize("parser", sorted(DEEPLY_NESTED_RESERVATIONS))
def test_xml_nested_100000_deep_is_read_to_the_reservation_at_the_bottom(parser):
    """expat has no depth limit: a reservation 100,000 elements down is still found."""
    template, read, reason = DEEPLY_NESTED_RESERVATIONS[parser]
    found = read(template.format("<a>" * DEEP, "</a>" * DEEP))
    check_signals(found)
    assert [(s.verdict, s.reason) for s in found] == [("reserved", reason)]
    nothing = read(template.format("<a>" * DEEP, "</a>" * DEEP).replace(">1<", ">0<")
                   .replace("prohibits", "permits"))  # fmt: skip
    assert [s.verdict for s in nothing] == ["not_reserved"]


def test_tdmrep_json_of_1_5_mb_is_read_whole_and_reserves():
    """The spec has no size limit; a real-looking 1.5 MB file is read, its rule applies."""
    rule = {"location": "/section/*/article-$", "tdm-reservation": 1, "tdm-policy": "https://x/p"}
    body = json.dumps([rule] * 17_000).encode()
    assert 1_400_000 < len(body) < 1_700_000 < TDMREP_MAX_BYTES
    for given_body in (body, body.decode()):
        parsed = TdmrepFile.parse(TDMREP_URL, 200, given_body)
        check_tdmrep_file(parsed)
        assert parsed.in_use and parsed.unread is None
        signal = parsed.signal(f"{ORIGIN}/section/a/article-")
        assert signal is not None and signal.reason == reasons.TDMREP_RESERVED


@pytest.mark.parametrize("status", [200, "too-large"])
def test_tdmrep_json_past_the_limit_fails_closed_for_every_url(status):
    """Past MAX_BYTES (or past the download cap: status "too-large") the file is not read, and
    every URL of the origin gets policy-error — never "TDMRep not in use"."""
    body = b"[" + b'{"location": "/x", "tdm-reservation": 0},' * (TDMREP_MAX_BYTES // 40) + b"{}]"
    parsed = TdmrepFile.parse(TDMREP_URL, status, body if status == 200 else None)
    assert parsed.unread
    for path in ("/", "/x", "/anything"):
        signal = parsed.signal(f"{ORIGIN}{path}")
        assert signal is not None and signal.reason == reasons.POLICY_ERROR
        assert any("not read whole" in p for p in signal.problems)


@needs_alarm
def test_robots_txt_of_2_mb_is_cut_at_the_parse_limit_quickly():
    lines = ["User-agent: *", "Disallow: /early/"]
    lines += [f"Disallow: /section-{i}/*/page-*.html$" for i in range(20_000)]  # ~700 kB
    lines.append("Disallow: /late/")
    lines += [f"Allow: /filler-{i}/*?utm_*=%2A" for i in range(20_000, 60_000)]
    body = "\n".join(lines).encode()
    assert PARSE_LIMIT < body.index(b"/late/") and 2_000_000 < len(body) < 2_400_000
    with time_limit(10):
        robots = RobotsTxt.from_fetch(ROBOTS_URL, 200, body)
        assert any("longer than" in p for p in robots.problems)
        assert not robots.allows(f"{ORIGIN}/early/x", "rightscrawl")
        assert robots.allows(f"{ORIGIN}/late/x", "rightscrawl"), "rules after 500 KiB are cut"
        assert not robots.allows(f"{ORIGIN}/section-7/a/page-1.html", "rightscrawl")
        for agent in ("rightscrawl", "GPTBot"):
            check_assessment(
                assess(f"{ORIGIN}/early/x", robots_txt=body, user_agent=agent), f"{ORIGIN}/early/x"
            )


def billion_laughs(root: str, levels: int = 9) -> str:
    """Expands to 3 × 10^levels bytes (3 GB at 9): a parser that expands entities blows up."""
    entities = ['<!ENTITY l0 "lollollollollollollollollol">']
    entities += [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, levels)]
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE {root} [\n'
        + "\n".join(entities)
        + f"\n]>\n<{root}>&l{levels - 1};</{root}>"
    )


def quadratic_blowup(root: str) -> str:
    """One 50 kB entity referenced 2,000 times: 100 MB from a 56 kB document."""
    return (
        f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY a "{"A" * 50_000}">]>'
        f"<{root}>{'&a;' * 2_000}</{root}>"
    )


def external_entity(root: str) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f"<{root}>&x;</{root}>"
    )


XML_PARSERS: dict[str, tuple[str, Callable[[str | bytes], list[Signal]]]] = {
    "xmp": ("xmpmeta", lambda doc: xmp_signals(doc)),
    "epub-opf": ("package", lambda doc: epub_signals(doc)),
    "rsl": ("rsl", lambda doc: [rsl_signal(f"{ORIGIN}/", doc)]),
}


@needs_alarm
@pytest.mark.parametrize("bomb", [billion_laughs, quadratic_blowup, external_entity])
@pytest.mark.parametrize("parser", sorted(XML_PARSERS))
@pytest.mark.parametrize("as_bytes", [False, True])
def test_xml_entity_bombs_are_refused_quickly_as_a_problem_or_unknown(bomb, parser, as_bytes):
    root, read = XML_PARSERS[parser]
    document = bomb(root)
    started = time.perf_counter()
    with time_limit(3):
        found = read(document.encode() if as_bytes else document)
    assert time.perf_counter() - started < 1
    check_signals(found)
    assert all(s.verdict == "unknown" for s in found)
    assert all("root:" not in s.value for s in found), "an external entity was resolved"


@pytest.mark.parametrize(
    "body",
    [
        b"User-agent: *\nDisallow: /priv\xff\xfeate/\nDisallow: /secret/\n",
        b"User-agent: *\x00\nDisallow: /secret/\x00\n\x00\x00",
        b"\xff\xfeU\x00s\x00e\x00r\x00-\x00a\x00g\x00e\x00n\x00t\x00:\x00 \x00*\x00",  # UTF-16
        b"\x00" * 1000,
        b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc",
    ],
)
def test_invalid_utf8_and_nul_bytes_are_a_problem_and_parseable_lines_still_apply(body):
    robots = RobotsTxt.from_fetch(ROBOTS_URL, 200, body)
    read_robots(robots, f"{ORIGIN}/secret/x", "rightscrawl")
    if b"\xff" in body or b"\xc3\x28" in body:
        assert any("UTF-8" in p for p in robots.problems)
    if body.startswith(b"User-agent: *\n"):
        assert not robots.allows(f"{ORIGIN}/secret/x", "rightscrawl")
    for url in (f"{ORIGIN}/secret/x", f"{ORIGIN}/"):
        check_assessment(
            assess(
                url,
                robots_txt=body,
                tdmrep_json=body,
                ai_txt=body,
                rsl_xml=body,
                xmp=body,
                epub_opf=body,
                html=body,
                headers=[("Content-Usage", body.decode("latin-1"))],
            ),
            url,
        )
    assert not TdmrepFile.parse(TDMREP_URL, 200, body).in_use
    check_signals(xmp_signals(body))
    check_signal(rsl_signal(f"{ORIGIN}/", body))
    read_html(body)


def test_epub_package_reads_the_opf_of_a_valid_epub():
    assert epub_package(good_epub()) == EPUB_OPF
    assert [s.verdict for s in epub_signals(epub_package(good_epub()))] == ["reserved"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"PK",
        b"PK\x03\x04" + b"\x00" * 100,
        b"PK\x05\x06" + b"\x00" * 18,
        good_epub()[:200],
        good_epub()[:-10],
        make_zip({"mimetype": b"application/epub+zip"}),
        make_zip({"META-INF/container.xml": b"<container>"}),
        make_zip({"META-INF/container.xml": b"not xml \x00\xff"}),
        make_zip({"META-INF/container.xml": b"<container/>"}),
        make_zip({"META-INF/container.xml": b'<c><rootfile full-path=""/></c>'}),
        make_zip({"META-INF/container.xml": EPUB_CONTAINER}),  # OPF missing
        make_zip({"META-INF/container.xml": billion_laughs("container").encode()}),
        b"%PDF-1.7\n" + b"\x00" * 500,
    ],
    ids=lambda d: f"{len(d)}-bytes",
)
def test_epub_package_of_garbage_returns_none(data):
    assert epub_package(data) is None
    found = document_metadata("application/epub+zip", data)
    assert found.opf is None and found.unread  # an EPUB whose metadata is unknown: fail closed


@pytest.mark.parametrize("kind", sorted(CORRUPT_EPUBS))
def test_epub_package_with_a_corrupt_or_unreadable_member_returns_none(kind):
    data = CORRUPT_EPUBS[kind]()
    assert epub_package(data) is None
    found = document_metadata("application/epub+zip", data)
    assert found.opf is None and found.unread


def zip_bomb(member: str, size: int, others: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in others.items():
            archive.writestr(name, data)
        with archive.open(member, "w", force_zip64=True) as stream:
            chunk = b" " * (1 << 20)
            for _ in range(size >> 20):
                stream.write(chunk)
    return buffer.getvalue()


BOMB_SIZE = 64 * 1024 * 1024  # ~64 kB compressed


@needs_alarm
@pytest.mark.parametrize(
    "member, others",
    [
        ("META-INF/container.xml", {}),
        ("OEBPS/content.opf", {"META-INF/container.xml": EPUB_CONTAINER}),
    ],
    ids=["container.xml", "content.opf"],
)
def test_epub_package_zip_bomb_is_not_inflated(member, others):
    data = zip_bomb(member, BOMB_SIZE, others)
    assert len(data) < 200_000
    tracemalloc.start()
    try:
        with time_limit(5):
            found = epub_package(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found is None
    # A member larger than the OPF limit should be refused from its declared size, not inflated.
    assert peak < 8 * MAX_OPF_BYTES, f"inflated {peak / 1e6:.0f} MB from a {len(data)}-byte zip"


# --- super-linear matching ---------------------------------------------------------------------

MANY_STARS = "/" + "*a" * 12 + "*b"  # matches nothing below: a backtracking matcher tries them all
LONG_URL = f"{ORIGIN}/" + "a" * 100

PATTERN_ENTRY_POINTS: dict[str, Callable[[], Any]] = {
    "tdmrep.json location": lambda: TdmrepFile.parse(
        TDMREP_URL, 200, json.dumps([{"location": MANY_STARS, "tdm-reservation": 1}])
    ).signal(LONG_URL),
    "robots.txt Content-Usage path": lambda: assess(
        LONG_URL, robots_txt=f"User-agent: *\nContent-Usage: {MANY_STARS} train-ai=n\n"
    ),
    "ai.txt Disallow": lambda: ai_txt_signal(
        LONG_URL,
        f"User-agent: *\nDisallow: {MANY_STARS}\n",
        200,
        user_agent="rightscrawl",
        source=f"{ORIGIN}/ai.txt",
    ),
    "RSL content url": lambda: rsl_signal(LONG_URL, f'<rsl><content url="{MANY_STARS}"/></rsl>'),
    "robots.txt Disallow (Protego)": lambda: RobotsTxt.from_fetch(
        ROBOTS_URL, 200, f"User-agent: *\nDisallow: {MANY_STARS}\n".encode()
    ).allows(LONG_URL, "rightscrawl"),
}


@needs_alarm
@pytest.mark.parametrize("entry_point", list(PATTERN_ENTRY_POINTS))
def test_path_patterns_match_in_linear_time(entry_point):
    """A site writes the patterns and the URLs: `/*a*a…*b` against `/aaa…` must not backtrack."""
    with time_limit(1):
        PATTERN_ENTRY_POINTS[entry_point]()


@needs_alarm
def test_find_xmp_packet_runs_in_linear_time_on_unclosed_packets():
    """A 176 kB PDF full of `<x:xmpmeta` with no closing tag (each start rescans to the end)."""
    data = b"%PDF-1.7\n" + b"<x:xmpmeta " * 16_000
    with time_limit(1):
        assert find_xmp_packet(data) is None
        (packet,) = document_metadata("application/pdf", data).xmp  # unclosed: to the end
        found = xmp_signals(packet)
    check_signals(found)
    assert not any(s.reason for s in found)


# --- pinned inputs that are reachable from bytes on the wire -------------------------------------


def test_tdmrep_location_with_a_lone_surrogate_escape_is_a_problem_not_an_exception():
    """JSON `"\\ud800"` decodes to a lone surrogate, which cannot be percent-encoded as UTF-8."""
    body = (
        b'[{"location": "/\\ud800", "tdm-reservation": 1}, {"location": "/", "tdm-reservation": 1}]'
    )
    parsed = TdmrepFile.parse(TDMREP_URL, 200, body)
    check_tdmrep_file(parsed)
    check_optional(parsed.signal(f"{ORIGIN}/a"))
    check_assessment(assess(f"{ORIGIN}/a", tdmrep_json=body), f"{ORIGIN}/a")


@pytest.mark.parametrize("content_url", ["http://[::1", "http://[x]/", "https://exa]mple.com/"])
def test_rsl_content_url_that_is_not_a_valid_url_is_a_problem_not_an_exception(content_url):
    xml = f'<rsl xmlns="https://rslstandard.org/rsl"><content url="{content_url}"/></rsl>'
    check_signal(rsl_signal(f"{ORIGIN}/a", xml))
    check_assessment(assess(f"{ORIGIN}/a", rsl_xml=xml), f"{ORIGIN}/a")


@pytest.mark.parametrize("label", [["c2pa.training-mining"], {"x": 1}])
def test_c2pa_assertion_with_an_unhashable_label_is_ignored_not_an_exception(label):
    check_optional(c2pa_signal([{"label": label, "data": {}}]))
    check_assessment(assess(f"{ORIGIN}/a", c2pa_assertions=[{"label": label}]), f"{ORIGIN}/a")
