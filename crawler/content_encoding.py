"""Whether Scrapy could decode a response body: signals in an undecoded body cannot be read."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.http import Response


def undecoded_encoding(response: Response) -> str | None:
    """The Content-Encoding still applied to the body, or None when the body is plain.

    HttpCompressionMiddleware removes the header once it has decoded the body and leaves it when
    it cannot (an unknown coding, or compression switched off).
    """
    codings = [
        coding.strip()
        for value in response.headers.getlist(b"Content-Encoding")
        for coding in value.decode("latin-1").split(",")
        if coding.strip() and coding.strip().lower() != "identity"
    ]
    if not codings:
        return None
    return f"Content-Encoding {', '.join(codings)} could not be decoded"
