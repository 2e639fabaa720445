"""The identity of one crawl run, shared by every component of that crawler."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from crawler import PRODUCT_TOKEN, __version__
from policies.profile import Profile, load_profile

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

_ATTRIBUTE = "_rightscrawl_run"


@dataclass(frozen=True, slots=True)
class CrawlRun:
    id: str
    started_at: datetime
    profile: Profile
    token: str
    user_agent: str
    contact: str | None
    version: str = __version__


def crawl_run(crawler: Crawler) -> CrawlRun:
    """The run of this crawler, created on first use; raises ProfileError for a bad profile."""
    run = getattr(crawler, _ATTRIBUTE, None)
    if run is None:
        settings = crawler.settings
        run = CrawlRun(
            id=str(uuid.uuid4()),
            started_at=datetime.now(UTC),
            profile=load_profile(settings.get("POLICY_PROFILE", "strict")),
            token=PRODUCT_TOKEN,
            user_agent=settings.get("USER_AGENT"),
            contact=settings.get("CRAWLER_CONTACT") or None,
        )
        setattr(crawler, _ATTRIBUTE, run)
    return run
