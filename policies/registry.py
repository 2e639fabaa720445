"""Declared reservations: rights holders' public notices that are not on each site.

A collective management organisation or a rights holder may reserve works by announcement (in
2026, Vietnamese film studios did so through a film-copyright association). A registry file lists
such notices, one a line, as CSV with a header:

    scope,value,party,channel,source,date
    domain,films.example,Example Film Copyright Association,public notice by a CMO,https://…,2026-05-04
    prefix,https://archive.example/press/,Example Press,website notice,https://…,2026-06-01

`scope` is `domain` (the host and its subdomains) or `prefix` (URLs that start with the value);
`date` is ISO 8601 (YYYY-MM-DD); `source` is an http(s) URL where the notice can be read. Blank
lines and lines starting with `#` are ignored. A malformed entry is an error naming the file and
line: a registry that cannot be read must stop the crawl, not be skipped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from policies import reasons
from policies.evidence import Signal

DECLARED_DIR = Path(__file__).parent / "registries" / "declared"
BLOCKLISTS_DIR = Path(__file__).parent / "registries" / "blocklists"
COLUMNS = ("scope", "value", "party", "channel", "source", "date")
SCOPES = ("domain", "prefix")


class RegistryError(ValueError):
    """A registry file that cannot be read, or an entry in it that is malformed."""


@dataclass(frozen=True, slots=True)
class Reservation:
    scope: str
    value: str
    party: str
    channel: str
    source: str
    date: date
    file: str
    line: int

    def covers(self, url: str) -> bool:
        if self.scope == "prefix":
            return _normalized(url).startswith(self.value)
        host = (urlsplit(url).hostname or "").rstrip(".")
        return host == self.value or host.endswith("." + self.value)


def _normalized(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").encode("idna").decode("ascii") if parts.hostname else ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme.lower()}://{netloc}{parts.path or '/'}" + (
        f"?{parts.query}" if parts.query else ""
    )


def _entry(row: dict[str, str], file: str, line: int) -> Reservation:
    where = f"{file}:{line}"
    values = {key: (row.get(key) or "").strip() for key in COLUMNS}
    missing = [key for key in COLUMNS if not values[key]]
    if missing:
        raise RegistryError(f"{where}: missing {', '.join(missing)}")
    if values["scope"] not in SCOPES:
        raise RegistryError(
            f"{where}: scope must be one of {', '.join(SCOPES)}, not {values['scope']!r}"
        )
    if urlsplit(values["source"]).scheme not in ("http", "https"):
        raise RegistryError(f"{where}: source must be an http(s) URL, not {values['source']!r}")
    try:
        when = date.fromisoformat(values["date"])
    except ValueError:
        raise RegistryError(f"{where}: date must be YYYY-MM-DD, not {values['date']!r}") from None
    value = values["value"]
    if values["scope"] == "domain":
        if "/" in value or ":" in value or " " in value:
            raise RegistryError(f"{where}: a domain is a host name, not {value!r}")
        try:
            value = value.lower().rstrip(".").encode("idna").decode("ascii")
        except UnicodeError:
            raise RegistryError(f"{where}: {value!r} is not a valid host name") from None
    else:
        if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname:
            raise RegistryError(f"{where}: a prefix is an http(s) URL, not {value!r}")
        value = _normalized(value)
    return Reservation(
        values["scope"],
        value,
        values["party"],
        values["channel"],
        values["source"],
        when,
        file,
        line,
    )


def parse_registry(text: str, file: str) -> tuple[Reservation, ...]:
    lines = [
        (n, line)
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        return ()
    header_line, header = lines[0]
    columns = [c.strip() for c in next(csv.reader([header]))]
    if tuple(columns) != COLUMNS:
        raise RegistryError(f"{file}:{header_line}: the header must be {','.join(COLUMNS)}")
    entries = []
    for number, line in lines[1:]:
        fields = next(csv.reader(io.StringIO(line)))
        if len(fields) != len(COLUMNS):
            raise RegistryError(f"{file}:{number}: {len(fields)} fields, expected {len(COLUMNS)}")
        entries.append(_entry(dict(zip(COLUMNS, fields, strict=True)), file, number))
    return tuple(entries)


@dataclass(frozen=True)
class Registry:
    entries: tuple[Reservation, ...] = ()
    kind: str = "declared-reservation"  # or "blocklist"
    reason: str = reasons.DECLARED_RESERVATION  # or reasons.BLOCKLISTED

    def match(self, url: str) -> Reservation | None:
        if not self.entries:
            return None
        host = (urlsplit(url).hostname or "").rstrip(".")
        labels = host.split(".")
        for start in range(len(labels)):  # the host, then each parent domain
            entry = self._domains.get(".".join(labels[start:]))
            if entry is not None:
                return entry
        if self._prefixes:
            normalized = _normalized(url)
            return next((e for e in self._prefixes if normalized.startswith(e.value)), None)
        return None

    @cached_property
    def _domains(self) -> dict[str, Reservation]:
        domains: dict[str, Reservation] = {}
        for entry in self.entries:
            if entry.scope == "domain":
                domains.setdefault(entry.value, entry)
        return domains

    @cached_property
    def _prefixes(self) -> tuple[Reservation, ...]:
        return tuple(entry for entry in self.entries if entry.scope == "prefix")

    def signal(self, url: str) -> Signal | None:
        entry = self.match(url)
        if entry is None:
            return None
        return Signal(
            kind=self.kind,
            source=f"{entry.file}:{entry.line}",
            value=f"{entry.party} ({entry.channel}, {entry.date.isoformat()}): {entry.source}",
            verdict="reserved" if self.reason == reasons.DECLARED_RESERVATION else "unknown",
            reason=self.reason,
        )


def registry_files(paths: list[str]) -> list[Path]:
    """Files named, and the .csv files of folders named, in order."""
    files = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files.extend(sorted(path.glob("*.csv")))
        elif path.is_file():
            files.append(path)
        else:
            raise RegistryError(f"{name}: no such registry file or folder")
    return files


def _display(path: Path) -> str:
    """Bundled files by their path in the project; others as given."""
    try:
        return str(path.resolve().relative_to(Path(__file__).resolve().parent.parent))
    except ValueError:
        return str(path)


def load_blocklist(paths: list[str]) -> Registry:
    """Sites recognised as infringing (EU GPAI Code of Practice measure 1.2(b)): never requested.
    Same file format as declared reservations; `party` is the body that lists the site."""
    return Registry(load_registry(paths).entries, kind="blocklist", reason=reasons.BLOCKLISTED)


def load_registry(paths: list[str]) -> Registry:
    entries: list[Reservation] = []
    for path in registry_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RegistryError(f"{path}: cannot read: {exc}") from exc
        entries.extend(parse_registry(text, _display(path)))
    return Registry(tuple(entries))
