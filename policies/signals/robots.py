"""robots.txt for our own product token, read exactly as RFC 9309 says.

Grouping and matching are ours (on top of `path_pattern`), because Protego's differ from the RFC
in ways that lose reservations: it ends a group at any record other than a user-agent line
(RFC 9309 §2.2.4: other records MUST NOT interfere), reads `Allow: /x/index.html` as allowing
`/x/` and a final `$` as also a literal `$`. Where the RFC leaves room we follow Google's parser
(google/robotstxt): a missing colon and a few frequent typos of the field names are accepted,
and `User-agent: * …` is the `*` group. tests/conformance/ holds the peer suites this passes.

This module also decides what a fetch result means (RFC 9309 §2.3.1): 2xx → parse the first
500 KiB; 4xx → "unavailable", anything may be crawled; 5xx, 429, network error or too many
redirects → "unreachable", complete disallow.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from policies import reasons
from policies.evidence import Signal
from policies.signals.path_pattern import PathPattern, compile_pattern, url_path

PARSE_LIMIT = 500 * 1024  # RFC 9309 §2.5: parsers MUST handle at least 500 KiB
MAX_REDIRECTS = 5  # RFC 9309 §2.3.1.2: follow at least five redirects
CACHE_SECONDS = 24 * 3600  # RFC 9309 §2.4: SHOULD NOT use a cached copy for more than 24 hours
NETWORK_ERROR = "network-error"

Access = Literal["parsed", "unavailable", "unreachable"]


def access_for_status(status: int | str) -> Access:
    if status == NETWORK_ERROR or not isinstance(status, int):
        return "unreachable"
    if 200 <= status < 300:
        return "parsed"
    if status == 429:
        # Not singled out by RFC 9309; read like a server error (fail closed), as Google does.
        return "unreachable"
    if 400 <= status < 500:
        return "unavailable"  # RFC 9309 §2.3.1.3
    # 5xx (§2.3.1.4), a redirect chain longer than we follow (§2.3.1.2), or nonsense.
    return "unreachable"


@dataclass(frozen=True, slots=True)
class Rule:
    allow: bool
    pattern: PathPattern
    octets: int  # RFC 9309 §2.2.2: the most specific match is the one with the most octets


@dataclass(frozen=True, slots=True)
class Group:
    """One group (RFC 9309 §2.1): its user-agent values as written, the product tokens they name
    (`*` for the global group), its rules in file order and the delays it asks for (seconds)."""

    agents: tuple[str, ...]
    tokens: frozenset[str]
    rules: tuple[Rule, ...]
    delays: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class RobotsTxt:
    """The robots.txt of one origin as fetched at one time."""

    url: str
    status: int | str
    access: Access
    record_id: str | None = None  # WARC-Record-ID of the archived response, if any
    problems: tuple[str, ...] = ()
    groups: tuple[Group, ...] = ()
    # Per-file cache: the merged rules and delays per product token, and the named agents.
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_fetch(
        cls,
        url: str,
        status: int | str,
        body: bytes | None = None,
        *,
        record_id: str | None = None,
        unreadable: str | None = None,
    ) -> RobotsTxt:
        """`unreadable` says why a body that arrived cannot be read (e.g. an unknown encoding):
        the file's rules cannot be known, so the origin is treated as unreachable."""
        if unreadable:
            return cls(url, status, "unreachable", record_id, (f"unreadable: {unreadable}",))
        access = access_for_status(status)
        problems: list[str] = []
        groups: tuple[Group, ...] = ()
        if access == "parsed":
            text, problems = _decode(body or b"")
            groups, other, outside = parse_groups(text)
            if other:
                problems.append(f"{other} line(s) not access records: ignored, groups kept")
            if outside:
                problems.append(f"{outside} rule(s) before any user-agent line: ignored")
        elif access == "unreachable":
            problems.append(f"robots.txt unreachable ({status}): complete disallow")
        return cls(url, status, access, record_id, tuple(problems), groups)

    def allows(self, url: str, token: str) -> bool:
        if self.access == "unavailable":
            return True
        if urlsplit(url).path == "/robots.txt":
            return True  # RFC 9309 §2.2.2: implicitly allowed
        if self.access == "unreachable":
            return False
        rules, _ = self._applicable(product_token(token))
        return _allowed(rules, _match_path(url))

    def _applicable(self, token: str) -> tuple[tuple[Rule, ...], tuple[float, ...]]:
        """RFC 9309 §2.2.1: every group naming `token` (merged), else every `*` group."""
        found = self._cache.get(token)
        if found is None:
            named = [g for g in self.groups if token and token in g.tokens]
            chosen = named or [g for g in self.groups if "*" in g.tokens]
            rules = tuple(rule for g in chosen for rule in g.rules)
            delays = tuple(delay for g in chosen for delay in g.delays)
            found = self._cache[token] = (rules, delays)
        return found

    def delay_for(self, token: str) -> float | None:
        """Seconds between requests that the groups for `token` ask for: the largest
        `Crawl-delay` or `Request-rate` interval (non-standard, read as Protego reads them)."""
        if self.access != "parsed":
            return None
        _, delays = self._applicable(product_token(token))
        return max(delays) if delays else None

    def named_agents(self) -> frozenset[str]:
        """Agent names (`agent_name`) that have a group of their own in this file (read once)."""
        names = self._cache.get(_NAMED_AGENTS)
        if names is None:
            found = {agent_name(a) for g in self.groups for a in g.agents if not _is_global(a)}
            names = self._cache[_NAMED_AGENTS] = frozenset(filter(None, found))
        return names

    def ai_agent_signal(self, url: str, agents: frozenset[str]) -> Signal | None:
        """A disallow of `url` in a group that names one of `agents` (AI-training crawlers).

        Not a reservation by RFC 9309 (it is an access rule for that agent); profiles decide
        whether to read it as one (reason robots-ai-agent-disallowed)."""
        if self.access != "parsed":
            return None
        refused = sorted(a for a in self.named_agents() & agents if not self.allows(url, a))
        if not refused:
            return None
        return Signal(
            kind="robots.txt-ai-agent",
            source=self.url,
            value="disallowed for " + ", ".join(refused),
            verdict="unknown",
            reason=reasons.ROBOTS_AI_AGENT_DISALLOWED,
            evidence_record=self.record_id,
        )

    def signal(self, url: str, token: str) -> Signal:
        allowed = self.allows(url, token)
        if allowed:
            reason = None
        elif self.access == "unreachable":
            reason = reasons.ROBOTS_UNREACHABLE
        else:
            reason = reasons.ROBOTS_DISALLOWED
        value = {"parsed": f"status {self.status}", "unavailable": f"status {self.status}"}.get(
            self.access, str(self.status)
        )
        return Signal(
            kind="robots.txt",
            source=self.url,
            value=f"{value}; {self.access}",
            verdict="allowed" if allowed else "disallowed",
            reason=reason,
            evidence_record=self.record_id,
            problems=self.problems,
        )


