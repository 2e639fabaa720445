"""RSL 1.0 (Really Simple Licensing): licence documents that permit or prohibit AI uses.

`<rsl><content url="…" [server="…"]><license><permits|prohibits type="usage">tokens</…></license>
</content></rsl>` in the namespace `https://rslstandard.org/rsl`. `content/@url` is a full URL or a
robots-style path pattern; the longest matching pattern applies. A `server` attribute means a
licence must be obtained from that server before use, even a free one: read as reserved until a
licence is held. The normative token list was not available (SIGNALS.md §4): both `train-ai`
(AIPREF) and `ai-train` name training, and `all` / `ai-all` cover it.

User types. A `<content>` may hold several `<license>` elements, each for some users: RSL 1.0's
`<permits type="user">` / `<prohibits type="user">` list user classes (`commercial`,
`non-commercial`, `education`, `government`, `personal`; the spec's §3.4.1 vocabulary table was
not available to us: SIGNALS.md §4, these are the tokens RSL generators write). A licence whose
`prohibits type="user"` lists our user type, or whose `permits type="user"` exists and does not
list it, is not a licence for us. When no licence of the matching content is for us, nothing
permits our use: read as reserved (`rsl-reserved`, the value says "user type"). Usage tokens are
read from the licences that are for us only (several: most restrictive wins).
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
USER_TYPES = frozenset({"commercial", "non-commercial", "education", "government", "personal"})
# Default: the crawling party is commercial — never claim a licence granted to others only.
DEFAULT_USER_TYPE = "commercial"


def _tokens(text: str | None) -> set[str]:
    return {t.lower() for t in (text or "").replace(",", " ").split() if t}


def _terms(group: Any, kind: str) -> tuple[set[str], set[str], bool]:
    """(prohibited, permitted, any `permits` of this type) of one licence, for `kind` tokens.
    A `permits`/`prohibits` without `type` is about usage (RSL 1.0)."""
    prohibited, permitted, permits = set(), set(), False
    for element in group.iter():
        if (element.get("type") or "usage").strip().lower() != kind:
            continue
        name = local_name(element.tag)[1]
        if name == "prohibits":
            prohibited |= _tokens(element.text)
        elif name == "permits":
            permitted |= _tokens(element.text)
            permits = True
    return prohibited, permitted, permits


def for_user(group: Any, user_type: str) -> bool:
    """Whether a licence is for a user of `user_type` (its `type="user"` lists)."""
    prohibited, permitted, permits = _terms(group, "user")
    return user_type not in prohibited and (not permits or user_type in permitted)


def rsl_signal(
    url: str,
    xml: str | bytes,
    *,
    source: str = "rsl",
    record_id: str | None = None,
    user_type: str = DEFAULT_USER_TYPE,
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
    licences = [e for e in content if local_name(e.tag)[1] == "license"] or [content]
    ours = [licence for licence in licences if for_user(licence, user_type)]
    if not ours:
        return Signal(
            "rsl",
            source,
            f"content {scope}: no licence for user type {user_type}",
            "reserved",
            reasons.RSL_RESERVED,
            evidence_record=record_id,
        )
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
    for licence in ours:
        prohibits, permits, _ = _terms(licence, "usage")
        prohibited |= prohibits
        permitted |= permits
    value = f"content {scope}: permits {sorted(permitted)} prohibits {sorted(prohibited)}"
    if prohibited & TRAINING_TOKENS:
        return Signal(
            "rsl", source, value, "reserved", reasons.RSL_RESERVED, evidence_record=record_id
        )
    if permitted & TRAINING_TOKENS:
        return Signal("rsl", source, value, "not_reserved", evidence_record=record_id)
    return Signal("rsl", source, value, "unknown", evidence_record=record_id)
