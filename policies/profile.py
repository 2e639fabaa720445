"""Policy profiles: which signals a crawl treats as reservations, loaded from TOML files.

A profile is data, pinned by the sha256 of its file so every decision names exactly the rules it
was made under. An unknown name or an invalid file raises `ProfileError` — the crawl must not start
with a gate it cannot explain.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from policies import reasons
from policies.evidence import PolicyRef

PROFILES_DIR = Path(__file__).parent / "profiles"

# Reason codes a profile may switch off. The robots.txt rules for our own token, fetch failures
# and lawful-access refusals are not negotiable, whatever the profile says.
OPTIONAL_REASONS = frozenset(
    {
        reasons.TDM_RESERVATION_HEADER,
        reasons.TDM_RESERVATION_META,
        reasons.NOAI_HEADER,
        reasons.NOAI_META,
    }
)
_KNOWN_KEYS = {"name", "title", "description", "legal_basis", "sources", "reservations"}


class ProfileError(ValueError):
    """A profile name that does not exist, or a profile file that is not valid."""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    title: str
    sha256: str
    path: Path
    honoured: frozenset[str]  # reason codes from OPTIONAL_REASONS that exclude under this profile

    @property
    def ref(self) -> PolicyRef:
        return PolicyRef(profile=self.name, sha256=self.sha256)

    def honours(self, reason: str) -> bool:
        return reason not in OPTIONAL_REASONS or reason in self.honoured


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


def _build(path: Path, raw: bytes, data: dict) -> Profile:
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        raise ProfileError(f"Policy profile {path}: unknown keys {sorted(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError(f"Policy profile {path}: 'name' must be a non-empty string")
    reservations = data.get("reservations", {})
    if not isinstance(reservations, dict):
        raise ProfileError(f"Policy profile {path}: [reservations] must be a table")
    honoured = set()
    for reason, enabled in reservations.items():
        if reason not in OPTIONAL_REASONS:
            raise ProfileError(
                f"Policy profile {path}: [reservations] {reason!r} is not a reason a profile can "
                f"switch; known: {sorted(OPTIONAL_REASONS)}"
            )
        if not isinstance(enabled, bool):
            raise ProfileError(
                f"Policy profile {path}: [reservations] {reason} must be true or false"
            )
        if enabled:
            honoured.add(reason)
    return Profile(
        name=name,
        title=str(data.get("title", name)),
        sha256=hashlib.sha256(raw).hexdigest(),
        path=path,
        honoured=frozenset(honoured),
    )
