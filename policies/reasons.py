"""Stable reason codes (DESIGN.md). Extend, never rename: auditors query these strings."""

from __future__ import annotations

ROBOTS_DISALLOWED = "robots-disallowed"
ROBOTS_AI_AGENT_DISALLOWED = "robots-ai-agent-disallowed"
ROBOTS_UNREACHABLE = "robots-unreachable"
TDMREP_RESERVED = "tdmrep-reserved"
TDM_RESERVATION_HEADER = "tdm-reservation-header"
TDM_RESERVATION_META = "tdm-reservation-meta"
NOAI_HEADER = "noai-header"
NOAI_META = "noai-meta"
CONTENT_USAGE_RESERVED = "content-usage-reserved"
CONTENT_SIGNAL_RESERVED = "content-signal-reserved"
DECLARED_RESERVATION = "declared-reservation"
BLOCKLISTED = "blocklisted"
AUTH_REQUIRED = "auth-required"
PAYMENT_REQUIRED = "payment-required"
FORBIDDEN = "forbidden"
UNAVAILABLE_FOR_LEGAL_REASONS = "unavailable-for-legal-reasons"
PAYWALLED = "paywalled"
PRIVATE_ADDRESS = "private-address"
UNSUPPORTED_SCHEME = "unsupported-scheme"
TOO_LARGE = "too-large"
POLICY_ERROR = "policy-error"
# Not rights decisions, but every URL considered gets a decision row, so failures have codes too.
HTTP_ERROR = "http-error"
FETCH_ERROR = "fetch-error"
REDIRECTED = "redirected"  # nothing kept at this URL: it redirected (detail.location)
# Signals beyond the first list (SIGNALS.md §4, §6, §8, §9).
AI_TXT_RESERVED = "ai-txt-reserved"
RSL_RESERVED = "rsl-reserved"
RSL_LICENSE_REQUIRED = "rsl-license-required"
C2PA_RESERVED = "c2pa-reserved"
IPTC_RESERVED = "iptc-reserved"
# A sentence of the site's terms pages that reserves TDM/AI use in words (not a protocol).
NATURAL_LANGUAGE_RESERVATION = "natural-language-reservation"
# No interference (politeness).
ORIGIN_STOPPED = "origin-stopped"  # the origin kept failing (429/5xx/errors): stopped for this run
ORIGIN_PAGE_CAP = "origin-page-cap"  # POLITENESS_MAX_PAGES_PER_ORIGIN reached
# Rendering: a browser subresource refused for what it is, not for what its origin says.
THIRD_PARTY_MEDIA = (
    "third-party-media"  # image/media/font from another origin (RENDER_THIRD_PARTY_MEDIA)
)
# After the crawl.
WITHDRAWN = "withdrawn"  # a capture withdrawn after a complaint or a re-check

ALL = (
    ROBOTS_DISALLOWED,
    ROBOTS_AI_AGENT_DISALLOWED,
    ROBOTS_UNREACHABLE,
    TDMREP_RESERVED,
    TDM_RESERVATION_HEADER,
    TDM_RESERVATION_META,
    NOAI_HEADER,
    NOAI_META,
    CONTENT_USAGE_RESERVED,
    CONTENT_SIGNAL_RESERVED,
    DECLARED_RESERVATION,
    BLOCKLISTED,
    AUTH_REQUIRED,
    PAYMENT_REQUIRED,
    FORBIDDEN,
    UNAVAILABLE_FOR_LEGAL_REASONS,
    PAYWALLED,
    PRIVATE_ADDRESS,
    UNSUPPORTED_SCHEME,
    TOO_LARGE,
    POLICY_ERROR,
    HTTP_ERROR,
    FETCH_ERROR,
    REDIRECTED,
    AI_TXT_RESERVED,
    RSL_RESERVED,
    RSL_LICENSE_REQUIRED,
    C2PA_RESERVED,
    IPTC_RESERVED,
    NATURAL_LANGUAGE_RESERVATION,
    ORIGIN_STOPPED,
    ORIGIN_PAGE_CAP,
    THIRD_PARTY_MEDIA,
    WITHDRAWN,
)

# Access refusals by HTTP status (lawful access: never get past them).
STATUS_REASONS = {
    401: AUTH_REQUIRED,
    402: PAYMENT_REQUIRED,
    403: FORBIDDEN,
    407: AUTH_REQUIRED,
    451: UNAVAILABLE_FOR_LEGAL_REASONS,
}
