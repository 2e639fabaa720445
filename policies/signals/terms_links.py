"""Which links of a page lead to the site's terms, legal notice, copyright or licensing pages.

A link counts when its relation says so (`rel="terms-of-service"`, RFC 6903 §6; `rel="copyright"`,
HTML 4.01 §6.12), when its whole text is one of the `link_text` names of a language of
policies/registries/natural_language.toml ("Terms of use", "Mentions légales", "Impressum",
"Điều khoản sử dụng", "利用規約" …; a name followed by more words counts too), or when a segment of
its path is one of the `url_words` (`/terms`, `/legal-notice.html`, `/dieu-khoan-su-dung`).
`rel="license"` links are not followed here: they name the content's licence, read as such
(policies/signals/licence.py), not the site's terms.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit

import lxml.etree
import lxml.html

from policies.signals.natural_language import Phrases, normalise

TERMS_RELATIONS = frozenset({"terms-of-service", "copyright"})
MAX_LINK_TEXT = 80  # characters: a longer anchor text is prose, not a name
_EXTENSION = re.compile(r"\.(?:html?|php|aspx?|jsp|txt)$")


def _segments(url: str) -> list[str]:
    path = unquote(urlsplit(url).path).lower()
    return [_EXTENSION.sub("", s).replace("_", "-") for s in path.split("/") if s]


def _named(text: str, names: tuple[str, ...]) -> bool:
    return any(text == n or text.startswith(n + " ") for n in names)


def is_terms_link(text: str, url: str, rel: str = "", phrases: Phrases | None = None) -> bool:
    if TERMS_RELATIONS & set(rel.lower().split()):
        return True
    phrases = phrases or Phrases.load()
    text = normalise(text).strip().lower().rstrip(":·|")
    segments = _segments(url)
    for language in phrases.languages:
        if text and len(text) <= MAX_LINK_TEXT and _named(text, language.link_text):
            return True
        if any(s == w or s.startswith(w + "-") for s in segments for w in language.url_words):
            return True
    return False


def terms_links(html: str, base_url: str, phrases: Phrases | None = None) -> list[str]:
    """Absolute http(s) URLs of the terms pages a page's `html` links to, in page order, once
    each, without fragments. Unparsable HTML has none."""
    try:
        root = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return []
    base = root.base or base_url
    found: dict[str, None] = {}
    for element in root.iter("a", "link", "area"):
        href = (element.get("href") or "").strip()
        if not href:
            continue
        url = urljoin(urljoin(base_url, base), href).split("#", 1)[0]
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        text = element.text_content() if element.tag == "a" else ""
        if is_terms_link(text, url, element.get("rel") or "", phrases):
            found.setdefault(url)
    return list(found)
