"""After fetching: status, headers and HTML meta. A reserved response never reaches the spider.

Runs at priority 110 on the way back, after HttpCompressionMiddleware (590) has decoded the body,
so HTML signals are read from the decoded document; the WIRE capture (950) keeps the raw bytes.

A body whose signals cannot be read whole fails closed (`policy-error`, `detail.problem`): an
undecodable Content-Encoding, HTML the parser did not read to the end (policies.signals.html_meta),
HTML with more tags than `POLICY_HTML_MAX_TAGS` (not parsed: lxml keeps ~120 bytes per element,
so the setting, not the page, bounds memory), an EPUB whose package cannot be read within bounds,
a C2PA manifest c2pa-rs cannot parse.

Every response that is not HTML has its embedded metadata read (policies.signals.embedded): XMP,
IPTC IIM and EXIF of images (Pillow), XMP of PDFs, the package of EPUBs, and the C2PA manifest of
every type c2pa-rs reads (JPEG, PNG, WebP, AVIF/HEIF, GIF, TIFF, MP4/MOV, audio, PDF, EPUB …).

Works-level declared reservations (registry scopes `owner`, `identifier`, `iscc`) are matched
here, against what the document says of itself (policies.declared_works), from the same parsed
tree and metadata: the registry loaded once per run (POLICY_REGISTRIES) is the access guard's.

RSL licences the response names (`Link` header, HTML `<link rel="license"
type="application/rsl+xml">`) are fetched and read before it is decided (crawler/rsl_licences.py):
the response waits for them, and a licence that reserves it drops it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from scrapy.http import HtmlResponse

from crawler import meta
from crawler.content_encoding import undecoded_encoding
from crawler.contracts import crawl_run
from crawler.decisions import count_decision, exclude
from crawler.middlewares import downloader_middleware
from crawler.middlewares.access_guard import private_peer
from crawler.render.capture import Rendering, peek_rendering
from policies import reasons
from policies.assess import response_signals
from policies.declared_works import declared_work_signals
from policies.engine import decide
from policies.evidence import AccessInfo, Decision, Signal, unread_signal
from policies.registry import Registry, load_registry
from policies.signals.c2pa import C2paReading
from policies.signals.embedded import EmbeddedMetadata, document_metadata
from policies.signals.html_meta import unread_html

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.middlewares.origin_policy import OriginPolicyMiddleware
    from crawler.rsl_licences import LinkedLicences


# ~1,000,000 elements: ~120 MB of lxml tree at worst (measured: 174 MB for 1.4 million `<a>`);
# real pages have a few thousand elements.
HTML_MAX_TAGS = 1_000_000


def rendered_signals(
    rendering: Rendering,
    headers: list[tuple[str, str]],
    token: str,
    seen: list[Signal],
    max_tags: int = HTML_MAX_TAGS,
) -> list[Signal]:
    """Signals of the rendered DOM that the response itself did not give, marked as rendered."""
    body = rendering.html
    if body.count(b"<") > max_tags:
        return [unread_signal("html", "rendered:html", f"more than {max_tags} tags")]
    root = HtmlResponse(rendering.url, body=body, encoding="utf-8").selector.root
    unread = unread_html(root, body)
    found = response_signals(headers, root, user_agent=token)
    if unread:
        found.append(unread_signal("html", "rendered:html", unread))
    return [replace(s, source=f"rendered:{s.source}") for s in found if s not in seen]


def own_signals(
    response: Response,
    headers: list[tuple[str, str]],
    *,
    token: str,
    max_tags: int,
    file_signal: Signal | None = None,
    registry: Registry | None = None,
) -> tuple[list[Signal], str | None]:
    """What a response says of itself (headers, HTML meta, embedded metadata), and why its body
    could not be read whole, if so; with a `registry`, the declared reservations of the work it
    carries. Pages and policy documents (crawler/policy_documents.py) are read by this one
    function."""
    html_root = None
    embedded = EmbeddedMetadata()
    content_type = response_type(response)
    unread = undecoded_encoding(response)
    if unread is None and isinstance(response, HtmlResponse):
        tags = response.body.count(b"<")
        if tags > max_tags:
            unread = f"HTML with {tags} tags, more than POLICY_HTML_MAX_TAGS: not parsed"
        else:
            html_root = response.selector.root  # parsed once, reused by the spider's links
            unread = unread_html(html_root, response.body)
    elif unread is None:
        embedded = document_metadata(content_type, response.body)
        unread = embedded.unread
    c2pa = embedded.c2pa or C2paReading()
    found = response_signals(
        headers,
        html_root,
        user_agent=token,
        file_signal=file_signal,
        xmp=embedded.xmp,
        epub_opf=embedded.opf,
        c2pa_assertions=c2pa.assertions,
        c2pa_validation=c2pa.validation,
        c2pa_codes=c2pa.codes,
        content_type=content_type,
    )
    works = []
    if registry is not None and unread is None:
        works = declared_work_signals(
            registry,
            content_type,
            response.body,
            html_root=html_root,
            xmp=embedded.xmp,
            opf=embedded.opf,
        )
    return [*found, *c2pa.signals, *embedded.signals, *works], unread


def response_type(response: Response) -> str:
    """The media type the response's content is: its Content-Type, or for a response without
    one, what Scrapy made of it (an HtmlResponse is HTML; anything else unknown)."""
    declared = response.headers.get(b"Content-Type", b"").decode("latin-1")
    declared = declared.split(";", 1)[0].strip().lower()
    if declared:
        return declared
    return "text/html" if isinstance(response, HtmlResponse) else ""


def status_reason(status: int) -> str | None:
    if 200 <= status < 300:
        return None
    return reasons.STATUS_REASONS.get(status, reasons.HTTP_ERROR)


class ResponsePolicyMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        run = crawl_run(crawler)
        self.profile = run.profile
        self.token = run.token
        self.allow_private = crawler.settings.getbool("ALLOW_PRIVATE_ADDRESSES")
        self.max_tags = crawler.settings.getint("POLICY_HTML_MAX_TAGS", HTML_MAX_TAGS)
        self.registry = load_registry(crawler.settings.getlist("POLICY_REGISTRIES"))
        self._origin_policy: OriginPolicyMiddleware | bool | None = None  # found on first use

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        if request.meta.get(meta.EVIDENCE):
            return response
        decision = await self.decide(request, response)
        if not decision.kept:
            exclude(self.crawler, decision)
        count_decision(self.crawler, decision)
        request.meta[meta.DECISION] = decision
        return response

    async def decide(self, request: Request, response: Response) -> Decision:
        """The decision on `response` (and on the DOM rendered from it, if any), recording nothing:
        `-a render=auto` asks it first, so that a page reserved as served is never rendered."""
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in response.headers.items()
            for value in values
        ]
        detail = {}
        previous = request.meta.get(meta.PREVIOUS)
        if response.status == 304 and previous is not None and previous.url == response.url:
            # Not modified since the capture we asked about: its stored payload still stands
            # (read under this same profile); the origin's signals were read again before.
            extra = []
            detail["not_modified"] = previous.record_id
        else:
            extra = [r for r in (status_reason(response.status),) if r]
        peer = private_peer(response, self.allow_private)
        if peer is not None:  # nothing from a private address is kept (DNS rebinding)
            extra.append(reasons.PRIVATE_ADDRESS)
            detail["connected_to"] = peer
        found, unread = own_signals(
            response,
            headers,
            token=self.token,
            max_tags=self.max_tags,
            file_signal=request.meta.get(meta.TDMREP_FILE),
            registry=self.registry,
        )
        if unread:  # the body's signals cannot all be read: fail closed
            extra.append(reasons.POLICY_ERROR)
            detail["problem"] = unread
        signals = [*request.meta.get(meta.SIGNALS, ()), *found]
        rendering = peek_rendering(self.crawler, request)
        if rendering is not None:
            # A script can insert a reservation (a meta tag) that the response did not carry, or
            # remove one it did: both count, so the response's and the DOM's signals are joined.
            signals += rendered_signals(rendering, headers, self.token, signals, self.max_tags)
            detail["rendered"] = rendering.provenance()
        signals += await self._named_licences(response.url, signals)
        if request.meta.get("redirect_urls"):
            detail["redirected_from"] = list(request.meta["redirect_urls"])
        decision = decide(
            response.url,
            signals,
            profile=self.profile,
            stage="after-fetch",
            access=AccessInfo(
                status=response.status,
                credentials_sent=b"Authorization" in request.headers,
                paywall=any(s.reason == reasons.PAYWALLED for s in signals),
            ),
            extra_reasons=extra,
            detail=detail,
        )
        return decision

    async def _named_licences(self, url: str, signals: list[Signal]) -> list[Signal]:
        """What the RSL licences this response names say of it (none unless the profile
        fetches "rsl"); a licence already read for it before fetching is not read twice."""
        named = [s.value for s in signals if s.kind == "rsl-link" and s.value]
        if not named:
            return []
        licences = self._licences()
        if licences is None:
            return []
        read = {s.source for s in signals if s.kind == "rsl"}
        return await licences.page_signals(url, [u for u in named if urljoin(url, u) not in read])

    def _licences(self) -> LinkedLicences | None:
        if self._origin_policy is None:
            # Imported here: the origin policy's document fetcher reads responses with this module.
            from crawler.middlewares.origin_policy import OriginPolicyMiddleware

            self._origin_policy = (
                downloader_middleware(self.crawler, OriginPolicyMiddleware) or False
            )
        return self._origin_policy.licences if self._origin_policy else None
