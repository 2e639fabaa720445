"""Cloudflare Content Signals: `Content-Signal: search=yes, ai-train=no, ai-input=no[, use=…]`.

Found in a robots.txt group (scoped by group placement only) and, from Cloudflare's CDN, as a
response header. No grammar is published: comma-separated `key=value` pairs, keys and values
compared as written; an absent key "neither grants nor restricts"; unknown keys are recorded and
ignored. Several statements combine most-restrictive-first. `ai-train=No` or `AI-Train=no` is not
what the keys and values say (unknown), but carries `lenient_reason` for profiles that read
recognisable but non-conforming reservations as reservations.
"""

from __future__ import annotations

from collections.abc import Iterable

from policies import reasons
from policies.evidence import Signal
from policies.signals.content_usage import lenient_reservation

TRAINING = "ai-train"
KNOWN_KEYS = frozenset({"search", "ai-input", "ai-train", "use"})


def parse(value: str) -> tuple[dict[str, str], tuple[str, ...]]:
    stated, problems = {}, []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, setting = part.partition("=")
        key, setting = key.strip(), setting.strip()
        if not sep or key not in KNOWN_KEYS:
            problems.append(f"{part!r}: not a known content signal; ignored")
            continue
        stated[key] = setting
    return stated, tuple(problems)


def _combine(kind: str, source: str, values: list[str]) -> Signal | None:
    if not values:
        return None
    settings, problems = [], []
    for value in values:
        stated, found = parse(value)
        problems.extend(found)
        if TRAINING in stated:
            settings.append(stated[TRAINING])
    raw = " | ".join(values)
    if "no" in settings:
        return Signal(
            kind, source, raw, "reserved", reasons.CONTENT_SIGNAL_RESERVED, problems=tuple(problems)
        )
    if "yes" in settings:
        return Signal(kind, source, raw, "not_reserved", problems=tuple(problems))
    if any(lenient_reservation(value) for value in values):
        problems.append("non-conforming, but recognisably withholds AI training")
        return Signal(kind, source, raw, "unknown", problems=tuple(problems),
                      lenient_reason=reasons.CONTENT_SIGNAL_RESERVED)  # fmt: skip
    return Signal(kind, source, raw, "unknown", problems=tuple(problems))


def robots_signal(values: list[str], source: str) -> Signal | None:
    return _combine("content-signal-robots", source, values)


def header_signal(headers: Iterable[tuple[str, str]]) -> Signal | None:
    values = [value for name, value in headers if name.lower() == "content-signal"]
    return _combine("content-signal-header", "header:content-signal", values)
