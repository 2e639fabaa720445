"""`assess()`: the spec-level reading of every signal given for one URL, with no profile applied.

The verdict combines signals most-restrictive-first (SIGNALS.md §11): any reserved → "reserved";
else any explicit permission → "not_reserved"; else "unknown". A robots.txt disallow for the
given agent reads as "reserved" (the resource may not be collected at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from policies.evidence import Signal
from policies.signals.html_meta import extract_meta
from policies.signals.robots import RobotsTxt
from policies.signals.tdmrep import tdm_reservation_signals
from policies.signals.x_robots_tag import noai_signals

Reading = Literal["reserved", "not_reserved", "unknown"]


@dataclass(frozen=True, slots=True)
class Assessment:
    url: str
    verdict: Reading
    findings: tuple[Signal, ...]


def reading(signal: Signal) -> Reading:
    if signal.verdict in ("reserved", "disallowed"):
        return "reserved"
    if signal.verdict == "not_reserved":
        return "not_reserved"
    return "unknown"


def combine(findings: Sequence[Signal]) -> Reading:
    readings = {reading(s) for s in findings if s.reason or s.verdict == "not_reserved"}
    if "reserved" in readings:
        return "reserved"
    if "not_reserved" in readings:
        return "not_reserved"
    return "unknown"


def assess(
    url: str,
    *,
    user_agent: str = "rightscrawl",
    headers: Sequence[tuple[str, str]] = (),
    html: str | bytes | None = None,
    robots_txt: str | bytes | None = None,
    robots_status: int | str | None = None,
) -> Assessment:
    """Read what is given: response headers, the HTML document, the origin's robots.txt."""
    if isinstance(url, bytes) or not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    findings: list[Signal] = []
    if robots_status is not None or robots_txt is not None:
        body = robots_txt.encode("utf-8") if isinstance(robots_txt, str) else robots_txt
        robots = RobotsTxt.from_fetch(
            _robots_url(url), 200 if robots_status is None else robots_status, body
        )
        findings.append(robots.signal(url, user_agent))
    meta = extract_meta(html) if html else ()
    headers = [(str(name), str(value)) for name, value in headers]
    findings += tdm_reservation_signals(headers, meta)
    findings += noai_signals(headers, meta, token=user_agent)
    return Assessment(url, combine(findings), tuple(findings))


def _robots_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"
