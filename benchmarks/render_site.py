"""The benchmark site (benchmarks/site.py: the same tree of ~20 KB pages) where one page in ten
writes its text with a script — the `-a render=auto` benchmark (benchmarks/render.py --auto).

    BENCH_PAGES=500 python -m crawler.demo.server benchmarks.render_site

A script page (`scripted(i)`: i % 10 == 5) keeps its heading and links in the HTML but has an
empty `<div id="app">` that a script fills with the article and the marker `marker(i)`; the
marker is built from pieces, so it is in the rendered DOM only. The other pages are site.py's.
"""

from __future__ import annotations

import json

from benchmarks.site import PAGE_BYTES, ROBOTS_TXT, _filler, page_count, page_links
from crawler.demo.server import NOT_FOUND, Handler, Reply, text

ORIGINS = ["bench"]
SCRIPTED_EVERY = 10
_HEADERS = (("Content-Type", "text/html; charset=utf-8"),)


def scripted(i: int) -> bool:
    return i % SCRIPTED_EVERY == SCRIPTED_EVERY // 2


def marker(i: int) -> str:
    return f"Script-written text of page {i}."


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    pages = page_count()
    filler = _filler(PAGE_BYTES - 1024)
    robots = text(ROBOTS_TXT)

    def page(i: int) -> Reply:
        links = "".join(
            f'<li><a href="{href}">Link to {href}</a></li>' for href in page_links(i, pages)
        )
        if scripted(i):
            words = marker(i).split(" ", 2)
            article = (
                '<div id="app"></div><script>'
                f"document.getElementById('app').innerHTML = {json.dumps(filler)} + "
                f"'<p>' + {json.dumps(' '.join(words[:2]))} + ' ' + {json.dumps(words[2])} + "
                "'</p>';</script>"
            )
        else:
            article = f"<article>{filler}</article>"
        body = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>Benchmark page {i}</title>"
            '<meta name="description" content="A synthetic benchmark page.">'
            f"</head><body><h1>Benchmark page {i}</h1><nav><ul>{links}</ul></nav>"
            f"{article}</body></html>"
        )
        return Reply(200, _HEADERS, body.encode("utf-8"))

    def handler(path: str) -> Reply:
        if path == "/":
            return page(0)
        if path == "/robots.txt":
            return robots
        if path.startswith("/p/"):
            try:
                i = int(path[3:])
            except ValueError:
                return NOT_FOUND
            if 0 < i < pages:
                return page(i)
        return NOT_FOUND

    return {"bench": handler}
