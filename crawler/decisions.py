"""Announce a decision: stats, log, and the `decision_made` signal the pipelines record."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NoReturn

from scrapy.exceptions import IgnoreRequest

from crawler.contracts import decision_made

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from policies.evidence import Decision

logger = logging.getLogger(__name__)


class ExcludedByPolicy(IgnoreRequest):
    """IgnoreRequest that carries the decision, so later handlers know it was already recorded."""

    def __init__(self, decision: Decision):
        super().__init__(f"Excluded {decision.url}: {', '.join(decision.reasons)}")
        self.decision = decision


_NOTES = "_rightscrawl_decision_notes"
MAX_PENDING_NOTES = 10_000


def note_detail(crawler: Crawler, url: str, **detail: object) -> None:
    """What the decision of `url` will say in its `detail`, whoever makes it.

    Decisions are made in many places, from the URL alone; this is how they all learn what the
    request carried (its kind, the sitemap that listed it, credentials stripped from its link).
    Entries go with the decision; a request dropped undecided (off-site) leaves its entry: the
    map is bounded.
    """
    pending = getattr(crawler, _NOTES, None)
    if pending is None or len(pending) >= MAX_PENDING_NOTES:
        pending = {}
        setattr(crawler, _NOTES, pending)
    pending.setdefault(url, {}).update(detail)


def credentials_stripped(crawler: Crawler, url: str) -> None:
    """The request for `url` lost the credentials its link carried: its decision will say so."""
    note_detail(crawler, url, credentials_stripped=True)


def count_decision(crawler: Crawler, decision: Decision) -> None:
    """Count a decision (every decision passes here before it is recorded)."""
    pending = getattr(crawler, _NOTES, None)
    notes = pending.pop(decision.url, None) if pending else None
    for name, value in (notes or {}).items():
        decision.detail.setdefault(name, value)  # a fresh dict per decision
    stats = crawler.stats
    stats.inc_value(f"policy/{decision.outcome}")
    for reason in decision.reasons:
        stats.inc_value(f"policy/excluded/{reason}")


def announce_exclusion(crawler: Crawler, decision: Decision) -> None:
    """Count and log an exclusion, and send it to the pipelines that record it."""
    count_decision(crawler, decision)
    logger.debug(
        "Excluded %(url)s (%(stage)s): %(reasons)s",
        {"url": decision.url, "stage": decision.stage, "reasons": ", ".join(decision.reasons)},
    )
    crawler.signals.send_catch_log(signal=decision_made, decision=decision)


def exclude(crawler: Crawler, decision: Decision) -> NoReturn:
    """Record an exclusion and drop the request or response."""
    announce_exclusion(crawler, decision)
    raise ExcludedByPolicy(decision)
