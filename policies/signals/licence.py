"""Licence and access metadata in HTML: recorded with every capture, never a reservation by itself.

- `<link rel="license">` / `<a rel="license">` (HTML link type) and schema.org `license` in
  JSON-LD: the licence of the main content, kept as corpus metadata.
- `<link rel="license" type="application/rsl+xml">` and the HTTP header `Link: <…>; rel="license";
  type="application/rsl+xml"` (RFC 8288): the RSL licence document that states AI uses, fetched and
  read by the crawler (crawler/rsl_licences.py).
- schema.org `isAccessibleForFree: false` (on the item or a `hasPart`): paywall markup. Not a
  reservation, but a sign the full text sits behind a technological measure: lawful access says
  we do not keep it (reason `paywalled`). A block mentioning it that is too large or too deep to
  read is `policy-error`: whether the page is paywalled is unknown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from policies import reasons
from policies.evidence import Signal, unread_signal

RSL_TYPE = "application/rsl+xml"
MAX_JSON_LD = 1024 * 1024
_PAYWALL_KEY = "isAccessibleForFree"
LINK_SOURCE = "header:Link"
# RFC 8288 §3: link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param ); values separated
# by commas. A parameter value is a token or a quoted-string (which may hold commas and ";").
_LINK_VALUE = re.compile(
    r'<([^>]*)>((?:\s*;\s*[^;,="\s]+\s*(?:=\s*(?:"(?:[^"\\]|\\.)*"|[^;,"\s]*))?)*)'
)
_LINK_PARAM = re.compile(r';\s*([^;,="\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,"\s]*))?')


def link_header_licences(headers: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """RSL licences a response names in `Link` headers: `rel` holding `license` (a
    space-separated list, case-insensitive: RFC 8288 §3.3) with `type="application/rsl+xml"`.
    URI references are returned as written (relative ones resolve against the response URL)."""
    found = []
    for name, value in headers:
        if name.lower() != "link":
            continue
        for match in _LINK_VALUE.finditer(value):
            params: dict[str, str] = {}
            for param in _LINK_PARAM.finditer(match.group(2)):
                key = param.group(1).lower()
                raw = param.group(2) or ""
                if raw.startswith('"'):
                    raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                params.setdefault(key, raw)  # RFC 8288 §3.3: only the first rel counts
            rels = params.get("rel", "").lower().split()
            target = match.group(1).strip()
            if "license" in rels and params.get("type", "").strip().lower() == RSL_TYPE and target:
                found.append(target)
    return tuple(dict.fromkeys(found))


def link_header_signals(headers: Sequence[tuple[str, str]]) -> list[Signal]:
    return [
        Signal("rsl-link", LINK_SOURCE, url, "unknown") for url in link_header_licences(headers)
    ]


@dataclass(frozen=True, slots=True)
class HtmlRights:
    licences: tuple[str, ...] = ()
    rsl_documents: tuple[str, ...] = ()
    paywalled: bool = False
    problems: tuple[str, ...] = ()
    unread: str | None = None  # a JSON-LD block that mentions paywall markup was not read whole

    def signals(self) -> list[Signal]:
        found = [Signal("license", "html:rel=license", url, "unknown") for url in self.licences]
        found += [
            Signal("rsl-link", "html:link[type=rsl]", url, "unknown") for url in self.rsl_documents
        ]
        if self.paywalled:
            found.append(
                Signal(
                    "paywall",
                    "html:json-ld",
                    "isAccessibleForFree: false",
                    "unknown",
                    reasons.PAYWALLED,
                )
            )
        if self.problems and not found:
            found.append(Signal("json-ld", "html:json-ld", "", "unknown", problems=self.problems))
        if self.unread:  # paywall markup we could not read: lawful access unknown, fail closed
            found.append(unread_signal("json-ld", "html:json-ld", self.unread))
        return found


def _json_ld_items(data: Any) -> Iterator[dict]:
    if isinstance(data, list):
        for item in data:
            yield from _json_ld_items(item)
    elif isinstance(data, dict):
        yield data
        yield from _json_ld_items(data.get("@graph", []))


def _free(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("false", "true"):
        return value.strip().lower() == "true"
    return None


def rights_from_tree(root: Any) -> HtmlRights:
    if root is None:
        return HtmlRights()
    licences, rsl, problems = [], [], []
    paywalled = False
    unread = None
    for element in root.iter("link", "a"):
        rels = (element.get("rel") or "").lower().split()
        href = (element.get("href") or "").strip()
        if "license" in rels and href:
            if (element.get("type") or "").strip().lower() == RSL_TYPE:
                rsl.append(href)
            else:
                licences.append(href)
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = script.text or ""
        if len(text) > MAX_JSON_LD:
            problems.append("JSON-LD block too large: not read")
            if _PAYWALL_KEY in text:
                unread = f"JSON-LD block with {_PAYWALL_KEY} larger than {MAX_JSON_LD} bytes"
            continue
        try:
            data = json.loads(text)
        except RecursionError:
            problems.append("JSON-LD block nested too deep: not read")
            if _PAYWALL_KEY in text:
                unread = f"JSON-LD block with {_PAYWALL_KEY} nested deeper than JSON is read"
            continue
        except ValueError:
            problems.append("JSON-LD block is not valid JSON")
            continue
        for item in _json_ld_items(data):
            licence = item.get("license")
            if isinstance(licence, str):
                licences.append(licence)
            elif isinstance(licence, dict) and isinstance(
                licence.get("@id") or licence.get("url"), str
            ):
                licences.append(licence.get("@id") or licence.get("url"))
            parts = item.get("hasPart")
            parts = parts if isinstance(parts, list) else [parts] if isinstance(parts, dict) else []
            if _free(item.get("isAccessibleForFree")) is False or any(
                isinstance(p, dict) and _free(p.get("isAccessibleForFree")) is False for p in parts
            ):
                paywalled = True
    return HtmlRights(
        tuple(dict.fromkeys(licences)),
        tuple(dict.fromkeys(rsl)),
        paywalled,
        tuple(problems),
        unread,
    )
