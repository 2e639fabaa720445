"""IETF AIPREF `Content-Usage` (draft-ietf-aipref-vocab-07, draft-ietf-aipref-attach-05).

The value is an RFC 9651 Dictionary of Tokens `y`/`n`. Anything else for a key — a string, a
boolean, another token — leaves that category unknown; a value that is not a valid Dictionary at
all (uppercase keys, trailing comma) leaves every category unknown. Repeated header lines combine
into one Dictionary, where the last duplicate key wins. In robots.txt, rules may carry a path; the
longest matching path applies and identical paths combine "most restrictive first".

Publishers write it wrong (`Train-AI=n`, `train-ai=No`) or in an earlier draft's vocabulary
(`train-genai=n`, `tdm=n`, `bots=n`). Those stay unknown, as the draft says, but the signal carries
`lenient_reason`: a profile with `lenient_reservations` reads them as the reservation they mean.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import http_sf

from policies import reasons
from policies.evidence import Signal
from policies.signals.path_pattern import compile_pattern, url_path

TRAINING = "train-ai"
# Labels of earlier drafts still deployed; under vocab-07 they are unknown and ignored.
LEGACY_LABELS = frozenset(
    {"all", "ai", "genai", "tdm", "bots", "train-genai", "ai-use", "ai-output"}
)


# Labels that, set to "no", recognisably withhold AI training: vocab-07's own, and those of
# vocab-01..04 whose category contains training (SIGNALS.md §2.1), and Content-Signal's spelling.
LENIENT_TRAINING_LABELS = frozenset(
    {"train-ai", "train-genai", "ai", "genai", "tdm", "all", "bots", "ai-train", "ai-training"}
)
LENIENT_NO = frozenset({"n", "no", "false", "?0", "0"})


def lenient_reservation(value: str) -> bool:
    """Whether `value`, read without the grammar (any case, `;` or `,`, quotes, no/false),
    withholds AI training."""
    for part in value.replace(";", ",").split(","):
        key, sep, stated = part.partition("=")
        key = key.strip().strip("\"'").lower().replace("_", "-")
        stated = stated.strip().strip("\"'").lower()
        if sep and key in LENIENT_TRAINING_LABELS and stated in LENIENT_NO:
            return True
    return False


def parse_preferences(value: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """{category: "y"|"n"} for the categories stated validly, and the problems found."""
    try:
        parsed = http_sf.parse(value.encode("utf-8", "replace"), tltype="dictionary")
    except Exception as exc:  # noqa: BLE001 - any parse failure means "nothing stated"
        return {}, (f"not a structured-field dictionary: {exc}",)
    preferences, problems = {}, []
    for key, member in parsed.items():
        item = member[0] if isinstance(member, tuple) else member
        if isinstance(item, http_sf.Token) and str(item) in ("y", "n"):
            preferences[key] = str(item)
        else:
            problems.append(f"{key}: {item!r} is not the token y or n; unknown")
        if key in LEGACY_LABELS:
            problems.append(f"{key}: label of an earlier AIPREF draft, ignored under vocab-07")
    return preferences, tuple(problems)


def _signal(
    kind: str, source: str, value: str, preferences: dict[str, str], problems, lenient: bool
) -> Signal:
    stated = preferences.get(TRAINING)
    if stated == "n":
        return Signal(
            kind, source, value, "reserved", reasons.CONTENT_USAGE_RESERVED, problems=problems
        )
    if stated == "y":
        return Signal(kind, source, value, "not_reserved", problems=problems)
    if lenient:
        problems = (*problems, "non-conforming, but recognisably withholds AI training")
        return Signal(kind, source, value, "unknown", problems=problems,
                      lenient_reason=reasons.CONTENT_USAGE_RESERVED)  # fmt: skip
    return Signal(kind, source, value, "unknown", problems=problems)


def header_signal(headers: Iterable[tuple[str, str]]) -> Signal | None:
    values = [value for name, value in headers if name.lower() == "content-usage"]
    if not values:
        return None
    combined = ", ".join(values)  # RFC 9110 §5.3
    preferences, problems = parse_preferences(combined)
    return _signal(
        "content-usage-header",
        "header:content-usage",
        combined,
        preferences,
        problems,
        lenient_reservation(combined),
    )


@dataclass(frozen=True, slots=True)
class UsageRule:
    path: str | None  # None: applies to every path of the group
    preferences: dict[str, str]
    raw: str


@lru_cache(maxsize=4096)  # asked for every URL of an origin: parse each rule once
def parse_rule(value: str) -> tuple[UsageRule, tuple[str, ...]]:
    """`[path SP] preferences` (attach-05 §5): a value starting with `/` begins with a path."""
    value = value.strip()
    path = None
    if value.startswith("/"):
        cut = min((i for i in (value.find(" "), value.find("\t")) if i >= 0), default=len(value))
        path, value = value[:cut], value[cut:].strip()
    if not value:
        return UsageRule(path, {}, value), ("no preference stated",)
    preferences, problems = parse_preferences(value)
    return UsageRule(path, preferences, value), problems


def robots_signal(rule_values: Iterable[str], url: str, source: str) -> Signal | None:
    """The Content-Usage of `url` from the rules of the group that applies to us."""
    path = url_path(url)
    matching: list[tuple[int, UsageRule, tuple[str, ...]]] = []
    for value in rule_values:
        rule, problems = parse_rule(value)
        if rule.path is None:
            matching.append((0, rule, problems))
        else:
            pattern = compile_pattern(rule.path)
            if pattern.matches(path):
                matching.append((pattern.octets, rule, problems))
    if not matching:
        return None
    longest = max(octets for octets, _, _ in matching)
    chosen = [(rule, problems) for octets, rule, problems in matching if octets == longest]
    preferences: dict[str, str] = {}
    for rule, _ in chosen:  # identical paths: most restrictive per category
        for key, stated in rule.preferences.items():
            preferences[key] = "n" if "n" in (stated, preferences.get(key)) else stated
    raw = "; ".join(f"{rule.path + ' ' if rule.path else ''}{rule.raw}" for rule, _ in chosen)
    problems = tuple(p for _, ps in chosen for p in ps)
    lenient = any(lenient_reservation(rule.raw) for rule, _ in chosen)
    return _signal("content-usage-robots", source, raw, preferences, problems, lenient)
