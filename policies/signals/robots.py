"""robots.txt for our own product token, read with RFC 9309 access semantics.

Protego matches paths; this module decides what a fetch result means (RFC 9309 §2.3.1):
2xx → parse the first 500 KiB; 4xx → "unavailable", anything may be crawled; 5xx, 429, network
error or too many redirects → "unreachable", complete disallow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from protego import Protego

from policies import reasons
from policies.evidence import Signal

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
class RobotsTxt:
    """The robots.txt of one origin as fetched at one time."""

    url: str
    status: int | str
    access: Access
    record_id: str | None = None  # WARC-Record-ID of the archived response, if any
    problems: tuple[str, ...] = ()
    rules: str = ""  # the access records, one a line, comments removed
    # Per-file caches: a Protego parser per token, and the named agents (under _NAMED_AGENTS).
    _parsers: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

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
        rules = ""
        if access == "parsed":
            text, problems = _decode(body or b"")
            rules, skipped = _access_records(text)
            if skipped:
                problems.append(f"{skipped} line(s) not access records: left out of group parsing")
        elif access == "unreachable":
            problems.append(f"robots.txt unreachable ({status}): complete disallow")
        return cls(url, status, access, record_id, tuple(problems), rules)

    def allows(self, url: str, token: str) -> bool:
        if self.access == "unavailable":
            return True
        if urlsplit(url).path == "/robots.txt":
            return True  # RFC 9309 §2.2.2: implicitly allowed
        if self.access == "unreachable":
            return False
        token = product_token(token)
        return self._parser(token).can_fetch(url, token)

    def _parser(self, token: str) -> Protego:
        parser = self._parsers.get(token)
        if parser is None:
            parser = self._parsers[token] = Protego.parse(_groups_for(self.rules, token))
        return parser

    def delay_for(self, token: str) -> float | None:
        """Seconds between requests that the group for `token` asks for: the larger of
        `Crawl-delay` and the interval of `Request-rate` (non-standard, read as Protego does)."""
        if self.access != "parsed":
            return None
        token = product_token(token)
        parser = self._parser(token)
        delays = []
        crawl_delay = parser.crawl_delay(token)
        if crawl_delay is not None and crawl_delay > 0:
            delays.append(float(crawl_delay))
        rate = parser.request_rate(token)
        if rate is not None and rate.requests > 0 and rate.seconds > 0:
            delays.append(rate.seconds / rate.requests)
        return max(delays) if delays else None

    def named_agents(self) -> frozenset[str]:
        """Agent names (`agent_name`) that have a group of their own in this file (read once)."""
        names = self._parsers.get(_NAMED_AGENTS)
        if names is None:
            found = set()
            for line in self.rules.split("\n"):
                field_name, _, value = line.partition(":")
                if (
                    " ".join(field_name.lower().split()) in _USER_AGENT_FIELDS
                    and value.strip() != "*"
                ):
                    found.add(agent_name(value))
            names = self._parsers[_NAMED_AGENTS] = frozenset(filter(None, found))
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


# Records Protego reads (with the misspellings it accepts). Anything else — Content-Usage,
# Content-Signal, License, garbage — is removed before Protego sees the text, because Protego ends
# a group at an unknown record while RFC 9309 §2.2.4 says other records MUST NOT interfere.
_USER_AGENT_FIELDS = frozenset({"user-agent", "useragent", "user agent"})
_ACCESS_FIELDS = _USER_AGENT_FIELDS | frozenset(
    {
        "allow",
        "disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw",
        "sitemap", "sitemaps", "site-map",
        "crawl-delay", "crawl delay",
        "request-rate", "request rate",
        "visit-time", "visit time",
        "host",
    }
)  # fmt: skip


_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]+")
_NAMED_AGENTS = "\0named-agents"  # a key no product token can be: per-file cache of named_agents()
_NO_AGENT = "0"  # matches no product token: digits are not token characters


def product_token(user_agent: str) -> str:
    """The product token of a User-Agent string: `Scrapy/2.13 (+…)` → `scrapy`."""
    match = _PRODUCT_TOKEN.match(user_agent.strip())
    return match.group(0).lower() if match else ""


def agent_name(value: str) -> str:
    """A user-agent line's name as written, for list look-ups: `GPTBot/1.1` → `gptbot`.

    Looser than `product_token`: many listed agents (`AI2Bot`, `Brightbot 1.0`) are not valid
    RFC 9309 tokens, and sites name them as listed."""
    return value.split("/", 1)[0].strip().lower()


def _groups_for(rules: str, token: str) -> str:
    """The rules with every user-agent line that is neither `*` nor exactly `token` renamed.

    RFC 9309 §2.2.1 matches the product token case-insensitively and whole; Protego matches any
    group name found inside the agent string (`User-agent: rights` would catch `rightscrawl`).
    """
    lines = []
    for line in rules.split("\n"):
        field, _, value = line.partition(":")
        if " ".join(field.lower().split()) in _USER_AGENT_FIELDS:
            value = value.strip()
            if value != "*":
                value = token if product_token(value) == token else _NO_AGENT
            line = f"User-agent: {value}"
        lines.append(line)
    return "\n".join(lines)


def _access_records(text: str) -> tuple[str, int]:
    kept, skipped = [], 0
    for line in text.splitlines():
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        field, sep, _ = content.partition(":")
        if sep and " ".join(field.lower().split()) in _ACCESS_FIELDS:
            kept.append(content)
        else:
            skipped += 1
    return "\n".join(kept), skipped


def _decode(body: bytes) -> tuple[str, list[str]]:
    problems = []
    if len(body) > PARSE_LIMIT:
        cut = body.rfind(b"\n", 0, PARSE_LIMIT)
        body = body[: cut if cut > 0 else PARSE_LIMIT]
        problems.append(f"longer than {PARSE_LIMIT} bytes: parsed the first {len(body)}")
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
    if "\ufffd" in text:
        problems.append("not valid UTF-8: undecodable bytes replaced")
    if text.lstrip()[:1] == "<":
        problems.append("looks like HTML, not robots.txt: only parseable lines used")
    return text, problems
