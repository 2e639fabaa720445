"""Standard identifiers of works, written one way so a registry entry and a document's metadata
compare equal: `scheme:value`, scheme lower-case.

- `isbn:` ISBN-13 digits without hyphens (ISO 2108); an ISBN-10 becomes its 978- ISBN-13 with the
  check digit computed again. A wrong check digit is not an ISBN.
- `issn:` eight characters without the hyphen, check character `X` upper-case (ISO 3297).
- `doi:` the DOI lower-cased (DOI names are case-insensitive, ISO 26324), without `doi:`,
  `https://doi.org/` or `http://dx.doi.org/`; it starts with `10.`.
- `isan:` the 16 hex digits of the work (root and episode, ISO 15706); the version part and the
  check characters are dropped, so every version of a work is the work.
- `isrc:` 12 characters, upper-case, without hyphens (ISO 3901).
- `iswc:` `T` and 10 digits, without hyphens or dots (ISO 15707).

`normalise(text)` reads a prefixed value (`isbn:0-306-40615-2`, `urn:isbn:…`, a doi.org URL);
`find(text)` also reads the unprefixed forms metadata uses (`ISBN 978-…`, `10.1000/xyz`).
"""

from __future__ import annotations

import re

SCHEMES = ("isbn", "issn", "doi", "isan", "isrc", "iswc")
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—.]")
_DOI_PREFIXES = (
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "http://dx.doi.org/",
    "doi.org/",
    "info:doi/",
    "doi:",
)


def isbn13(value: str) -> str | None:
    digits = _SEPARATORS.sub("", value).upper()
    if re.fullmatch(r"\d{9}[\dX]", digits):
        check = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits)) % 11
        if check != 0:
            return None
        digits = "978" + digits[:9]
        return digits + str(-sum(int(c) * (1, 3)[i % 2] for i, c in enumerate(digits)) % 10)
    if re.fullmatch(r"97[89]\d{10}", digits):
        if sum(int(c) * (1, 3)[i % 2] for i, c in enumerate(digits)) % 10 == 0:
            return digits
    return None


def _issn(value: str) -> str | None:
    chars = _SEPARATORS.sub("", value).upper()
    if not re.fullmatch(r"\d{7}[\dX]", chars):
        return None
    total = sum((8 - i) * int(c) for i, c in enumerate(chars[:7]))
    check = (11 - total % 11) % 11
    return chars if chars[7] == ("X" if check == 10 else str(check)) else None


def _doi(value: str) -> str | None:
    value = value.strip().lower()
    for prefix in _DOI_PREFIXES:
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    return value if re.fullmatch(r"10\.\d{4,9}/\S+", value) else None


def _isan(value: str) -> str | None:
    chars = re.sub(r"[\s\-]", "", value).upper().removeprefix("ISAN")
    if len(chars) in (17, 26):  # with check characters after the work and the version parts
        chars = chars[:16] + chars[17:25]
    if not re.fullmatch(r"[0-9A-F]{16}([0-9A-F]{8})?", chars):
        return None
    return chars[:16]


def _isrc(value: str) -> str | None:
    chars = re.sub(r"[\s\-]", "", value).upper()
    return chars if re.fullmatch(r"[A-Z]{2}[A-Z0-9]{3}\d{7}", chars) else None


def _iswc(value: str) -> str | None:
    chars = _SEPARATORS.sub("", value).upper()
    return chars if re.fullmatch(r"T\d{10}", chars) else None


_NORMALISERS = {
    "isbn": isbn13,
    "issn": _issn,
    "doi": _doi,
    "isan": _isan,
    "isrc": _isrc,
    "iswc": _iswc,
}


def normalise(text: str) -> str | None:
    """`scheme:value` in its one written form, or None if `text` is not a prefixed identifier
    (`isbn:…`, `urn:isbn:…`, `doi:…`, a doi.org URL)."""
    text = text.strip()
    lowered = text.lower().removeprefix("urn:")
    if lowered.startswith(_DOI_PREFIXES[:5]):
        lowered = "doi:" + lowered
    scheme, colon, value = lowered.partition(":")
    if not colon or scheme not in _NORMALISERS:
        return None
    found = _NORMALISERS[scheme](value)  # each normaliser sets the case itself
    return f"{scheme}:{found}" if found else None


# Unprefixed forms seen in metadata: "ISBN 978-…", "ISSN: 1234-5679", a bare DOI.
_LABELLED = re.compile(
    r"\b(isbn|issn|isan|isrc|iswc)(?:-1[03])?\s*[:#]?\s*([0-9A-Za-z][0-9A-Za-z\s\-.]{6,40}[0-9A-Za-z])",
    re.IGNORECASE,
)
_BARE_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"'<>]+")


def find(text: str, scheme: str | None = None) -> list[str]:
    """The identifiers in a metadata value: a prefixed one, labelled ones, a bare DOI, or — when
    the field says which scheme it holds (`scheme`, e.g. schema.org `isbn`) — the value itself."""
    text = text.strip()
    if not text:
        return []
    found = normalise(text)
    if found:
        return [found]
    if scheme in _NORMALISERS:
        value = _NORMALISERS[scheme](text)
        if value:
            return [f"{scheme}:{value}"]
    results = []
    for label, value in _LABELLED.findall(text):
        # the pattern may run into following words: try the longest prefix that reads
        words = value.split()
        for end in range(len(words), 0, -1):
            normal = _NORMALISERS[label.lower()](" ".join(words[:end]))
            if normal:
                results.append(f"{label.lower()}:{normal}")
                break
    results += [f"doi:{d}" for d in (_doi(m.rstrip(".,;)")) for m in _BARE_DOI.findall(text)) if d]
    return list(dict.fromkeys(results))
