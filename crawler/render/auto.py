"""`-a render=auto`: every page is fetched plainly; one whose HTML lacks what a browser would show
is then rendered in the browser from the response already received (never fetched again).

The heuristic (README "JavaScript pages"), read from the page as served, first match wins:

- `app-root-empty`: an element matching `RENDER_AUTO_APP_ROOTS` (`#root`, `#app`, `#__next` …)
  holds no visible text: a single-page application that fills it with a script;
- `noscript-fallback`: a `<noscript>` says JavaScript is needed (`RENDER_AUTO_NOSCRIPT_PATTERNS`)
  or holds at least `RENDER_AUTO_MIN_TEXT` characters of text (content the script replaces);
- `little-text`: the page has a script and fewer than `RENDER_AUTO_MIN_TEXT` characters of
  visible text;
- `script-heavy`: its inline JavaScript is at least `RENDER_AUTO_SCRIPT_RATIO` times its visible
  text (0 turns this rule off).

Visible text: the `<body>`'s text outside `<script>`, `<style>`, `<noscript>` and `<template>`,
whitespace not counted. Inline JavaScript: the text of `<script>` elements without `src` whose
type is a JavaScript one (JSON data blocks do not count).

`AutoRenderMiddleware` (112) runs on the way back after the kind (115) and before the response
policy (110): only a 2xx HTML page that the response policy would keep as served (asked without
recording: `ResponsePolicyMiddleware.decide`) is rendered, so a reserved page never reaches the
browser. The rendering goes through the browser gate like any (crawler/render/gate.py), the
response policy then decides on the response and the DOM together, the render middleware (105)
gives the spider the DOM, and the capture middleware (50) keeps the response as received with
the DOM as its `conversion` record — the same records as `-a render=js`.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cssselect import HTMLTranslator, SelectorError
from lxml import etree
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse

from crawler import meta
from crawler.contracts import SettingError
from crawler.middlewares import downloader_middleware
from crawler.render.capture import rendering_store

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

    from crawler.middlewares.response_policy import ResponsePolicyMiddleware
    from crawler.render.capture import Rendering

logger = logging.getLogger(__name__)

APP_ROOT_EMPTY = "app-root-empty"
NOSCRIPT_FALLBACK = "noscript-fallback"
LITTLE_TEXT = "little-text"
SCRIPT_HEAVY = "script-heavy"
# Why a page was rendered, in `detail.rendered.reason`: the auto rules, then the other modes'.
REASONS = (APP_ROOT_EMPTY, NOSCRIPT_FALLBACK, LITTLE_TEXT, SCRIPT_HEAVY)
RENDER_JS = "render-js"  # RENDER_JS / -a render=js: every page
URL_PATTERN = "url-pattern"  # RENDER_URL_PATTERNS matched
REQUESTED = "requested"  # the spider set meta["rightscrawl_render"] = True itself

DEFAULTS = {
    "RENDER_AUTO": False,
    "RENDER_AUTO_MIN_TEXT": 200,
    "RENDER_AUTO_SCRIPT_RATIO": 3.0,
    "RENDER_AUTO_APP_ROOTS": [
        "#root", "#app", "#__next", "#__nuxt", "#svelte", "[ng-app]", "[data-reactroot]",
    ],
    "RENDER_AUTO_NOSCRIPT_PATTERNS": [
        r"(?i)\b(enable|turn on|activate|allow|requires?|needs?)\b\W+(\w+\W+){0,4}?javascript",
        r"(?i)javascript\W+(\w+\W+){0,4}?(required|disabled|needed|must be (enabled|on))",
    ],
}  # fmt: skip

_SKIPPED = ("script", "style", "noscript", "template")
_JS_TYPES = ("", "text/javascript", "application/javascript", "module", "text/ecmascript",
             "application/ecmascript", "application/x-javascript")  # fmt: skip


_SELECTOR_NAMES = re.compile(r"[#.]([\w-]+)|\[\s*([\w-]+)")


def _needed_names(selector: str) -> tuple[bytes, ...]:
    if ":not(" in selector or "," in selector:
        return ()
    return tuple((m[1] or m[2]).lower().encode() for m in _SELECTOR_NAMES.finditer(selector))


_SPACES = (" ", "\n", "\t", "\r", "\f", "\xa0")


def _chars(text: str) -> int:
    """Characters of `text`, whitespace not counted."""
    return len(text) - sum(text.count(c) for c in _SPACES)


def _text_of(element: etree._Element) -> str:
    """The text of `element` and its descendants (not comments, not its own tail)."""
    return etree.tostring(element, method="text", encoding=str, with_tail=False)


@dataclass(frozen=True, slots=True)
class Verdict:
    reason: str | None  # None: the page as served shows its content
    text: int  # visible text, characters
    script: int  # inline JavaScript, characters

    @property
    def measured(self) -> dict[str, int]:
        return {"text": self.text, "script": self.script}


class AutoHeuristic:
    """Whether a page as served needs a browser to show its content (the module's rules)."""

    def __init__(
        self,
        *,
        min_text: int,
        script_ratio: float,
        app_roots: list[str],
        noscript_patterns: list[str],
    ):
        self.min_text = min_text
        self.script_ratio = script_ratio
        self.app_roots = app_roots
        self.noscript_patterns = [re.compile(p) for p in noscript_patterns]
        translator = HTMLTranslator()
        # Each selector with the names it needs in the page's source (#id, .class, [attribute]):
        # a page that lacks one is not searched for it (an XPath search walks the whole tree).
        # A selector with a negation (`:not(.x)`) or a list (`a, b`) needs none of its names.
        self._roots = [
            (
                etree.XPath(translator.css_to_xpath(selector)),
                _needed_names(selector),
            )
            for selector in app_roots
        ]

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """The heuristic the settings describe; a bad value raises SettingError naming it."""
        min_text = settings.getint("RENDER_AUTO_MIN_TEXT")
        if min_text < 0:
            raise SettingError(f"Setting RENDER_AUTO_MIN_TEXT must be 0 or more, not {min_text}")
        ratio = settings.getfloat("RENDER_AUTO_SCRIPT_RATIO")
        if not ratio >= 0:  # also NaN
            raise SettingError(
                f"Setting RENDER_AUTO_SCRIPT_RATIO must be 0 (off) or more, not {ratio}"
            )
        roots = [s.strip() for s in settings.getlist("RENDER_AUTO_APP_ROOTS") if s.strip()]
        for selector in roots:
            try:
                HTMLTranslator().css_to_xpath(selector)
            except SelectorError as exc:
                raise SettingError(
                    f"Setting RENDER_AUTO_APP_ROOTS: {selector!r} is not a CSS selector ({exc})"
                ) from None
        patterns = settings.getlist("RENDER_AUTO_NOSCRIPT_PATTERNS")
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise SettingError(
                    f"Setting RENDER_AUTO_NOSCRIPT_PATTERNS: {pattern!r} is not a regular "
                    f"expression ({exc})"
                ) from None
        return cls(
            min_text=min_text, script_ratio=ratio, app_roots=roots, noscript_patterns=patterns
        )

    def verdict(self, response: HtmlResponse) -> Verdict:
        root = response.selector.root  # parsed once: the response policy reads the same tree
        body = root.find("body") if root is not None else None
        if body is None:
            return Verdict(None, 0, 0)
        text = _chars(_text_of(body))
        script = 0
        has_script = False
        noscripts = []
        for element in body.iter(*_SKIPPED):
            own = _text_of(element)
            text -= _chars(own)
            if element.tag == "noscript":
                noscripts.append(own)
        text = max(text, 0)
        for element in root.iter("script"):
            if (element.get("type") or "").strip().lower() not in _JS_TYPES:
                continue  # data (JSON, templates), not code
            has_script = True
            if element.get("src") is None:
                script += _chars(element.text or "")
        reason = None
        if self._app_root_empty(root, response.body):
            reason = APP_ROOT_EMPTY
        elif any(self._fallback(own) for own in noscripts):
            reason = NOSCRIPT_FALLBACK
        elif has_script and text < self.min_text:
            reason = LITTLE_TEXT
        elif self.script_ratio and script and script >= self.script_ratio * text:
            reason = SCRIPT_HEAVY
        return Verdict(reason, text, script)

    def _app_root_empty(self, root: etree._Element, body: bytes) -> bool:
        source = None
        for xpath, names in self._roots:
            if names:
                if source is None:
                    source = body.lower()
                if not all(name in source for name in names):
                    continue
            if any(not self._visible(element) for element in xpath(root)):
                return True
        return False

    def _fallback(self, text: str) -> bool:
        if self.min_text and _chars(text) >= self.min_text:
            return True
        return any(pattern.search(text) for pattern in self.noscript_patterns)

    @staticmethod
    def _visible(element: etree._Element) -> bool:
        """Whether an app root holds visible text (what its scripts, styles … hold does not)."""
        text = _text_of(element)
        if not text.strip():
            return False
        for skipped in element.iter(*_SKIPPED):
            text = text.replace(_text_of(skipped), "", 1)
        return bool(text.strip())


class AutoRenderMiddleware:
    """Renders, from the response received, the pages the heuristic says need it (priority 112)."""

    def __init__(self, crawler: Crawler, heuristic: AutoHeuristic):
        self.crawler = crawler
        self.heuristic = heuristic
        self.store = rendering_store(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("RENDER_AUTO"):
            raise NotConfigured("RENDER_AUTO is off")
        return cls(crawler, AutoHeuristic.from_settings(crawler.settings))

    async def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        if not request.meta.get(meta.RENDER_AUTO) or request.meta.get(meta.EVIDENCE):
            return response
        if not isinstance(response, HtmlResponse) or not 200 <= response.status < 300:
            return response
        stats = self.crawler.stats
        stats.inc_value("render/auto/checked")
        verdict = self.heuristic.verdict(response)
        if verdict.reason is None:
            return response
        policy = self._policy()
        if policy is None or not (await policy.decide(request, response)).kept:
            # Reserved (or undecidable) as served: never rendered. The response policy records
            # the exclusion as for any page.
            stats.inc_value("render/auto/not_rendered_excluded")
            return response
        renderer = getattr(self.crawler, RENDERER, None)
        if renderer is None:  # no rendering handler for this scheme: fail closed to plain
            stats.inc_value("render/auto/failed")
            return response
        started = time.monotonic()
        try:
            rendering = await renderer.render_received(request, response)
        except Exception as exc:  # the page is kept as served, with the reason in the log
            logger.warning(
                "Rendering %(url)s (%(reason)s) failed: %(error)s; kept as served",
                {"url": request.url, "reason": verdict.reason, "error": exc},
            )
            stats.inc_value("render/auto/failed")
            return response
        if rendering is None:
            stats.inc_value("render/auto/failed")
            return response
        logger.debug(
            "Rendered %(url)s (%(reason)s) in %(seconds).2f s",
            {"url": request.url, "reason": verdict.reason, "seconds": time.monotonic() - started},
        )
        stats.inc_value(f"render/auto/rendered/{verdict.reason}")
        self.store[request] = _with_reason(rendering, verdict)
        return response

    def _policy(self) -> ResponsePolicyMiddleware | None:
        """The downloader's own response policy (its registry, profile and token)."""
        from crawler.middlewares.response_policy import ResponsePolicyMiddleware

        return downloader_middleware(self.crawler, ResponsePolicyMiddleware)


RENDERER = "_rightscrawl_renderer"  # the crawler attribute naming the rendering download handler


def _with_reason(rendering: Rendering, verdict: Verdict) -> Rendering:
    return replace(rendering, reason=verdict.reason, measured=verdict.measured)
