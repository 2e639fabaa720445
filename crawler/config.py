"""Typed reads of rightscrawl's settings that fail with a message naming the setting.

An invalid compliance or output setting stops the crawl before the first request; it never
quietly disables a component.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.addons import AddonManager
from scrapy.commands import ScrapyCommand
from scrapy.settings import SETTINGS_PRIORITIES

from crawler.contracts import SettingError

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


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


# Our settings' prefixes: a name with one of them that no component reads is a typo.
OUR_PREFIXES = (
    "WARC_", "PROVENANCE_", "POLICY_", "POLITENESS_", "RENDER_", "RECRAWL_", "DISTRIBUTED_",
    "CRAWLER_", "ALLOW_PRIVATE_", "COLLECT_", "SUMMARY_", "RSL_",
)  # fmt: skip


def _typed_read(settings: BaseSettings, name: str, default: Any, *, whole: bool) -> None:
    """Read `name` as its default's type; a value that is not one names the setting. `whole`:
    an int default means a whole number (ours); Scrapy's int defaults include delays (0)."""
    if type(default) is bool:
        read, wanted = settings.getbool, "true or false"
    elif type(default) is int and whole:
        read, wanted = settings.getint, "a whole number"
    elif type(default) in (int, float):
        read, wanted = settings.getfloat, "a number"
    else:
        return
    try:
        read(name)
    except (TypeError, ValueError):
        raise SettingError(f"Setting {name} must be {wanted}, not {settings.get(name)!r}") from None


def validate(settings: BaseSettings, known: dict[str, Any]) -> None:
    """Fail on a setting given with a value of the wrong type (ALLOW_PRIVATE_ADDRESSES=ture,
    WARC_MAX_SIZE=1GB, DOWNLOAD_DELAY=fast), and on an unknown name with one of our prefixes
    (POLICY_PROFLE), with a suggestion. `known`: our defaults; Scrapy's are its own module's."""
    from difflib import get_close_matches

    from scrapy.settings import default_settings

    defaults = {
        name: getattr(default_settings, name) for name in dir(default_settings) if name.isupper()
    }
    defaults.update(known)
    for name in list(settings.attributes):
        if (settings.getpriority(name) or 0) <= SETTINGS_PRIORITIES["default"]:
            continue  # a default: right by construction
        if name in defaults:
            _typed_read(settings, name, defaults[name], whole=name in known)
        elif name.startswith(OUR_PREFIXES):
            close = get_close_matches(name, [n for n in known if n.startswith(OUR_PREFIXES)], 1)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise SettingError(f"Unknown setting {name}.{hint}")


def user_errors() -> tuple[type[Exception], ...]:
    """Exceptions that are a user's mistake (a setting, a seed, a profile, a registry file):
    shown as one line, never as a traceback."""
    from crawler.spiders.corpus import SeedError
    from policies.profile import ProfileError
    from policies.registry import RegistryError

    return (SettingError, SeedError, ProfileError, RegistryError)


def report_start_failure(started: Any) -> None:
    """Print a crawl's start failure that is a user's mistake as one line on stderr.

    `started` is what `CrawlerProcess.crawl` returns: an asyncio Task or a Twisted Deferred.
    Retrieving the exception here also keeps asyncio from printing its traceback."""
    import sys

    def show(exc: BaseException) -> bool:
        if isinstance(exc, user_errors()):
            print(f"rightscrawl: error: {exc}", file=sys.stderr, flush=True)
            return True
        return False

    if hasattr(started, "add_done_callback"):

        def done(task: Any) -> None:
            if not task.cancelled() and task.exception() is not None:
                exc = task.exception()
                if not show(exc):  # a bug: the traceback is wanted
                    import logging

                    logging.getLogger(__name__).error(
                        "The crawl failed to start", exc_info=(type(exc), exc, exc.__traceback__)
                    )

        started.add_done_callback(done)
    elif hasattr(started, "addErrback"):

        def failed(failure: Any) -> Any:
            return None if show(failure.value) else failure

        started.addErrback(failed)


class OfflineCommand(ScrapyCommand):
    """A command that reads the output without crawling (verify, audit, export, db …).

    Scrapy calls the add-ons only when a crawler starts; these commands apply the add-on's
    defaults themselves, so they work in any project that enables it, not only this one.
    """

    requires_project = True
    requires_crawler_process = False

    def process_options(self, args: list[str], opts: Any) -> None:
        super().process_options(args, opts)
        AddonManager.load_pre_crawler_settings(self.settings)
