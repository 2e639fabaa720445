"""Which URLs a crawl may request, as browsertrix-crawler's `scopeType` and Heritrix's decide rules
say it: `-a scope=host|domain|prefix|any`, widened by `-a include=REGEX`, narrowed by
`-a exclude=REGEX`.

    host     the seeds' host names, any port and scheme (the default)
    domain   the seeds' registrable domains (Public Suffix List, bundled with `publicsuffixlist`:
             no network) and every subdomain: www.example.co.uk → example.co.uk, *.example.co.uk
    prefix   URLs that start with a seed's directory: https://x.org/docs/a.html → https://x.org/docs/
    any      every http(s) URL

A URL is in scope when its scope type or an `include` pattern matches it and no `exclude`
pattern does (`re.search` on the whole URL). `exclude` also applies to media a page embeds from
another host, which the scope type does not limit. An out-of-scope URL is never requested and gets
no decision row: it was never a candidate.

Several patterns: repeat the argument (`-a exclude=A -a exclude=B`, joined by the `crawl`
command), put one a line in the value, or give `@FILE` (one pattern a line; blank lines and lines
starting with `#` skipped).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from crawler.contracts import SettingError, registrable_domain

SCOPES = ("host", "domain", "prefix", "any")


class ScopeError(SettingError):
    """A scope argument that cannot be used (unknown type, bad pattern, unreadable file)."""


def read_patterns(value: str | Iterable[str] | None, name: str) -> tuple[re.Pattern[str], ...]:
    """Compiled patterns from `-a NAME=`: lines of the value(s), `@FILE` read one a line."""
    if not value:
        return ()
    values = [value] if isinstance(value, str) else list(value)
    lines: list[str] = []
    for given in values:
        for line in given.splitlines():
            line = line.strip()
            if line.startswith("@"):
                path = line[1:]
                try:
                    text = Path(path).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise ScopeError(f"-a {name}=@{path}: cannot read it ({exc})") from exc
                lines += [p.strip() for p in text.splitlines() if p.strip() and p[0] != "#"]
            elif line:
                lines.append(line)
    patterns = []
    for line in lines:
        try:
            patterns.append(re.compile(line))
        except re.error as exc:
            raise ScopeError(f"-a {name}={line!r} is not a regular expression: {exc}") from None
    return tuple(patterns)


def seed_prefix(url: str) -> str:
    """A seed's directory, as browsertrix-crawler's `prefix` scope takes it."""
    parts = urlsplit(url)
    directory = parts.path.rsplit("/", 1)[0] + "/" if parts.path else "/"
    return f"{parts.scheme}://{parts.netloc}{directory}"


@dataclass(frozen=True, slots=True)
class Scope:
    type: str
    hosts: frozenset[str]  # host names as requests carry them (punycode)
    domains: frozenset[str]
    prefixes: tuple[str, ...]
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def build(
        cls,
        scope_type: str | None,
        seeds: Iterable[str],
        *,
        include: str | Iterable[str] | None = None,
        exclude: str | Iterable[str] | None = None,
    ) -> Scope:
        scope_type = (scope_type or "host").strip().lower()
        if scope_type not in SCOPES:
            raise ScopeError(f"-a scope= takes {', '.join(SCOPES)}, not {scope_type!r}")
        seeds = list(seeds)
        hosts = frozenset(h for h in (urlsplit(u).hostname for u in seeds) if h)
        return cls(
            scope_type,
            hosts,
            frozenset(registrable_domain(h) for h in hosts) if scope_type == "domain" else frozenset(),
            tuple(dict.fromkeys(seed_prefix(u) for u in seeds)) if scope_type == "prefix" else (),
            read_patterns(include, "include"),
            read_patterns(exclude, "exclude"),
        )  # fmt: skip

    def excluded(self, url: str) -> bool:
        """An `exclude` pattern matches: never requested, whatever the kind."""
        return any(p.search(url) for p in self.exclude)

    def allows(self, url: str) -> bool:
        """`url` may be requested as a page or a linked file."""
        return not self.excluded(url) and (
            self.type_allows(url) or any(p.search(url) for p in self.include)
        )

    def type_allows(self, url: str) -> bool:
        """The scope type alone covers `url` (no include pattern needed)."""
        if self.type == "any":
            return True
        if self.type == "prefix":
            return url.startswith(self.prefixes)
        host = (urlsplit(url).hostname or "").rstrip(".")
        if self.type == "host":
            return host in self.hosts
        return any(host == d or host.endswith("." + d) for d in self.domains)
