"""The browser gate: every request a rendering page makes is decided before it leaves.

A browser fetches scripts, frames, XHR and media on its own. Each of those requests is routed
here (Playwright route interception) and refused unless the crawler itself could make it: only
http(s); no private address (unless allowed); nothing blocklisted or declared reserved; robots.txt
and the other policy documents of *its own* origin (the origin policy middleware's cache: one
fetch per origin, shared with the pages); and no image, media or font from another origin unless
`RENDER_THIRD_PARTY_MEDIA`. A refused URL gets a decision row (stage before-fetch, detail naming
the page) and never reaches the network.

The gate fetches what it allows itself (`route.fetch`) and hands the response to the browser
(`route.fulfill`), because Playwright does not route the requests a browser makes to follow a
redirect: each redirect hop is gated here instead. The page's own navigation was decided by the
downloader middlewares; it is fetched here too, without following redirects, so the response is
kept as received and a redirect goes back to Scrapy (RedirectMiddleware), which gates the target
as any other request. The page may not navigate itself elsewhere (the spider follows links), open
pop-ups or WebSockets.

    page request ─► downloader middlewares ─► RenderingDownloadHandler ─► browser page
                                                       every request ─► BrowserGate ─► network
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from playwright.async_api import Error as PlaywrightError
from scrapy.http import HtmlResponse

from crawler import meta
from crawler.contracts import WireRequest, WireResponse, crawl_run
from crawler.decisions import announce_exclusion, count_decision
from crawler.middlewares import downloader_middleware
from crawler.middlewares.access_guard import AccessGuardMiddleware
from crawler.middlewares.origin_policy import OriginPolicyMiddleware
from crawler.middlewares.politeness import PolitenessMiddleware
from crawler.render.capture import Subresource
from policies import reasons
from policies.assess import response_signals
from policies.engine import decide
from policies.evidence import AccessInfo

if TYPE_CHECKING:
    from typing import Self

    from playwright.async_api import APIResponse, Page, Route, WebSocketRoute
    from playwright.async_api import Request as BrowserRequest
    from scrapy import Request
    from scrapy.crawler import Crawler

    from policies.evidence import Decision, Signal

logger = logging.getLogger(__name__)

MEDIA_TYPES = frozenset({"image", "media", "font"})
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})  # served by the browser itself
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RENDERABLE_TYPES = ("text/html", "application/xhtml+xml")
# Request headers not carried to a redirect target: the browser sets Host and the length, and
# credentials never cross to another URL (the context's own cookie jar still applies).
_NOT_REDIRECTED = frozenset({"host", "content-length", "cookie", "authorization"})
# Response headers not handed to the browser with a body Playwright has already decoded.
_NOT_FULFILLED = frozenset({"content-length", "content-encoding", "transfer-encoding"})
MAX_RECORDED = 100_000


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True, slots=True)
class Navigation:
    """The page's own HTTP response, as the gate received it."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value.split(";", 1)[0].strip().lower()
        return ""

    @property
    def renderable(self) -> bool:
        return 200 <= self.status < 300 and self.content_type in RENDERABLE_TYPES


class NoTurn(Exception):
    """The origin's next turn comes too late for the page being rendered."""


@dataclass(eq=False)
class PageVisit:
    """One page being rendered: its Scrapy request and what the gate saw for it."""

    request: Request
    # The page's response, already received by Scrapy's downloader (`-a render=auto`): handed to
    # the browser instead of fetching the page again.
    given: Navigation | None = None
    page: Page | None = None
    navigation: Navigation | None = None
    error: str | None = None
    document_seen: bool = False
    refused: int = 0
    allowed: int = 0
    pending: set[asyncio.Future[None]] = field(default_factory=set)
    subresources: list[Subresource] = field(default_factory=list)
    deadline: float = float("inf")  # time.monotonic() after which no request is started
    origin_signals: dict[str, tuple[tuple[Signal, ...], Signal | None]] = field(
        default_factory=dict
    )


