"""Reservations written in words: a sentence of a site's terms that reserves text and data mining or
AI use (EU DSM art. 4(3) wording, "may not be used to train AI", Vietnamese, German, French,
Chinese and Japanese equivalents).

No specification defines such a statement, and whether one counts as "appropriate" under art.
4(3) is disputed (README: "Natural-language reservations"). So this reader flags, precisely,
and the profile decides: the finding is a Signal with verdict "unknown" (no protocol was used)
and the reason code `natural-language-reservation`, which a profile may honour, record for
review, or only record.

The phrases are data (policies/registries/natural_language.toml, its header says how a sentence
is matched). Messy input is data too: undecodable or unparsable text yields no finding.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import lxml.etree
import lxml.html
from w3lib.encoding import html_to_unicode

from policies.evidence import Signal
from policies.reasons import NATURAL_LANGUAGE_RESERVATION

PHRASES_FILE = Path(__file__).parents[1] / "registries" / "natural_language.toml"
KIND = "natural-language-reservation"
PROXIMITY = 160  # characters between the reserving words and what they reserve
NEGATION_WORDS = 4  # words before a reserving match that may negate it ("is not prohibited")
NEGATION_CHARS = 3  # the same, for languages written without spaces
MAX_TEXT = 2 * 1024 * 1024  # characters of a terms page read (real ones are far shorter)
MAX_SENTENCE = 600  # characters of a matched sentence kept as the finding's value
_SKIPPED = ("script", "style", "noscript", "template", "head")
_BLOCKS = (
    "p", "div", "li", "ul", "ol", "br", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
    "section", "article", "footer", "header", "blockquote", "dd", "dt", "pre", "table", "nav",
)  # fmt: skip
# A sentence ends at . ! ? ; followed by a space and a capital (not after a common abbreviation:
# "Art. 4", "e.g. AI", "gem. § 44b"), at CJK full stops, and at block boundaries (newlines).
_ABBREVIATIONS = "".join(
    rf"(?<!\b{re.escape(a)}\.)"
    for a in ("art", "arts", "no", "nr", "abs", "sec", "para", "e.g", "i.e", "gem", "vgl", "bzw",
              "z.b", "cf", "etc", "inc", "ltd", "s", "l")
)  # fmt: skip
_SENTENCE_END = re.compile(
    rf"(?<=[.!?;]){_ABBREVIATIONS}\s+(?=[\"“«(\[]?[A-ZÀ-ÖØ-ÞĐ])|(?<=[。！？；])|\n+",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[^\S\n]+")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'"})


class PhrasesError(ValueError):
    """The phrase file is not valid (a bundled file: a bug, never a user's input)."""


@dataclass(frozen=True, slots=True)
class Reservation:
    """A sentence that reserves TDM/AI use, as written (whitespace collapsed), and its language."""

    sentence: str
    language: str


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    reserve: tuple[re.Pattern[str], ...]
    prohibit: tuple[re.Pattern[str], ...]
    objects: tuple[re.Pattern[str], ...]
    negation: re.Pattern[str]
    cancel: tuple[re.Pattern[str], ...]
    link_text: tuple[str, ...]
    url_words: tuple[str, ...]
    cjk: bool = False

    def reserves(self, sentence: str) -> bool:
        """Whether the normalised `sentence` reserves TDM/AI use in this language."""
        if any(p.search(sentence) for p in self.cancel):
            return False
        objects = [m.span() for p in self.objects for m in p.finditer(sentence)]
        if not objects:
            return False
        for family, inside in ((self.reserve, True), (self.prohibit, False)):
            for pattern in family:
                for match in pattern.finditer(sentence):
                    if self._negated(sentence, match, inside):
                        continue
                    if any(_near(match.span(), span) for span in objects):
                        return True
        return False

    def _negated(self, sentence: str, match: re.Match[str], inside: bool) -> bool:
        start = match.start()
        if self.cjk:
            before = sentence[max(0, start - NEGATION_CHARS) : start]
        else:
            before = " ".join(sentence[:start].split()[-NEGATION_WORDS:])
        if self.negation.search(before):
            return True
        return inside and bool(self.negation.search(match.group()))


def _near(a: tuple[int, int], b: tuple[int, int]) -> bool:
    gap = max(a[0], b[0]) - min(a[1], b[1])
    return gap <= PROXIMITY


def normalise(text: str) -> str:
    """NFKC, one kind of apostrophe, lower case, spaces collapsed (newlines kept: they end
    sentences). Vietnamese keeps its diacritics: NFKC composes them, it does not drop them."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    return _SPACES.sub(" ", text)


def sentences(text: str) -> list[str]:
    """The sentences of `text` (normalised, not yet lower-cased), empty ones dropped."""
    parts = _SENTENCE_END.split(normalise(text)[:MAX_TEXT])
    return [s.strip() for s in parts if s and s.strip()]


class Phrases:
    """The phrase lists of every language, compiled once (`Phrases.load()`)."""

    def __init__(self, languages: tuple[Language, ...]):
        self.languages = languages

    @classmethod
    def load(cls, path: Path = PHRASES_FILE) -> Phrases:
        return _load(path)

    def find(self, text: str) -> Reservation | None:
        """The first sentence of `text` that reserves TDM/AI use, or None."""
        for sentence in sentences(text):
            lowered = sentence.lower()
            for language in self.languages:
                if language.reserves(lowered):
                    return Reservation(sentence[:MAX_SENTENCE], language.code)
        return None


@cache
def _load(path: Path) -> Phrases:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PhrasesError(f"Cannot read {path}: {exc}") from exc
    languages = []
    for code, table in data.items():
        try:
            compiled = {
                key: tuple(re.compile(p) for p in table.get(key, ()))
                for key in ("reserve", "prohibit", "objects", "cancel")
            }
            negation = re.compile(table.get("negation", "(?!)"))
        except (re.error, TypeError) as exc:
            raise PhrasesError(f"{path} [{code}]: {exc}") from exc
        languages.append(
            Language(
                code,
                negation=negation,
                link_text=tuple(normalise(t).lower() for t in table.get("link_text", ())),
                url_words=tuple(w.lower() for w in table.get("url_words", ())),
                cjk=bool(table.get("cjk", False)),
                **compiled,
            )
        )
    return Phrases(tuple(languages))


def document_text(body: bytes, content_type: str = "") -> str | None:
    """The readable text of a terms document: HTML without scripts and styles, block elements
    on lines of their own; plain text as it is. None for anything else or what cannot be read."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media and media not in ("text/plain", "text/html", "application/xhtml+xml"):
        return None
    # The charset of the Content-Type, else a byte order mark, a <meta> charset, else UTF-8.
    _, text = html_to_unicode(content_type or None, body)
    if media == "text/plain":
        return text
    try:
        root = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError):
        return None
    for element in list(root.iter(*_SKIPPED)):
        if element.getparent() is not None:
            element.drop_tree()
    for element in root.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
        if element.text is not None or len(element):
            element.text = "\n" + (element.text or "")
    return root.text_content()


def reservation_signal(
    source: str,
    body: bytes,
    content_type: str = "",
    *,
    record_id: str | None = None,
    phrases: Phrases | None = None,
) -> Signal | None:
    """The finding of a terms page at `source` that reserves TDM/AI use in words, or None."""
    text = document_text(body, content_type)
    if not text:
        return None
    found = (phrases or Phrases.load()).find(text)
    if found is None:
        return None
    return Signal(
        KIND,
        source,
        found.sentence,
        "unknown",  # no machine-readable protocol was used: the profile decides what it means
        NATURAL_LANGUAGE_RESERVATION,
        evidence_record=record_id,
        problems=(f"natural language ({found.language}), not a machine-readable protocol",),
    )
