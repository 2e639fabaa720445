"""Policy profiles: jurisdiction × purpose, as data (`policies/profiles/*.toml`).

A profile states its legal basis with sources, which reservation signals exclude a URL, whether
policy files that cannot be fetched fail closed, whether a recognisable but non-conforming
reservation counts (`lenient_reservations`), and which policy documents to fetch per origin.
It is pinned by the sha256 of its file, so every decision names exactly the rules it was made
under. An unknown name or an invalid file raises `ProfileError`: a crawl must not start with a
gate it cannot explain.

Not negotiable, whatever a profile says: the robots.txt rules for our own token (including
"unreachable = complete disallow"), lawful access (401/402/403/407/451, paywall markup), declared
reservations and blocklists, private addresses and size limits (a document not read whole is
`policy-error` under every profile).
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies import reasons
from policies.evidence import PolicyRef

PROFILES_DIR = Path(__file__).parent / "profiles"
BLOCKLISTS_DIR = Path(__file__).parent / "registries" / "blocklists"

# Reason codes of reservation signals: a profile says which of them exclude a URL.
SIGNAL_REASONS = frozenset(
    {
        reasons.TDMREP_RESERVED,
        reasons.TDM_RESERVATION_HEADER,
        reasons.TDM_RESERVATION_META,
        reasons.NOAI_HEADER,
        reasons.NOAI_META,
        reasons.CONTENT_USAGE_RESERVED,
        reasons.CONTENT_SIGNAL_RESERVED,
        reasons.AI_TXT_RESERVED,
        reasons.RSL_RESERVED,
        reasons.RSL_LICENSE_REQUIRED,
        reasons.C2PA_RESERVED,
        reasons.IPTC_RESERVED,
        reasons.ROBOTS_AI_AGENT_DISALLOWED,
        reasons.NATURAL_LANGUAGE_RESERVATION,
    }
)
# "terms": the pages a site's links name as terms, legal notice, copyright or licensing
# (crawler/terms_pages.py), read for natural-language reservations.
EVIDENCE_DOCUMENTS = frozenset({"tdmrep.json", "ai.txt", "rsl", "terms"})
_KNOWN_KEYS = {
    "name", "title", "jurisdiction", "purpose", "description", "legal_basis", "sources",
    "reservations", "fail_closed", "evidence", "blocklists", "lenient_reservations",
    "blocklist_expected", "review",
}  # fmt: skip
EXAMPLE_BLOCKLIST = "example.csv"  # the bundled list that matches nothing real


class ProfileError(ValueError):
    """A profile name that does not exist, or a profile file that is not valid."""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    title: str
    sha256: str
    path: Path
    honoured: frozenset[str]  # signal reason codes that exclude under this profile
    policy_files_fail_closed: bool  # tdmrep.json / ai.txt / RSL unreachable → exclude the origin
    fetch: frozenset[str]  # policy documents fetched per origin, beyond robots.txt
    # Read a recognisable but non-conforming reservation (`Train-AI=n`, `ai-train=No`, a legacy
    # AIPREF label, tdm-reservation "true") as the reservation it means (Signal.lenient_reason).
    lenient_reservations: bool = False
    blocklists: tuple[Path, ...] = ()  # lists of infringing sites, never requested
    # The law or code behind the profile expects infringing sites to be excluded (EU GPAI Code
    # of Practice measure 1.2; Vietnam's lawful-access condition): a run with no real list warns.
    blocklist_expected: bool = False
    # Signal reason codes the profile neither honours nor ignores: a URL they concern is kept and
    # its decision lists them under detail.review, for a person to judge (natural-language
    # reservations under the EU profiles).
    review: frozenset[str] = frozenset()
    jurisdiction: str = ""
    purpose: str = ""
    description: str = ""
    legal_basis: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def ref(self) -> PolicyRef:
        return PolicyRef(profile=self.name, sha256=self.sha256)

    def honours(self, reason: str) -> bool:
        return reason not in SIGNAL_REASONS or reason in self.honoured

    @property
    def lacks_a_blocklist(self) -> bool:
        """A real list of infringing sites is expected, and only the example list is named."""
        real = [path for path in self.blocklists if path.name != EXAMPLE_BLOCKLIST]
        return self.blocklist_expected and not real


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.toml"))


def load_profile(name_or_path: str) -> Profile:
    """Load a bundled profile by name, or a profile file by path."""
    if not name_or_path or not isinstance(name_or_path, str):
        raise ProfileError(
            f"POLICY_PROFILE must be a profile name or a file path, not {name_or_path!r}"
        )
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.is_file():
        path = candidate
    else:
        path = PROFILES_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            raise ProfileError(
                f"Unknown policy profile {name_or_path!r}; available: "
                f"{', '.join(available_profiles())} (or give the path of a .toml file)"
            )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"Cannot read policy profile {path}: {exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"Policy profile {path} is not valid TOML: {exc}") from exc
    return _build(path, raw, data)


def _strings(path: Path, data: dict, key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(f"Policy profile {path}: '{key}' must be a list of strings")
    return tuple(value)


def _table(path: Path, data: dict, key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ProfileError(f"Policy profile {path}: [{key}] must be a table")
    return value


def _build(path: Path, raw: bytes, data: dict) -> Profile:
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        raise ProfileError(f"Policy profile {path}: unknown keys {sorted(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError(f"Policy profile {path}: 'name' must be a non-empty string")
    honoured = set()
    for reason, enabled in _table(path, data, "reservations").items():
        if reason not in SIGNAL_REASONS:
            raise ProfileError(
                f"Policy profile {path}: [reservations] {reason!r} is not a reason a profile can "
                f"switch; known: {sorted(SIGNAL_REASONS)}"
            )
        if not isinstance(enabled, bool):
            raise ProfileError(
                f"Policy profile {path}: [reservations] {reason} must be true or false"
            )
        if enabled:
            honoured.add(reason)
    fail_closed = _table(path, data, "fail_closed")
    unknown = set(fail_closed) - {"policy_files"}
    if unknown or not isinstance(fail_closed.get("policy_files", True), bool):
        raise ProfileError(f"Policy profile {path}: [fail_closed] takes one boolean, policy_files")
    lenient = data.get("lenient_reservations", False)
    if not isinstance(lenient, bool):
        raise ProfileError(f"Policy profile {path}: 'lenient_reservations' must be true or false")
    blocklist_expected = data.get("blocklist_expected", False)
    if not isinstance(blocklist_expected, bool):
        raise ProfileError(f"Policy profile {path}: 'blocklist_expected' must be true or false")
    fetch = _strings(path, _table(path, data, "evidence"), "fetch")
    if set(fetch) - EVIDENCE_DOCUMENTS:
        raise ProfileError(
            f"Policy profile {path}: [evidence] fetch {sorted(set(fetch) - EVIDENCE_DOCUMENTS)} "
            f"unknown; known: {sorted(EVIDENCE_DOCUMENTS)}"
        )
    review = set(_strings(path, data, "review"))
    wrong = sorted((review - SIGNAL_REASONS) | (review & honoured))
    if wrong:
        raise ProfileError(
            f"Policy profile {path}: 'review' takes reason codes of signals the profile does not "
            f"honour (known: {sorted(SIGNAL_REASONS)}), not {wrong}"
        )
    blocklists = []
    for entry in _strings(path, data, "blocklists"):
        candidate = (BLOCKLISTS_DIR / entry) if not Path(entry).is_absolute() else Path(entry)
        if not candidate.is_file():
            raise ProfileError(
                f"Policy profile {path}: blocklist {entry!r} not found (looked at {candidate})"
            )
        blocklists.append(candidate)
    return Profile(
        name=name,
        title=str(data.get("title", name)),
        sha256=hashlib.sha256(raw).hexdigest(),
        path=path,
        honoured=frozenset(honoured),
        policy_files_fail_closed=fail_closed.get("policy_files", True),
        fetch=frozenset(fetch),
        lenient_reservations=lenient,
        blocklist_expected=blocklist_expected,
        blocklists=tuple(blocklists),
        review=frozenset(review),
        jurisdiction=str(data.get("jurisdiction", "")),
        purpose=str(data.get("purpose", "")),
        description=str(data.get("description", "")).strip(),
        legal_basis=_strings(path, data, "legal_basis"),
        sources=_strings(path, data, "sources"),
    )
