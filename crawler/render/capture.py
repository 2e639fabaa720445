"""The rendered DOM of a page, kept beside its Request until the spider takes it.

Like the wire capture (crawler/middlewares/wire_capture.py), never in `Request.meta`: meta is
copied by redirects and retries and written to disk with JOBDIR, and a page may yet be reserved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.middlewares.wire_capture import request_store

if TYPE_CHECKING:
    from weakref import WeakKeyDictionary

    from scrapy import Request
    from scrapy.crawler import Crawler

    from crawler.contracts import WireRequest, WireResponse
    from policies.evidence import Decision

_STORE = "_rightscrawl_rendering_store"


@dataclass(frozen=True, slots=True)
class Subresource:
    """A script, style sheet, image … the browser fetched for a page, kept (RENDER_KEEP_SUBRESOURCES)."""

    request: WireRequest
    response: WireResponse
    decision: Decision


@dataclass(frozen=True, slots=True)
class Rendering:
    """The DOM the browser built from a response, serialised as HTML (UTF-8)."""

    url: str
    html: bytes
    rendered_at: datetime
    refused: int = 0  # subrequests the browser gate refused while rendering
    allowed: int = 0  # subrequests it let through
    subresources: tuple[Subresource, ...] = ()  # archived with the page when configured
    # Why the page was rendered (crawler/render/auto.py: REASONS), and for `-a render=auto` what
    # the page as served measured ({"text": characters, "script": characters}).
    reason: str | None = None
    measured: dict[str, int] | None = None

    def provenance(self) -> dict[str, Any]:
        """`detail.rendered` of the page's decision."""
        found: dict[str, Any] = {"subrequests_refused": self.refused}
        if self.reason:
            found["reason"] = self.reason
        if self.measured is not None:
            found["measured"] = dict(self.measured)
        return found


def rendering_store(crawler: Crawler) -> WeakKeyDictionary[Request, Rendering]:
    return request_store(crawler, _STORE)


def peek_rendering(crawler: Crawler, request: Request | None) -> Rendering | None:
    if request is None:
        return None
    return rendering_store(crawler).get(request)


def take_rendering(crawler: Crawler, request: Request | None) -> Rendering | None:
    """The rendering kept for `request`, removed from the store."""
    if request is None:
        return None
    return rendering_store(crawler).pop(request, None)
