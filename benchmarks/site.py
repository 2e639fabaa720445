"""A synthetic site for the benchmarks: N pages of ~20 KB of HTML on one loopback origin.

    BENCH_PAGES=5000 python -m crawler.demo.server benchmarks.site

Page 0 is `/`; page i > 0 is `/p/i`. Pages form a tree: page i links to its children
i*10+1 … i*10+10 (those below N), to `/` and, on every 100th page, to `/nope/i`, which
robots.txt disallows. So any crawl from `/` reaches all N pages, and both crawlers meet a few
disallowed links. Pages are generated per request from a precomputed filler (~20 KB of
paragraphs and markup), so the server does little more than a string join per page.

`write_static(directory, pages)` writes the same site as files (`index.html`, `p/<i>`,
`robots.txt`) for nginx (`benchmarks/nginx.py`); `page_body()` makes the bytes for both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from crawler.demo.server import NOT_FOUND, Handler, Reply, text

ORIGINS = ["bench"]

PAGE_BYTES = 20 * 1024
FANOUT = 10
DISALLOWED_EVERY = 100

ROBOTS_TXT = "User-agent: *\nDisallow: /nope/\n"
_HEADERS = (("Content-Type", "text/html; charset=utf-8"),)

_SENTENCE = (
    "Public-domain benchmark text with <em>some</em> inline markup and ordinary words, "
    "long enough to look like a paragraph of an article. "
)


def _filler(size: int) -> str:
    parts: list[str] = []
    total = 0
    n = 0
    while total < size:
        n += 1
        if n % 8 == 0:
            block = f"<h2>Section {n // 8}</h2>\n"
        elif n % 5 == 0:
            block = "<ul>" + "".join(f"<li>Item {k} of a list</li>" for k in range(6)) + "</ul>\n"
        else:
            block = f'<p class="para-{n % 3}">{_SENTENCE * 3}</p>\n'
        parts.append(block)
        total += len(block)
    return "".join(parts)


def page_count() -> int:
    return int(os.environ.get("BENCH_PAGES", "5000"))


def page_path(i: int) -> str:
    return "/" if i == 0 else f"/p/{i}"


def page_links(i: int, pages: int) -> list[str]:
    links = [page_path(c) for c in range(i * FANOUT + 1, min(i * FANOUT + FANOUT, pages - 1) + 1)]
    links.append("/")
    if i % DISALLOWED_EVERY == 0:
        links.append(f"/nope/{i}")
    return links


# With BENCH_SCRIPT=1 each page also writes a paragraph with a script (the rendering benchmark).
SCRIPT = (
    "<script>var p = document.createElement('p');"
    "p.textContent = 'Written by ' + 'a script.'; document.body.appendChild(p);</script>"
)


def filler() -> str:
    return _filler(PAGE_BYTES - 1024)  # the varying head and links make up the rest


def page_body(
    i: int, pages: int, filler: str, script: str = "", *, article: str | None = None
) -> bytes:
    """Page i: heading, links, then `article` (default: the filler in an `<article>`)."""
    links = "".join(
        f'<li><a href="{href}">Link to {href}</a></li>' for href in page_links(i, pages)
    )
    if article is None:
        article = f"<article>{filler}</article>"
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Benchmark page {i}</title>"
        '<meta name="description" content="A synthetic benchmark page.">'
        f"</head><body><h1>Benchmark page {i}</h1><nav><ul>{links}</ul></nav>"
        f"{article}{script}</body></html>"
    )
    return body.encode("utf-8")


def write_static(directory: Path, pages: int, *, script: bool = False) -> None:
    """The site as static files: `/` is `index.html`, `/p/i` is `p/i` (served as text/html)."""
    fill = filler()
    extra = SCRIPT if script else ""
    (directory / "p").mkdir(parents=True)
    (directory / "robots.txt").write_text(ROBOTS_TXT)
    (directory / "index.html").write_bytes(page_body(0, pages, fill, extra))
    for i in range(1, pages):
        (directory / "p" / str(i)).write_bytes(page_body(i, pages, fill, extra))


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    pages = page_count()
    script = SCRIPT if os.environ.get("BENCH_SCRIPT") == "1" else ""
    fill = filler()
    return {"bench": tree_handler(pages, lambda i: page_body(i, pages, fill, script))}


def tree_handler(pages: int, page: Callable[[int], bytes]) -> Handler:
    """`/`, `/robots.txt` and `/p/1` … `/p/{pages - 1}`, each page's HTML from `page(i)`."""
    robots = text(ROBOTS_TXT)

    def handler(path: str) -> Reply:
        if path == "/":
            return Reply(200, _HEADERS, page(0))
        if path == "/robots.txt":
            return robots
        if path.startswith("/p/"):
            try:
                i = int(path[3:])
            except ValueError:
                return NOT_FOUND
            if 0 < i < pages:
                return Reply(200, _HEADERS, page(i))
        return NOT_FOUND

    return handler
