"""Typed reads of rightscrawl's settings that fail with a message naming the setting.

An invalid compliance or output setting stops the crawl before the first request; it never
quietly disables a component.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.settings import SETTINGS_PRIORITIES

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


class SettingError(ValueError):
    """A setting whose value cannot be used."""


def positive_int(settings: BaseSettings, name: str) -> int:
    try:
        value = settings.getint(name)
    except (TypeError, ValueError):
        raise SettingError(
            f"Setting {name} must be a whole number, not {settings.get(name)!r}"
        ) from None
    if value < 1:
        raise SettingError(f"Setting {name} must be at least 1, not {value}")
    return value


def non_negative_float(settings: BaseSettings, name: str) -> float:
    try:
        value = settings.getfloat(name)
    except (TypeError, ValueError):
        raise SettingError(f"Setting {name} must be a number, not {settings.get(name)!r}") from None
    if value < 0:
        raise SettingError(f"Setting {name} must not be negative, not {value}")
    return value


def force(settings: BaseSettings, name: str, value: Any) -> None:
    """Set `name` over every other source. An add-on ranks below a project's settings.py, but
    some settings are the compliance layer's to decide (no listening port, our robots.txt
    handling, a shared frontier in distributed mode)."""
    priority = max(settings.getpriority(name) or 0, SETTINGS_PRIORITIES["addon"])
    settings.set(name, value, priority=priority)


def write_nothing(settings: BaseSettings) -> None:
    """For commands that look without collecting (`policy explain`, `fetch`, `shell`): the gate
    runs as in a crawl, but no WARC file, database row or output lock is written, and no earlier
    capture is looked up (the page is fetched whole)."""
    for name in ("WARC_ENABLED", "PROVENANCE_ENABLED", "RECRAWL_ENABLED"):
        force(settings, name, False)