class BrowserGate:
    def __init__(
        self,
        crawler: Crawler,
        *,
        third_party_media: bool = False,
        timeout: float = 30.0,
        max_redirects: int = 20,
        keep_subresources: bool = False,
        maxsize: int = 0,
        per_origin: int = 2,
    ):
        self.crawler = crawler
        run = crawl_run(crawler)
        self.profile = run.profile
        self.token = run.token
        self.keep_subresources = keep_subresources
        self.maxsize = maxsize
        self._archived: set[str] = set()  # subresources kept this run: each once
        # Politeness for what the browser fetches: per origin, at most `per_origin` requests at
        # a time (places apart from the pages' permits, which a rendering page holds), in turn
        # on the origin's clock.
        self.per_origin = per_origin
        self._places: dict[str, asyncio.Semaphore] = {}
        self.third_party_media = third_party_media
        self.timeout = timeout
        self.max_redirects = max_redirects
        self._recorded: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(
            crawler,
            third_party_media=settings.getbool("RENDER_THIRD_PARTY_MEDIA"),
            timeout=settings.getfloat("RENDER_TIMEOUT"),
            max_redirects=settings.getint("REDIRECT_MAX_TIMES", 20),
            keep_subresources=settings.getbool("RENDER_KEEP_SUBRESOURCES"),
            maxsize=settings.getint("DOWNLOAD_MAXSIZE"),
            per_origin=settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
        )

    @asynccontextmanager
    async def _turn(self, visit: PageVisit, url: str) -> AsyncIterator[None]:
        """Hold one of the origin's places for a browser fetch, in its turn on the origin's
        clock (Crawl-delay, back-off: PolitenessMiddleware.browser_turn). A turn that would come
        too late for the page to load raises NoTurn: the page renders without that request."""
        delay = 0.0
        policy = self._component(OriginPolicyMiddleware)
        if policy is not None:
            evidence = await policy.url_evidence(url)
            if evidence.robots is not None:
                delay = evidence.robots.delay_for(self.token) or 0.0
        places = self._places.setdefault(origin_of(url), asyncio.Semaphore(self.per_origin))
        async with places:
            politeness = self._component(PolitenessMiddleware)
            if politeness is not None and not await politeness.browser_turn(
                url, delay, visit.deadline
            ):
                raise NoTurn(url)
            yield

    # -- pages -------------------------------------------------------------------------------

    async def attach(self, visit: PageVisit, page: Page, request: Request) -> None:
        """scrapy-playwright's page init callback: route the page through the gate before it
        navigates. Registered after scrapy-playwright's own route, so this one answers first."""
        visit.page = page
        # Leave the page time to load with what it got (RENDER_TIMEOUT bounds the navigation).
        visit.deadline = time.monotonic() + self.timeout * 0.8
        context = page.context
        if not getattr(context, "_rightscrawl_gated", False):
            # Pop-ups and other pages of the context are not ours to render: anything they
            # request reaches this route (page routes take precedence) and is refused.
            await context.route("**", self._other_page)
            context._rightscrawl_gated = True  # type: ignore[attr-defined]
        await page.route("**", partial(self._route, visit))
        await page.route_web_socket("**", partial(self._web_socket, visit))

    async def settle(self, visit: PageVisit) -> None:
        """Wait for the requests the gate is still deciding or fetching for this page."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while visit.pending:
            remaining = deadline - loop.time()
            if remaining <= 0:
                logger.warning(
                    "%(count)d browser requests of %(url)s still pending after %(timeout)ss",
                    {
                        "count": len(visit.pending),
                        "url": visit.request.url,
                        "timeout": self.timeout,
                    },
                )
                return
            await asyncio.wait(set(visit.pending), timeout=remaining)

    async def _route(self, visit: PageVisit, route: Route, request: BrowserRequest) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        visit.pending.add(done)
        try:
            main_frame = request.is_navigation_request() and request.frame.parent_frame is None
            if main_frame and not visit.document_seen:
                visit.document_seen = True
                await self._navigate(visit, route)
            elif main_frame:
                # The page leaving itself (script, meta refresh, form): the spider follows links.
                self.crawler.stats.inc_value("render/navigations_stopped")
                await route.abort("blockedbyclient")
            else:
                await self._subrequest(visit, route, request)
        except NoTurn:
            logger.debug(
                "Browser request %(url)s of %(page)s: no turn before the page's deadline",
                {"url": request.url, "page": visit.request.url},
            )
            self.crawler.stats.inc_value("render/subrequests/no_turn")
            await _abort_quietly(route)
        except PlaywrightError as exc:
            # The fetch failed (connection reset, timeout) or the page closed meanwhile: the
            # browser is told, or the page would wait for this request until its timeout.
            logger.debug(
                "Browser request %(url)s of %(page)s: %(error)s",
                {"url": request.url, "page": visit.request.url, "error": exc},
            )
            self.crawler.stats.inc_value("render/subrequests/failed")
            await _abort_quietly(route, "failed")
        except Exception:  # a bug must not let the request through, nor hang the page
            logger.exception("Browser gate failed on %(url)s", {"url": request.url})
            await _abort_quietly(route)
        finally:
            visit.pending.discard(done)
            done.set_result(None)

    async def _navigate(self, visit: PageVisit, route: Route) -> None:
        """Fetch the page itself (already gated), without following redirects; or hand the
        browser the response Scrapy already received for it."""
        request = visit.request
        if visit.given is not None:
            visit.navigation = visit.given
            await route.fulfill(
                status=visit.given.status,
                headers=_browser_headers(visit.given.headers),
                body=visit.given.body,
            )
            return
        headers = {
            name.decode("latin-1").lower(): b", ".join(values).decode("latin-1")
            for name, values in request.headers.items()
        }
        politeness = self._component(PolitenessMiddleware)
        if politeness is not None:
            await politeness.page_turn(request.url, request.meta.get(meta.CRAWL_DELAY))
        try:
            response = await route.fetch(
                method=request.method,
                headers=headers,
                post_data=request.body or None,
                max_redirects=0,
                timeout=self.timeout * 1000,
            )
            body = await response.body()
        except PlaywrightError as exc:
            visit.error = str(exc).splitlines()[0]
            await route.abort("failed")
            return
        finally:
            if (
                politeness is not None
                and self.crawler.settings.get("DISTRIBUTED_REDIS_URL") is None
            ):
                politeness.browser_fetched(request.url, request.meta.get(meta.CRAWL_DELAY))
        navigation = Navigation(
            url=request.url,
            status=response.status,
            headers=_decoded_headers([(h["name"], h["value"]) for h in response.headers_array]),
            body=body,
            fetched_at=datetime.now(UTC),
        )
        visit.navigation = navigation
        await response.dispose()
        if navigation.renderable:
            await route.fulfill(
                status=navigation.status, headers=_browser_headers(navigation.headers), body=body
            )
        else:
            # Only HTML is rendered: a redirect, an error or a PDF goes back to Scrapy as
            # received, and the browser gets an empty page instead of following or downloading.
            await route.fulfill(status=200, content_type="text/plain", body=b"")

    async def _subrequest(self, visit: PageVisit, route: Route, request: BrowserRequest) -> None:
        url = request.url
        if urlsplit(url).scheme in LOCAL_SCHEMES:
            await route.continue_()
            return
        resource_type = request.resource_type
        refusal = await self.refusal(visit, url, resource_type)
        if refusal is not None:
            self._refuse(visit, refusal)
            await route.abort("blockedbyclient")
            return
        async with self._turn(visit, url):
            response = await route.fetch(max_redirects=0, timeout=self.timeout * 1000)
        method = request.method
        headers = None
        hops = 0
        while response.status in REDIRECT_STATUSES and response.headers.get("location"):
            hops += 1
            target = urljoin(url, response.headers["location"])
            status = response.status
            await response.dispose()
            refusal = await self.refusal(visit, target, resource_type, redirected_from=url)
            if refusal is None and hops > self.max_redirects:
                refusal = self._decision(
                    visit, target, resource_type, reasons.FETCH_ERROR, problem="too many redirects"
                )
            if refusal is not None:
                self._refuse(visit, refusal)
                await route.abort("blockedbyclient")
                return
            if headers is None:
                headers = {
                    name: value
                    for name, value in (await request.all_headers()).items()
                    if name.lower() not in _NOT_REDIRECTED
                }
            if status == 303 or (status in (301, 302) and method == "POST"):
                method = "GET"  # RFC 9110 §15.4: the redirect asks for a GET
            assert visit.page is not None
            async with self._turn(visit, target):
                response = await visit.page.request.fetch(
                    target,
                    method=method,
                    headers=headers,
                    data=request.post_data_buffer if method == request.method else None,
                    max_redirects=0,
                    timeout=self.timeout * 1000,
                )
            url = target
        # What the response itself says (X-Robots-Tag, tdm-reservation, Content-Usage …, and the
        # meta tags of a frame's document): a reserved response never reaches the page either,
        # or its text could end up in the rendered DOM.
        decision, wire = await self._received(visit, url, method, request, headers, response)
        if not decision.kept:
            await response.dispose()
            self._refuse(visit, decision)
            await route.abort("blockedbyclient")
            return
        visit.allowed += 1
        self.crawler.stats.inc_value("render/subrequests/allowed")
        if wire is not None:
            visit.subresources.append(Subresource(wire[0], wire[1], decision))
            count_decision(self.crawler, decision)
        await route.fulfill(response=response)

    async def _received(
        self,
        visit: PageVisit,
        url: str,
        method: str,
        request: BrowserRequest,
        sent_headers: dict[str, str] | None,
        response: APIResponse,
    ) -> tuple[Decision, tuple[WireRequest, WireResponse] | None]:
        """The after-fetch decision on a subresource, and its exchange when it is to be kept."""
        headers = tuple(
            (name, value)
            for name, value in _decoded_headers(
                [(h["name"], h["value"]) for h in response.headers_array]
            )
            if name.lower() != "transfer-encoding"  # the body comes without its chunked framing
        )
        content_type = next((v for n, v in headers if n.lower() == "content-type"), "")
        frame = request.resource_type == "document" and content_type.startswith(RENDERABLE_TYPES)
        keep = self.keep_subresources and 200 <= response.status < 300 and url not in self._archived
        body = await response.body() if frame or keep else b""
        root = None
        if frame:
            root = HtmlResponse(
                url, body=body, headers={"Content-Type": content_type}
            ).selector.root
        origin_signals, file_signal = await self._origin_signals(visit, url)
        signals = [
            *origin_signals,
            *response_signals(list(headers), root, user_agent=self.token, file_signal=file_signal),
        ]
        decision = decide(
            url,
            signals,
            profile=self.profile,
            stage="after-fetch",
            access=AccessInfo(status=response.status),
            detail=_detail(visit.request.url, request.resource_type, None),
        )
        if not (keep and decision.kept) or (self.maxsize and len(body) > self.maxsize):
            return decision, None
        self._archived.add(url)
        sent = sent_headers if sent_headers is not None else await request.all_headers()
        wire_headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in sent.items()
        ]
        if not any(name.lower() == b"host" for name, _ in wire_headers):
            wire_headers.insert(0, (b"Host", urlsplit(url).netloc.encode("ascii", "ignore")))
        exchange = (
            WireRequest(method=method, url=url, headers=tuple(wire_headers)),
            WireResponse(
                url=url,
                status=response.status,
                protocol="HTTP/1.1",  # Playwright does not say
                headers=tuple((n.encode("latin-1"), v.encode("latin-1")) for n, v in headers),
                body=body,
                fetched_at=datetime.now(UTC),
            ),
        )
        return decision, exchange

    async def _web_socket(self, visit: PageVisit, route: WebSocketRoute) -> None:
        # Never connected to the server (a route that does not connect is a mock): a WebSocket
        # is not a document we could archive, and Playwright does not route its traffic.
        self._refuse(
            visit,
            self._decision(visit, route.url, "websocket", reasons.UNSUPPORTED_SCHEME),
        )
        await route.close()

    async def _other_page(self, route: Route, request: BrowserRequest) -> None:
        self.crawler.stats.inc_value("render/other_pages_stopped")
        await _abort_quietly(route)

    # -- decisions ---------------------------------------------------------------------------

    async def refusal(
        self,
        visit: PageVisit,
        url: str,
        resource_type: str,
        *,
        redirected_from: str | None = None,
    ) -> Decision | None:
        """The decision refusing `url`, or None when the browser may request it."""
        page_url = visit.request.url
        if (
            not self.third_party_media
            and resource_type in MEDIA_TYPES
            and origin_of(url) != origin_of(page_url)
        ):
            return self._decision(
                visit, url, resource_type, reasons.THIRD_PARTY_MEDIA, redirected_from
            )
        access = self._component(AccessGuardMiddleware)
        origin = self._component(OriginPolicyMiddleware)
        if access is None or origin is None:  # the gate is incomplete: refuse, never guess
            return self._decision(
                visit, url, resource_type, reasons.POLICY_ERROR, redirected_from, "no gate"
            )
        refused, declared = await access.refusal(url)
        if refused or declared:
            return decide(
                url,
                [declared] if declared else [],
                profile=self.profile,
                stage="before-fetch",
                extra_reasons=[refused] if refused else [],
                detail=_detail(page_url, resource_type, redirected_from),
            )
        origin_signals, file_signal = await self._origin_signals(visit, url)
        decision = decide(
            url,
            [*origin_signals, *([file_signal] if file_signal else ())],
            profile=self.profile,
            stage="before-fetch",
            detail=_detail(page_url, resource_type, redirected_from),
        )
        return None if decision.kept else decision

    async def _origin_signals(
        self, visit: PageVisit, url: str
    ) -> tuple[tuple[Signal, ...], Signal | None]:
        """What `url`'s origin says about it, read once per page: before and after the fetch."""
        found = visit.origin_signals.get(url)
        if found is None:
            origin = self._component(OriginPolicyMiddleware)
            if origin is None:
                return (), None
            _, signals, file_signal = await origin.signals_for(url)
            found = visit.origin_signals[url] = (signals, file_signal)
        return found

    def _decision(
        self,
        visit: PageVisit,
        url: str,
        resource_type: str,
        reason: str,
        redirected_from: str | None = None,
        problem: str | None = None,
    ) -> Decision:
        detail = _detail(visit.request.url, resource_type, redirected_from)
        if problem:
            detail["problem"] = problem
        return decide(
            url,
            (),
            profile=self.profile,
            stage="before-fetch",
            extra_reasons=(reason,),
            detail=detail,
        )

    def _refuse(self, visit: PageVisit, decision: Decision) -> None:
        visit.refused += 1
        stats = self.crawler.stats
        stats.inc_value("render/subrequests/refused")
        for reason in decision.reasons:
            stats.inc_value(f"render/subrequests/refused/{reason}")
        # One decision row per URL and run: a script on every page must not flood the table.
        if decision.url in self._recorded:
            return
        if len(self._recorded) >= MAX_RECORDED:
            self._recorded.clear()
        self._recorded.add(decision.url)
        announce_exclusion(self.crawler, decision)

    def _component(self, cls: type) -> Any:
        """The downloader's own middleware instance: one cache, one fetch per origin."""
        return downloader_middleware(self.crawler, cls)


def _detail(page_url: str, resource_type: str, redirected_from: str | None) -> dict[str, Any]:
    browser: dict[str, Any] = {"subresource_of": page_url, "resource_type": resource_type}
    if redirected_from:
        browser["redirected_from"] = redirected_from
    return {"browser": browser}


def _decoded_headers(headers: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The headers that describe the body Playwright returns: its fetch client decodes a
    compressed body (a server may compress although asked for identity), so the encoding and the
    length of the encoded body no longer apply and are dropped rather than left to lie."""
    encoded = any(
        name.lower() == "content-encoding" and value.strip().lower() not in ("", "identity")
        for name, value in headers
    )
    if not encoded:
        return tuple(headers)
    return tuple(
        (name, value)
        for name, value in headers
        if name.lower() not in ("content-encoding", "content-length")
    )


def _browser_headers(headers: tuple[tuple[str, str], ...]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in _NOT_FULFILLED:
            continue
        separator = "\n" if key == "set-cookie" else ", "
        merged[key] = f"{merged[key]}{separator}{value}" if key in merged else value
    return merged


async def _abort_quietly(route: Route, error_code: str = "blockedbyclient") -> None:
    try:
        await route.abort(error_code)
    except PlaywrightError:
        pass
