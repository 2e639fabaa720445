"""RSL 1.0 (Really Simple Licensing): licence documents that permit or prohibit AI uses.

`<rsl><content url="…" [server="…"]><license><permits|prohibits type="usage">tokens</…></license>
</content></rsl>` in the namespace `https://rslstandard.org/rsl`. `content/@url` is a full URL or a
robots-style path pattern; the longest matching pattern applies. A `server` attribute means a
licence must be obtained from that server before use, even a free one: read as reserved until a
licence is held. The normative token list was not available (SIGNALS.md §4): both `train-ai`
(AIPREF) and `ai-train` name training, and `all` / `ai-all` cover it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from policies import reasons
from policies.evidence import Signal, unread_signal
from policies.signals.path_pattern import compile_pattern, url_path
from policies.signals.xml_reader import local_name, read_xml

TRAINING_TOKENS = frozenset({"train-ai", "ai-train", "all", "ai-all", "train-genai"})
MAX_BYTES = 4 * 1024 * 1024  # real licences are a few KB; past this: policy-error, not "no terms"
NO_MATCH = "no content element matches"  # the licence does not cover this URL


def _tokens(text: str | None) -> set[str]:
    return {t for t in (text or "").replace(",", " ").split() if t}


def rsl_signal(
    url: str, xml: str | bytes, *, source: str = "rsl", record_id: str | None = None
) -> Signal:
    def unknown(problem: str) -> Signal:
        return Signal("rsl", source, "", "unknown", evidence_record=record_id, problems=(problem,))

    reading = read_xml(xml, limit=MAX_BYTES)
    if reading.unread:  # its terms for this URL are unknown: never read as "no terms"
        return unread_signal("rsl", source, reading.unread, record_id=record_id)
    root = reading.root
    if root is None:
        return unknown("; ".join(reading.problems))
    target, path = urlsplit(url), url_path(url)
    best: tuple[int, Any] | None = None
    for content in root.iter():
        if local_name(content.tag)[1] != "content":
            continue
        scope = content.get("url") or ""
        try:
            parts = urlsplit(scope)
        except ValueError:  # a malformed URL scopes nothing
            continue
        if parts.scheme:  # a full URL: same origin, then its path as a pattern
            if (parts.scheme, parts.netloc) != (target.scheme, target.netloc):
                continue
            scope = parts.path or "/"
        if not scope:
            continue
        pattern = compile_pattern(scope)
        if pattern.matches(path) and (best is None or pattern.octets > best[0]):
            best = (pattern.octets, content)
    if best is None:
        return unknown(NO_MATCH)
    content = best[1]
    scope = content.get("url", "")
    if content.get("server"):
        return Signal(
            "rsl",
            source,
            f"content {scope}: server={content.get('server')}",
            "reserved",
            reasons.RSL_LICENSE_REQUIRED,
            evidence_record=record_id,
        )
    prohibited, permitted = set(), set()
    for element in content.iter():
        if element.get("type", "usage") != "usage":
            continue
        if local_name(element.tag)[1] == "prohibits":
            prohibited |= _tokens(element.text)
        elif local_name(element.tag)[1] == "permits":
            permitted |= _tokens(element.text)
    value = f"content {scope}: permits {sorted(permitted)} prohibits {sorted(prohibited)}"
    if prohibited & TRAINING_TOKENS:
        return Signal(
            "rsl", source, value, "reserved", reasons.RSL_RESERVED, evidence_record=record_id
        )
    if permitted & TRAINING_TOKENS:
        return Signal("rsl", source, value, "not_reserved", evidence_record=record_id)
    return Signal("rsl", source, value, "unknown", evidence_record=record_id)
