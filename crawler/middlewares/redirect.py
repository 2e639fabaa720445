"""Scrapy's RedirectMiddleware, deciding each redirect at the moment it turns a 3xx into one.

A URL that answers with a redirect is decided `redirected` (`detail.location` = the target,
`access.status` = the 3xx) here, once, whatever then becomes of the target: refused by the gate,
dropped off-site or as a duplicate, a loop. A redirect that is not followed is decided too:

- more than REDIRECT_MAX_TIMES redirects (or the request's `redirect_ttl`): `fetch-error`, with
  `detail.location_not_followed`;
- a `Location` that is no URL (a bad port, a broken IPv6 literal), or none at all: the response
  goes on as received and its status decides (`http-error`);
- a target that is not http(s) (`ftp:`, `mailto:`, `data:`, `javascript:` — Scrapy would keep
  the 3xx as the page): `redirected`, and the target is refused (`unsupported-scheme`), as a link
  to it would be;
- `dont_redirect` or the 3xx in `handle_httpstatus_list`: the spider asked for the 3xx itself;
  the response policy decides it like any response.

Credentials in `Location` are stripped before the redirect request is built (and logged), so
they never reach the scheduler, a record or a log line (crawler/middlewares/no_credentials.py).
Policy-document fetches (`meta[EVIDENCE]`) are followed as Scrapy does, never decided here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlparse

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from w3lib.url import safe_url_string

from crawler import meta
from crawler.contracts import crawl_run
from crawler.decisions import ExcludedByPolicy, announce_exclusion, exclude
from crawler.middlewares.access_guard import Refused, private_peer
from crawler.middlewares.no_credentials import STAT, without_credentials
from policies import reasons
from policies.engine import decide
from policies.evidence import AccessInfo

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from policies.evidence import Decision

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})  # what RedirectMiddleware follows
MAX_REFUSED_TARGETS = 10_000  # non-http(s) targets refused once per run (bounded memory)


class RedirectDecisionMiddleware(RedirectMiddleware):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = super().from_crawler(crawler)
        middleware.profile = crawl_run(crawler).profile
        middleware.refused_targets: set[str] = set()
        middleware.allow_private = crawler.settings.getbool("ALLOW_PRIVATE_ADDRESSES")
        return middleware

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if not self._redirects(request, response):
            return super().process_response(request, response)
        peer = private_peer(response, self.allow_private)
        if peer is not None:  # a redirect from a private address is not followed either
            if request.meta.get(meta.EVIDENCE):
                why = f"{request.url} redirected from {peer}: not followed"
                raise Refused(reasons.PRIVATE_ADDRESS, request.url, why)
            detail = {"connected_to": peer, "location_not_followed": response.headers[b"Location"]}
            exclude(self.crawler, self._decide(request, response, reasons.PRIVATE_ADDRESS, detail))
        try:
            target = self._target(request, response)
        except ValueError:  # not a URL: not followed, the 3xx goes on and its status decides
            return response
        clean = without_credentials(target)
        if clean is not None:
            target = clean
            self.crawler.stats.inc_value(STAT)
            response = response.replace(headers=response.headers.copy())
            response.headers[b"Location"] = target.encode()
        if request.meta.get(meta.EVIDENCE):
            return super().process_response(request, response)
        if urlparse(target).scheme not in ("http", "https"):
            self._refuse_target(target)
            raise ExcludedByPolicy(self._redirected(request, response, target))
        try:
            redirected = super().process_response(request, response)
        except IgnoreRequest:  # the only one it raises: REDIRECT_MAX_TIMES / redirect_ttl reached
            exclude(
                self.crawler,
                self._decide(
                    request,
                    response,
                    reasons.FETCH_ERROR,
                    {
                        "error": f"more than {self.max_redirect_times} redirects",
                        "location_not_followed": target,
                    },
                ),
            )
        except ValueError:  # Scrapy could not build the request for this Location
            return response
        if not isinstance(redirected, Request):
            return redirected
        decision = self._redirected(request, response, redirected.url)
        if clean is not None:
            redirected.meta[meta.CREDENTIALS_STRIPPED] = True
        else:  # meta is copied from the source: the flag was the source's own
            redirected.meta.pop(meta.CREDENTIALS_STRIPPED, None)
        chain = [*request.meta.get("redirect_urls", ()), request.url]
        if redirected.url in chain:
            # A loop: the target was decided a moment ago, on this chain. The dupefilter would
            # drop it too, but not for a request that bypasses it (dont_filter, a resumed job).
            raise ExcludedByPolicy(decision)
        return redirected

    def _redirects(self, request: Request, response: Response) -> bool:
        """Whether Scrapy's RedirectMiddleware.process_response acts on this response."""
        if (
            request.meta.get("dont_redirect", False)
            or response.status in getattr(self.crawler.spider, "handle_httpstatus_list", ())
            or response.status in request.meta.get("handle_httpstatus_list", ())
            or request.meta.get("handle_httpstatus_all", False)
        ):
            return False
        return b"Location" in response.headers and response.status in REDIRECT_STATUSES

    @staticmethod
    def _target(request: Request, response: Response) -> str:
        """The URL `Location` points to, as RedirectMiddleware (Scrapy 2.19) resolves it."""
        raw = response.headers[b"Location"]
        location = safe_url_string(raw)
        if raw.startswith(b"//"):
            location = f"{urlparse_cached(request).scheme}://{location.lstrip('/')}"
        target = urljoin(request.url, location)
        fragment = urlparse_cached(request).fragment
        if fragment and not urlparse(target).fragment:
            target = urljoin(target, f"#{fragment}")
        return target

    def _decide(
        self, request: Request, response: Response, reason: str, detail: dict[str, Any]
    ) -> Decision:
        return decide(
            request.url,
            request.meta.get(meta.SIGNALS, ()),
            profile=self.profile,
            stage="after-fetch",
            access=AccessInfo(status=response.status),
            extra_reasons=(reason,),
            detail=detail,
        )

    def _redirected(self, request: Request, response: Response, target: str) -> Decision:
        decision = self._decide(request, response, reasons.REDIRECTED, {"location": target})
        announce_exclusion(self.crawler, decision)
        return decision

    def _refuse_target(self, target: str) -> None:
        """A target that is not http(s) is refused, as a link to it would be; once per run."""
        if target in self.refused_targets:
            return
        if len(self.refused_targets) >= MAX_REFUSED_TARGETS:
            self.refused_targets.clear()
        self.refused_targets.add(target)
        announce_exclusion(
            self.crawler,
            decide(
                target,
                (),
                profile=self.profile,
                stage="before-fetch",
                extra_reasons=(reasons.UNSUPPORTED_SCHEME,),
            ),
        )