# Field names, lower-cased with inner whitespace collapsed; the misspellings are the ones Google's
# parser accepts (robots.cc kAllowFrequentTypos), read because their writers meant them.
_USER_AGENT_FIELDS = frozenset({"user-agent", "useragent", "user agent"})
_ALLOW_FIELDS = frozenset({"allow"})
_DISALLOW_FIELDS = frozenset(
    {"disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw"}
)
_CRAWL_DELAY_FIELDS = frozenset({"crawl-delay", "crawl delay"})
_REQUEST_RATE_FIELDS = frozenset({"request-rate", "request rate"})
# Known records that carry nothing for access; Content-Usage and the like are read by
# robots_records.py and count here as "not access records".
_OTHER_KNOWN_FIELDS = frozenset(
    {"sitemap", "sitemaps", "site-map", "visit-time", "visit time", "host"}
)
_LINE_END = re.compile(r"\r\n|\r|\n")  # RFC 9309 §2.2: EOL = CR / LF / CRLF
_REQUEST_RATE = re.compile(r"(\d+)/(\d+)([smhd]?)(?:\s+\S+)?", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

_PRODUCT_TOKEN = re.compile(r"[^\s/]+")
_NAMED_AGENTS = "\0named-agents"  # a key no product token can be: per-file cache of named_agents()


def product_token(user_agent: str) -> str:
    """The product token of a User-Agent string or user-agent line, lower-cased for the
    case-insensitive comparison of RFC 9309 §2.2.1: `Scrapy/2.13 (+…)` → `scrapy`.

    The name runs to the first `/` or whitespace, as Google's parser reads `Foo Bar` as `Foo`.
    Unlike it we keep characters RFC 9309 leaves out of tokens (`AI2Bot`, `Jävla-Bot`), so that
    `Rule1Bot` and `Rule2Bot` stay two names rather than both becoming `Rule`."""
    match = _PRODUCT_TOKEN.match(user_agent.strip())
    return match.group(0).lower() if match else ""


def agent_name(value: str) -> str:
    """A user-agent line's name as written, for list look-ups: `GPTBot/1.1` → `gptbot`.

    Unlike `product_token` it keeps what follows a space: listed agents such as `Brightbot 1.0`
    are not valid RFC 9309 tokens, and sites name them as listed."""
    return value.split("/", 1)[0].strip().lower()


def _is_global(value: str) -> bool:
    # `*`, and as in Google's parser `* anything` (a `*` followed by whitespace).
    return value[:1] == "*" and value[1:2] in ("", " ", "\t")


@dataclass(slots=True)
class _Building:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    has_rules: bool = False

    def freeze(self) -> Group:
        tokens = frozenset("*" if _is_global(a) else product_token(a) for a in self.agents)
        return Group(tuple(self.agents), tokens - {""}, tuple(self.rules), tuple(self.delays))


def parse_groups(text: str) -> tuple[tuple[Group, ...], int, int]:
    """The groups of a robots.txt, the count of lines that are no access record, and the count
    of rules outside any group.

    RFC 9309 §2.1: a group is one or more user-agent lines followed by rules, and ends only at a
    user-agent line that follows a rule; §2.2.4: no other record ends or splits a group."""
    groups: list[_Building] = []
    current: _Building | None = None
    other = outside = 0
    for line in _LINE_END.split(text):
        name, value = _field(line)
        if name is None:
            other += value is not None  # a line with content that is not `name: value`
            continue
        if name in _USER_AGENT_FIELDS:
            if current is None or current.has_rules:
                current = _Building()
                groups.append(current)
            current.agents.append(value)
        elif name in _ALLOW_FIELDS or name in _DISALLOW_FIELDS:
            if current is None:
                outside += 1  # RFC 9309 §2.1: rules belong to a group
                continue
            current.has_rules = True
            if value:  # an empty pattern matches nothing (RFC 9309 §2.2.2 `empty-pattern`)
                current.rules.append(_rule(name in _ALLOW_FIELDS, value))
        elif name in _CRAWL_DELAY_FIELDS or name in _REQUEST_RATE_FIELDS:
            delay = _crawl_delay(value) if name in _CRAWL_DELAY_FIELDS else _interval(value)
            if current is not None and delay is not None:
                current.delays.append(delay)
        elif name not in _OTHER_KNOWN_FIELDS:
            other += 1
    return tuple(g.freeze() for g in groups), other, outside


def _field(line: str) -> tuple[str | None, str | None]:
    """(field name, value) of a line; (None, None) for a blank or comment line and (None, "")
    for a line that has content but no field."""
    content = line.split("#", 1)[0].strip()
    if not content:
        return None, None
    name, sep, value = content.partition(":")
    if not sep:
        # Google's parser: a forgotten colon, when the line is exactly two words ("disallow /").
        words = content.split()
        if len(words) != 2:
            return None, ""
        name, value = words
    name = " ".join(name.lower().split())
    return (name, value.strip()) if name else (None, "")


def _rule(allow: bool, value: str) -> Rule:
    # RFC 9309 §2.2.3: only a final `$` is special; an inner `$` is matched as the character,
    # which `_match_path` writes percent-encoded, as a pattern writes `%24` to match it.
    if value.endswith("$"):
        pattern = value[:-1].replace("$", "%24") + "$"
    else:
        pattern = value.replace("$", "%24")
    compiled = compile_pattern(pattern)
    return Rule(allow, compiled, len(value.encode("utf-8", "surrogatepass")))


def _match_path(url: str) -> str:
    # RFC 9309 §2.2.3: a `*` or `$` in the URI is matched by a pattern's `%2A` / `%24`, never by
    # the special characters, so the URI side carries them percent-encoded.
    return url_path(url).replace("*", "%2A").replace("$", "%24")


def _allowed(rules: tuple[Rule, ...], path: str) -> bool:
    """RFC 9309 §2.2.2: the matching rule with the most octets decides, an allow wins a tie,
    and a path no rule matches is allowed. Linear in rules × path (PathPattern.matches)."""
    best, allowed = -1, True
    for rule in rules:
        if rule.octets < best or (rule.octets == best and not rule.allow):
            continue
        if rule.pattern.matches(path):
            best, allowed = rule.octets, rule.allow
    return allowed


def _crawl_delay(value: str) -> float | None:
    try:
        delay = float(value)
    except ValueError:
        return None
    return delay if math.isfinite(delay) and delay > 0 else None


def _interval(value: str) -> float | None:
    """`Request-rate: 1/10s` → 10.0 seconds between requests (Protego's reading: n/m with an
    optional s/m/h/d unit; an optional time period after it is ignored)."""
    match = _REQUEST_RATE.fullmatch(value)
    if match is None:
        return None
    requests, seconds = int(match.group(1)), int(match.group(2))
    seconds *= _UNIT_SECONDS[match.group(3).lower()]
    return seconds / requests if requests > 0 and seconds > 0 else None


def _decode(body: bytes) -> tuple[str, list[str]]:
    problems = []
    if len(body) > PARSE_LIMIT:
        cut = body.rfind(b"\n", 0, PARSE_LIMIT)
        body = body[: cut if cut > 0 else PARSE_LIMIT]
        problems.append(f"longer than {PARSE_LIMIT} bytes: parsed the first {len(body)}")
    # A byte order mark, whole or cut short, is skipped as Google's parser does.
    for bom in (b"\xef\xbb\xbf", b"\xef\xbb", b"\xef"):
        if body.startswith(bom):
            body = body[len(bom) :]
            break
    text = body.decode("utf-8", errors="replace")
    if "\ufffd" in text:
        problems.append("not valid UTF-8: undecodable bytes replaced")
    if text.lstrip()[:1] == "<":
        problems.append("looks like HTML, not robots.txt: only parseable lines used")
    return text, problems
