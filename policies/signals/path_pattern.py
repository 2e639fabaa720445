"""Robots-style path patterns (RFC 9309 §2.2.2-2.2.3), shared by every path-scoped signal.

`*` matches any run of characters, a final `$` anchors the end; matching is case-sensitive and
works on the path and query with unreserved percent-escapes decoded. TDMRep `location`, AIPREF
`Content-Usage` paths, ai.txt and RSL `content/@url` all use these rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def normalize(path: str) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape non-ASCII."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    path = _ESCAPE.sub(fix, path)
    if path.isascii():
        return path
    return "".join(c if c.isascii() else "".join(f"%{b:02X}" for b in c.encode()) for c in path)


def url_path(url: str) -> str:
    """The part of a URL that patterns match: path (at least `/`) and query."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return normalize(path)


@dataclass(frozen=True, slots=True)
class PathPattern:
    pattern: str
    regex: re.Pattern[str]

    @property
    def octets(self) -> int:
        """Specificity for longest-match selection: the pattern's length in octets."""
        return len(self.pattern.encode())

    def matches(self, path: str) -> bool:
        return self.regex.match(path) is not None


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> PathPattern:
    pattern = normalize(pattern)
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(part) for part in body.split("*"))
    return PathPattern(pattern, re.compile(regex + ("$" if anchored else ""), re.DOTALL))
