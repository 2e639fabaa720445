"""Announce a decision: stats, log, and the `decision_made` signal the pipelines record."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NoReturn

from scrapy.exceptions import IgnoreRequest

from crawler.signals import decision_made
from policies import reasons
from policies.engine import decide
from policies.evidence import Decision

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

    from policies.profile import Profile

logger = logging.getLogger(__name__)


class ExcludedByPolicy(IgnoreRequest):
    """IgnoreRequest that carries the decision, so later handlers know it was already recorded."""

    def __init__(self, decision: Decision):
        super().__init__(f"Excluded {decision.url}: {', '.join(decision.reasons)}")
        self.decision = decision


def count_decision(crawler: Crawler, decision: Decision) -> None:
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


_REDIRECTS_RECORDED = "rightscrawl_redirects_recorded"


def record_redirect_sources(crawler: Crawler, request: Request, profile: Profile) -> None:
    """Record a decision for each URL that redirected to `request` and has none yet.

    Called when the redirect target reaches the gate or is dropped as a duplicate, so a source
    URL gets its row whatever happens to the target. Copies of the request (retries) carry the
    count of sources already recorded, so no source is recorded twice.
    """
    sources = request.meta.get("redirect_urls") or []
    done = request.meta.get(_REDIRECTS_RECORDED, 0)
    if len(sources) <= done:
        return
    targets = [*sources[1:], request.url]
    for source, target in list(zip(sources, targets, strict=True))[done:]:
        announce_exclusion(
            crawler,
            decide(
                source,
                (),
                profile=profile,
                stage="after-fetch",
                extra_reasons=(reasons.REDIRECTED,),
                detail={"location": target},
            ),
        )
    request.meta[_REDIRECTS_RECORDED] = len(sources)
