"""Works-level declared reservations of one fetched document: what the crawl's response policy
(crawler/middlewares/response_policy.py) and `scrapy recheck` (from the stored payload) both ask.

Nothing is read when the registry holds no works-level entry: a crawl with URL entries only
pays nothing per page. Reading owners and identifiers is a walk of the parsed tree (HTML) or of
metadata already read (XMP, the EPUB package), plus a header-only Pillow open (images) or pypdf's
trailer (PDF). An ISCC code is computed only when the registry holds `iscc` entries of that kind
(an Image-Code for images, a Text-Code for HTML pages); it is then recorded as a signal of kind
`iscc` (evidence of the decision, stored with the capture's decision).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from policies import content_code
from policies.evidence import Signal
from policies.registry import Registry
from policies.works import WorkClaims, document_claims


def declared_work_signals(
    registry: Registry,
    content_type: str,
    body: bytes,
    *,
    html_root: Any = None,
    xmp: Iterable[bytes] = (),
    opf: bytes | None = None,
) -> list[Signal]:
    """Declared reservations of the registry that cover this document's work, and its ISCC."""
    if not (registry.reads_claims or registry.reads_codes):
        return []
    claims = (
        document_claims(content_type, body, html_root=html_root, xmp=xmp, opf=opf)
        if registry.reads_claims
        else WorkClaims()
    )
    code = None
    if registry.reads_codes:
        code = content_code.document_code(content_type, body, html_root, registry.reads_codes)
    found = registry.work_signals(claims, code)
    if code is not None:
        kind = "image" if content_type.startswith("image/") else "text"
        found.append(Signal("iscc", f"iscc:{kind}", code, "unknown"))
    return found
