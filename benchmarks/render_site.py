"""The benchmark site (benchmarks/site.py: the same tree of ~20 KB pages) where one page in ten
writes its text with a script — the `-a render=auto` benchmark (benchmarks/render.py --auto).

    BENCH_PAGES=500 python -m crawler.demo.server benchmarks.render_site

A script page (`scripted(i)`: i % 10 == 5) keeps its heading and links in the HTML but has an
empty `<div id="app">` that a script fills with the article and the marker `marker(i)`; the
marker is built from pieces, so it is in the rendered DOM only. The other pages are site.py's.
"""

from __future__ import annotations

import json

from benchmarks.site import PAGE_BYTES, _filler, page_body, page_count, tree_handler
from crawler.demo.server import Handler

ORIGINS = ["bench"]
SCRIPTED_EVERY = 10


def scripted(i: int) -> bool:
    return i % SCRIPTED_EVERY == SCRIPTED_EVERY // 2


def marker(i: int) -> str:
    return f"Script-written text of page {i}."


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    pages = page_count()
    filler = _filler(PAGE_BYTES - 1024)

    def page(i: int) -> bytes:
        if not scripted(i):
            return page_body(i, pages, filler)
        words = marker(i).split(" ", 2)
        article = (
            '<div id="app"></div><script>'
            f"document.getElementById('app').innerHTML = {json.dumps(filler)} + "
            f"'<p>' + {json.dumps(' '.join(words[:2]))} + ' ' + {json.dumps(words[2])} + "
            "'</p>';</script>"
        )
        return page_body(i, pages, filler, article=article)

    return {"bench": tree_handler(pages, page)}
