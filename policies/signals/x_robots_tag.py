"""`noai` / `noimageai` in `X-Robots-Tag` and in `<meta name="robots">` or `<meta name="{token}">`.

A `bot-name:` prefix in X-Robots-Tag scopes the rules after it (Google, MDN); rules scoped to
another agent do not apply to us. Names and values compare case-insensitively.

`noai` reserves whatever carries it. `noimageai` reserves images only (DeviantArt: "images may not
be used"): on a response whose content is not an image (`image=False`) it is recorded, with verdict
unknown and the reason it does not apply; on an image, or where the type is not known
(`image=None`, as `assess()` without a Content-Type), it reserves.
"""

from __future__ import annotations

from collections.abc import Iterable

from policies import reasons
from policies.evidence import Signal
from policies.signals.html_meta import MetaTags

HEADER = "x-robots-tag"
RESERVING = frozenset({"noai", "noimageai"})
IMAGES_ONLY = "noimageai"
# Rules whose value follows a colon, so "max-snippet: 20" is not a user-agent scope.
_VALUED_RULES = frozenset(
    {"max-snippet", "max-image-preview", "max-video-preview", "unavailable_after"}
)


def _rules_for(header_value: str, token: str) -> list[str]:
    """The rules of one X-Robots-Tag line that apply to `token`."""
    applicable = []
    scope: str | None = None
    for part in header_value.split(","):
        part = part.strip()
        if not part:
            continue
        head, sep, rest = part.partition(":")
        if sep and head.strip().lower() not in _VALUED_RULES and " " not in head.strip():
            scope = head.strip().lower()
            part = rest.strip()
            if not part:
                continue
        if scope is None or scope == token.lower():
            applicable.append(part.lower())
    return applicable


def _signal(kind: str, source: str, value: str, rules: set[str], reason: str, image: bool | None):
    if "noai" in rules or image is not False:
        return Signal(kind, source, value, "reserved", reason)
    problem = f"{IMAGES_ONLY} reserves images; this response is not one"
    return Signal(kind, source, value, "unknown", problems=(problem,))


def noai_signals(
    headers: Iterable[tuple[str, str]],
    meta: MetaTags = (),
    *,
    token: str,
    image: bool | None = None,
) -> list[Signal]:
    """`image`: whether the response's content is an image (None: not known)."""
    signals = []
    for name, value in headers:
        if name.lower() != HEADER:
            continue
        found = RESERVING.intersection(_rules_for(value, token))
        if found:
            signals.append(
                _signal(
                    "x-robots-tag",
                    f"header:{name}",
                    value.strip(),
                    found,
                    reasons.NOAI_HEADER,
                    image,
                )
            )
    token = token.lower()
    for name, content in meta:
        if name not in ("robots", token):
            continue
        found = RESERVING & {rule.strip().lower() for rule in content.split(",")}
        if found:
            signals.append(
                _signal(
                    "meta-robots",
                    f"html:meta[name={name}]",
                    content,
                    found,
                    reasons.NOAI_META,
                    image,
                )
            )
    return signals
