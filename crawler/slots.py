"""Per-origin pacing through Scrapy's own downloader slots.

Scrapy keys slots by host name; a delay set here holds for every later request to that host, and
AutoThrottle is told not to lower it (`autothrottle_dont_adjust_delay`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


def slow_down(crawler: Crawler, request: Request, delay: float) -> None:
    """Make the slot of `request` wait at least `delay` seconds between requests."""
    request.meta["autothrottle_dont_adjust_delay"] = True
    engine = crawler.engine
    downloader = getattr(engine, "downloader", None)
    if downloader is None:
        return
    key = downloader.get_slot_key(request)
    per_slot = getattr(downloader, "per_slot_settings", None)
    if per_slot is not None:  # for the slot Scrapy creates later
        settings = per_slot.setdefault(key, {})
        settings["delay"] = max(settings.get("delay", 0.0), delay)
        settings["jitter"] = 0.0
    slot = downloader.slots.get(key)
    if slot is not None and slot.delay < delay:
        slot.delay = delay
    # RANDOMIZE_DOWNLOAD_DELAY would wait 0.5-1.5 times the delay: a minimum must stay a minimum.
    if slot is not None and hasattr(slot, "jitter"):
        slot.jitter = 0.0
    elif slot is not None and hasattr(slot, "randomize_delay"):  # Scrapy < 2.19
        slot.randomize_delay = False
