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
_NOT_IN_URI = re.compile(r'[\x00-\x20\x7f"<>\\^`{|}]')


def normalize(path: str) -> str:
    """Decode escapes of unreserved characters, upper-case the others, and escape what a URI
    cannot hold as is: non-ASCII, controls, space and `"<>\\^`{|}` (RFC 3986 §2), so that
    `/a<b` and `/a%3cb` compare equal as RFC 9309 §2.2.2 asks."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    path = _ESCAPE.sub(fix, path)
    if path.isascii() and not _NOT_IN_URI.search(path):
        return path
    return "".join(
        "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
        if not c.isascii() or _NOT_IN_URI.match(c)
        else c
        for c in path
    )


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
    parts: tuple[str, ...]  # the literal runs between `*`s
    anchored: bool

    @property
    def octets(self) -> int:
        """Specificity for longest-match selection: the pattern's length in octets."""
        return len(self.pattern.encode("utf-8", "surrogatepass"))

    def matches(self, path: str) -> bool:
        """Prefix match with `*` and a final `$`, in linear time.

        Leftmost placement of each literal run is always safe for `*`-only patterns, so there is
        no backtracking (a regex of `.*` runs can take exponential time on hostile input)."""
        first, *rest = self.parts
        if not path.startswith(first):
            return False
        position = len(first)
        if not rest:
            return not self.anchored or position == len(path)
        *middle, last = rest
        for part in middle:
            found = path.find(part, position)
            if found < 0:
                return False
            position = found + len(part)
        if self.anchored:
            return path.endswith(last) and len(path) - len(last) >= position
        return path.find(last, position) >= 0


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> PathPattern:
    pattern = normalize(pattern)
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    return PathPattern(pattern, tuple(body.split("*")), anchored)
