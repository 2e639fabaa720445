"""Spawning `ai.txt`: robots.txt syntax at `/ai.txt`, `Disallow` = may not be used for AI training.

No formal specification exists (SIGNALS.md §6); read as robots.txt: the group for our token or `*`,
longest matching rule wins, `Allow` wins ties. A matching `Allow` is an explicit permission; no
matching rule, or no file, says nothing. A file larger than `MAX_BYTES` is not cut like a
robots.txt (RFC 9309 §2.5 only covers robots.txt): its late rules could reserve, so it is
`policy-error` for every URL.
"""

from __future__ import annotations

from functools import lru_cache

from policies import reasons
from policies.evidence import Signal, unread_signal
from policies.signals.path_pattern import compile_pattern, url_path
from policies.signals.robots_records import RobotsRecords

# Real files are robots.txt-sized (a few KB); 4 MiB is ~1,000 times that.
MAX_BYTES = 4 * 1024 * 1024


@lru_cache(maxsize=16)  # asked for every URL of an origin: parse each file once
def _records(text: str | bytes) -> RobotsRecords:
    # Keyed by the fetched bytes object, whose hash Python computes once.
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return RobotsRecords.parse(text)


def ai_txt_signal(
    url: str,
    text: str | bytes | None,
    status: int | str | None,
    *,
    user_agent: str,
    source: str,
    record_id: str | None = None,
) -> Signal | None:
    if text is None or not (isinstance(status, int) and 200 <= status < 300 or status is None):
        return None
    if len(text) > MAX_BYTES:
        return unread_signal(
            "ai.txt", source, f"larger than {MAX_BYTES} bytes", record_id=record_id
        )
    records = _records(text)
    path = url_path(url)
    best: tuple[int, bool, str] | None = None  # (octets, allow, rule)
    for rule_name in ("allow", "disallow"):
        for pattern_text in records.records_for(user_agent, rule_name):
            if not pattern_text:
                continue
            pattern = compile_pattern(pattern_text)
            if pattern.matches(path):
                candidate = (pattern.octets, rule_name == "allow", f"{rule_name}: {pattern_text}")
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
    if best is None:
        return None
    if best[1]:
        return Signal("ai.txt", source, best[2], "not_reserved", evidence_record=record_id)
    return Signal(
        "ai.txt", source, best[2], "reserved", reasons.AI_TXT_RESERVED, evidence_record=record_id
    )
