"""Spawning `ai.txt`: robots.txt syntax at `/ai.txt`, `Disallow` = may not be used for AI training.

No formal specification exists (SIGNALS.md §6); read as robots.txt: the group for our token or `*`,
longest matching rule wins, `Allow` wins ties. A matching `Allow` is an explicit permission; no
matching rule, or no file, says nothing.
"""

from __future__ import annotations

from policies import reasons
from policies.evidence import Signal
from policies.signals.path_pattern import compile_pattern, url_path
from policies.signals.robots_records import RobotsRecords


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
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    records = RobotsRecords.parse(text)
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
