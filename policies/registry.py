"""Declared reservations: rights holders' public notices that are not on each site.

A collective management organisation or a rights holder may reserve works by announcement (in
2026, Vietnamese film studios did so through a film-copyright association). A registry file lists
such notices, one a line, as CSV with a header:

    scope,value,party,channel,source,date
    domain,films.example,Example Film Copyright Association,public notice by a CMO,https://…,2026-05-04
    prefix,https://archive.example/press/,Example Press,website notice,https://…,2026-06-01

`scope` says what the value names. Before fetching, by URL:
- `domain`: the host and its subdomains; `prefix`: URLs that start with the value.
After fetching, by what the document says of itself (the work follows its owner to any site):
- `owner`: a rights holder's name as the document's own metadata gives it
  (policies.works: schema.org copyrightHolder/author/creator/publisher, meta author, Dublin Core,
  XMP, IPTC, EXIF, PDF /Author). Names compare after Unicode NFKC, case folding and with only
  their words kept (`name_key`); diacritics count (`Hãng` ≠ `Hang`) unless the entry's optional
  7th column `match` says `fold-diacritics`. A name field must equal the entry; a rights statement
  (`dc:rights`, EXIF Copyright, `© 2026 Studio X. All rights reserved.`) must contain its words.
- `identifier`: `isbn:`, `issn:`, `doi:`, `isan:`, `isrc:` or `iswc:` and the value, compared in
  the one form policies.identifiers writes (ISBN-10 → ISBN-13, DOI lower-case …).
- `iscc`: an ISCC Image-Code or Text-Code (`ISCC:EEA…`, `ISCC:EAA…`): matches a document whose
  own code of the same kind is within `content_code.MAX_DISTANCE` bits (Hamming distance).

`date` is ISO 8601 (YYYY-MM-DD); `source` is an http(s) URL where the notice can be read. The
header may add a 7th column, `match` (empty, `exact` or `fold-diacritics`; owners only). Blank
lines and lines starting with `#` are ignored. A malformed entry is an error naming the file and
line: a registry that cannot be read must stop the crawl, not be skipped.

Entries are indexed by their normalised value when the registry loads (once per run and files'
state), so the cost of a page does not grow with the registry: a dictionary look-up per name word
sequence and identifier, and for ISCC codes a multi-index on 9 blocks of the 64 bits (pigeonhole:
two codes within 8 bits agree on at least one block).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from policies import content_code, identifiers, reasons
from policies.evidence import Signal
from policies.works import Claim, WorkClaims, name_key

DECLARED_DIR = Path(__file__).parent / "registries" / "declared"
BLOCKLISTS_DIR = Path(__file__).parent / "registries" / "blocklists"
COLUMNS = ("scope", "value", "party", "channel", "source", "date")
OPTIONAL_COLUMNS = ("match",)
URL_SCOPES = ("domain", "prefix")
WORK_SCOPES = ("owner", "identifier", "iscc")
SCOPES = URL_SCOPES + WORK_SCOPES
MATCHES = ("exact", "fold-diacritics")
# Words of an owner's name looked for in a rights statement: longer entries are compared whole.
MAX_NAME_WORDS = 12
ISCC_BLOCKS = content_code.MAX_DISTANCE + 1


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
    match: str = "exact"  # owners: "exact" or "fold-diacritics"

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
    match = (row.get("match") or "").strip() or "exact"
    if match not in MATCHES:
        raise RegistryError(f"{where}: match must be one of {', '.join(MATCHES)}, not {match!r}")
    if match != "exact" and values["scope"] != "owner":
        raise RegistryError(f"{where}: match={match} applies to owner entries only")
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
    if values["scope"] == "owner":
        if not name_key(value):
            raise RegistryError(
                f"{where}: an owner is a name with letters or digits, not {value!r}"
            )
    elif values["scope"] == "identifier":
        normal = identifiers.normalise(value)
        if normal is None:
            raise RegistryError(
                f"{where}: an identifier is {', '.join(s + ':' for s in identifiers.SCHEMES)} and a"
                f" valid value (check digit included), not {value!r}"
            )
        value = normal
    elif values["scope"] == "iscc":
        if content_code.parse(value) is None:
            raise RegistryError(
                f"{where}: an iscc entry is a 64-bit ISCC Image-Code or Text-Code, not {value!r}"
            )
    elif values["scope"] == "domain":
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
        match,
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
    columns = tuple(c.strip() for c in next(csv.reader([header])))
    if columns not in (COLUMNS, COLUMNS + OPTIONAL_COLUMNS):
        raise RegistryError(
            f"{file}:{header_line}: the header must be {','.join(COLUMNS)}"
            f" (and optionally ,{','.join(OPTIONAL_COLUMNS)})"
        )
    entries = []
    for number, line in lines[1:]:
        fields = next(csv.reader(io.StringIO(line)))
        if len(fields) != len(columns):
            raise RegistryError(f"{file}:{number}: {len(fields)} fields, expected {len(columns)}")
        entries.append(_entry(dict(zip(columns, fields, strict=True)), file, number))
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
        return None if entry is None else self._signal(entry)

    def _signal(self, entry: Reservation, matched: str = "") -> Signal:
        value = f"{entry.party} ({entry.channel}, {entry.date.isoformat()}): {entry.source}"
        return Signal(
            kind=self.kind,
            source=f"{entry.file}:{entry.line}",
            value=value + (f"; matched {matched}" if matched else ""),
            verdict="reserved" if self.reason == reasons.DECLARED_RESERVATION else "unknown",
            reason=self.reason,
        )

    # -- works-level entries: matched after fetching ---------------------------------------------

    @cached_property
    def reads_claims(self) -> bool:
        """Whether a fetched document's owners and identifiers must be read at all."""
        return bool(self._owners[0] or self._owners[1] or self._identifiers)

    @cached_property
    def reads_codes(self) -> frozenset[str]:
        """The kinds of ISCC content code (`image`, `text`) a fetched document must have computed:
        only those some entry has (a Text-Code costs ~2 µs a character)."""
        return frozenset(kind for kind, _, _ in self._codes)

    @cached_property
    def _owners(self) -> tuple[dict[str, Reservation], dict[str, Reservation], int]:
        """(exact name keys, diacritics-folded name keys, most words in a name)."""
        exact: dict[str, Reservation] = {}
        folded: dict[str, Reservation] = {}
        words = 0
        for entry in self.entries:
            if entry.scope != "owner":
                continue
            fold = entry.match == "fold-diacritics"
            key = name_key(entry.value, fold_diacritics=fold)
            (folded if fold else exact).setdefault(key, entry)
            words = max(words, key.count(" ") + 1)
        return exact, folded, min(words, MAX_NAME_WORDS)

    @cached_property
    def _identifiers(self) -> dict[str, Reservation]:
        found: dict[str, Reservation] = {}
        for entry in self.entries:
            if entry.scope == "identifier":
                found.setdefault(entry.value, entry)
        return found

    @cached_property
    def _codes(self) -> dict[tuple[str, int, int], list[tuple[int, Reservation]]]:
        """(kind, block number, block bits) -> [(code, entry)]: a code within MAX_DISTANCE of an
        entry's agrees with it on at least one of the ISCC_BLOCKS blocks (pigeonhole)."""
        index: dict[tuple[str, int, int], list[tuple[int, Reservation]]] = {}
        for entry in self.entries:
            if entry.scope != "iscc":
                continue
            parsed = content_code.parse(entry.value)
            assert parsed is not None  # checked when the entry was read
            kind, code = parsed
            for block, bits in _blocks(code):
                index.setdefault((kind, block, bits), []).append((code, entry))
        return index

    def owner_entry(self, claim: Claim) -> Reservation | None:
        exact, folded, most = self._owners
        if not exact and not folded:
            return None
        for table, fold in ((exact, False), (folded, True)):
            if not table:
                continue
            key = name_key(claim.value, fold_diacritics=fold)
            if key in table:
                return table[key]
            if claim.statement:  # the owner's name among the statement's words
                words = key.split()
                for start in range(len(words)):
                    for end in range(start + 1, min(len(words), start + most) + 1):
                        entry = table.get(" ".join(words[start:end]))
                        if entry is not None:
                            return entry
        return None

    def code_entry(self, code: str) -> tuple[Reservation, int] | None:
        """The entry whose code is nearest `code` within MAX_DISTANCE, and the distance."""
        parsed = content_code.parse(code) if self._codes else None
        if parsed is None:
            return None
        kind, value = parsed
        best: tuple[Reservation, int] | None = None
        for block, bits in _blocks(value):
            for candidate, entry in self._codes.get((kind, block, bits), ()):
                distance = (candidate ^ value).bit_count()
                if distance <= content_code.MAX_DISTANCE and (best is None or distance < best[1]):
                    best = (entry, distance)
        return best

    def work_signals(self, claims: WorkClaims, code: str | None = None) -> list[Signal]:
        """Declared reservations covering the work a fetched document carries."""
        found: list[Signal] = []
        seen: set[tuple[str, int]] = set()

        def add(entry: Reservation, matched: str) -> None:
            if (entry.file, entry.line) not in seen:
                seen.add((entry.file, entry.line))
                found.append(self._signal(entry, matched))

        for claim in claims.owners:
            entry = self.owner_entry(claim)
            if entry is not None:
                add(entry, f"owner {claim.value!r} in {claim.field}")
        for claim in claims.identifiers:
            entry = self._identifiers.get(claim.value)
            if entry is not None:
                add(entry, f"{claim.value} in {claim.field}")
        if code is not None:
            near = self.code_entry(code)
            if near is not None:
                add(near[0], f"ISCC {code} within {near[1]} bits of {near[0].value}")
        return found


def _blocks(code: int) -> list[tuple[int, int]]:
    """The 64 bits cut into ISCC_BLOCKS blocks: [(block number, its bits)]."""
    size, extra = divmod(64, ISCC_BLOCKS)
    blocks, at = [], 0
    for number in range(ISCC_BLOCKS):
        width = size + (1 if number < extra else 0)
        blocks.append((number, (code >> at) & ((1 << width) - 1)))
        at += width
    return blocks


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
    """The registries in `paths`, read once per process and state of the files: the access guard,
    the response policy and `recheck` share one index."""
    files = registry_files(paths)
    try:
        state = tuple((str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError as exc:
        raise RegistryError(f"cannot read a registry: {exc}") from exc
    return _load(state)


@lru_cache(maxsize=8)
def _load(state: tuple[tuple[str, int, int], ...]) -> Registry:
    entries: list[Reservation] = []
    for path in (Path(name) for name, _, _ in state):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RegistryError(f"{path}: cannot read: {exc}") from exc
        entries.extend(parse_registry(text, _display(path)))
    return Registry(tuple(entries))
