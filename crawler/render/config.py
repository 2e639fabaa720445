"""Turn rendering on: the browser download handler, the system browser, its context options.

Called by the add-on's `update_settings`, after every settings source, so `-s RENDER_JS=true`
and `-a render=js` (the crawl command turns it into `RENDER_JS`; `-a render=auto` into
`RENDER_AUTO`, crawler/render/auto.py) both work. With rendering off
nothing here runs and Scrapy's own HTTP handler fetches everything.

The browser is the system Chromium (Debian's `chromium`, or one `playwright install chromium`
downloaded), found once here: a crawl asked to render without a browser stops before the first
request, with a message saying what to install or set.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import TYPE_CHECKING

from crawler.contracts import SettingError
from crawler.render.auto import DEFAULTS as AUTO_DEFAULTS
from crawler.render.auto import AutoHeuristic

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

HANDLER = "crawler.render.handler.RenderingDownloadHandler"
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WAIT_UNTIL = ("commit", "domcontentloaded", "load", "networkidle")

DEFAULTS = {
    "RENDER_JS": False,
    "RENDER_URL_PATTERNS": [],
    "RENDER_BROWSER_PATH": None,
    "RENDER_THIRD_PARTY_MEDIA": False,
    "RENDER_KEEP_SUBRESOURCES": False,
    "RENDER_TIMEOUT": 30.0,
    "RENDER_WAIT_UNTIL": "load",
    **AUTO_DEFAULTS,
}


class BrowserNotFound(SettingError):
    """Rendering was asked for and no browser can be started."""


def rendering_enabled(settings: BaseSettings) -> bool:
    return (
        settings.getbool("RENDER_JS")
        or settings.getbool("RENDER_AUTO")
        or bool(settings.getlist("RENDER_URL_PATTERNS"))
    )


def url_patterns(settings: BaseSettings) -> list[re.Pattern[str]]:
    patterns = []
    for pattern in settings.getlist("RENDER_URL_PATTERNS"):
        try:
            patterns.append(re.compile(pattern))
        except re.error as exc:
            raise SettingError(
                f"Setting RENDER_URL_PATTERNS: {pattern!r} is not a regular expression ({exc})"
            ) from None
    return patterns


def find_browser(configured: str | None) -> str:
    """The path of the browser to launch: RENDER_BROWSER_PATH, or the first Chromium on PATH."""
    if configured:
        path = shutil.which(configured) or configured
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise BrowserNotFound(
                f"Setting RENDER_BROWSER_PATH: no executable browser at {configured!r}"
            )
        return path
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserNotFound(
        "Rendering (RENDER_JS / RENDER_AUTO / RENDER_URL_PATTERNS / -a render=js|auto) needs "
        f"Chromium, and none was found on PATH ({', '.join(BROWSER_NAMES)}). Install it (Debian/Ubuntu: "
        "`apt-get install chromium`; elsewhere `playwright install chromium`) or set "
        "RENDER_BROWSER_PATH to its executable."
    )


def configure(settings: BaseSettings) -> None:
    """Install the rendering download handler when rendering is on (a no-op otherwise)."""
    for name, value in DEFAULTS.items():
        settings.setdefault(name, value)
    if not rendering_enabled(settings):
        return
    # Marks pages for the browser, after the gate (access guard 90, origin policy 100).
    settings["DOWNLOADER_MIDDLEWARES"]["crawler.render.middleware.RenderMiddleware"] = 105
    if settings.getbool("RENDER_AUTO"):
        if settings.getbool("RENDER_JS"):
            raise SettingError(
                "Settings RENDER_JS and RENDER_AUTO are both on: render every page (js) or "
                "only those that need it (auto), not both"
            )
        AutoHeuristic.from_settings(settings)  # a bad threshold stops the crawl here
        # On the way back: after the kind (115), before the response policy (110) decides.
        settings["DOWNLOADER_MIDDLEWARES"]["crawler.render.auto.AutoRenderMiddleware"] = 112
    url_patterns(settings)  # a bad pattern stops the crawl here, not at the first page
    wait_until = settings.get("RENDER_WAIT_UNTIL")
    if wait_until not in WAIT_UNTIL:
        raise SettingError(
            f"Setting RENDER_WAIT_UNTIL must be one of {', '.join(WAIT_UNTIL)}, not {wait_until!r}"
        )
    try:
        timeout = settings.getfloat("RENDER_TIMEOUT")
    except (TypeError, ValueError):
        timeout = -1.0
    if timeout <= 0:
        raise SettingError(
            f"Setting RENDER_TIMEOUT must be a positive number of seconds, "
            f"not {settings.get('RENDER_TIMEOUT')!r}"
        )
    try:
        import scrapy_playwright  # noqa: F401
    except ImportError:
        raise SettingError(
            "Rendering needs scrapy-playwright: pip install 'rightscrawl[browser]'"
        ) from None
    executable = find_browser(settings.get("RENDER_BROWSER_PATH"))
    handlers = settings.getdict("DOWNLOAD_HANDLERS")
    handlers.update({"http": HANDLER, "https": HANDLER})
    settings.set("DOWNLOAD_HANDLERS", handlers, priority="addon")
    settings.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", priority="addon")
    launch = dict(settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
    launch["executable_path"] = executable
    launch.setdefault("headless", True)
    # Launching is bounded too: a browser that cannot start fails the page, never hangs it.
    launch.setdefault("timeout", timeout * 1000)
    settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", launch, priority="addon")
    settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", timeout * 1000, priority="addon")
    # scrapy-playwright needs the asyncio reactor (Scrapy's default since 2.13).
    settings.set(
        "TWISTED_REACTOR",
        "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        priority="addon",
    )
