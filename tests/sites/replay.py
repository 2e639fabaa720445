"""Two origins of a few linked pages each, for replaying a crawl in web archive tools.

Every reply is a fixed value (`served_reply` rebuilds it), so a test can compare what a replay
tool serves with the bytes the server sent:

    /             index: links to the pages of its origin and to the other origin's index
    /article      a page
    /plain        the same bytes every time: a second run writes an identical-payload revisit
    /compressed   sent gzip-encoded (a fixed mtime: the same bytes every time)
    /script       text written by a script (north only): the page a rendering crawl renders
    /private/x    disallowed by robots.txt: never fetched, never replayed
"""

from __future__ import annotations

import gzip

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = ["north", "south"]
PAGES = ("/article", "/plain", "/compressed", "/private/x")
SCRIPT = (
    "<!doctype html><html><head><title>script</title></head><body><p>Sent as is.</p>"
    "<script>var p = document.createElement('p'); p.textContent = 'Written by ' + 'script.';"
    "document.body.appendChild(p);</script></body></html>"
)


def _page(origin: str, title: str) -> str:
    return f"<!doctype html><html><head><title>{origin} {title}</title></head><body><p>{origin}: {title}</p></body></html>"


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    handlers = {}
    for origin in ORIGINS:
        other = next(o for o in ORIGINS if o != origin)
        paths = [*PAGES, "/script"] if origin == "north" else list(PAGES)
        links = "".join(f'<a href="{path}">{path}</a> ' for path in paths)
        table = {
            "/robots.txt": text("User-agent: *\nDisallow: /private/\n"),
            "/": html(f'<p>{origin}</p>{links}<a href="{addresses[other]}/">{other}</a>'),
            "/article": html(_page(origin, "article")),
            "/plain": html(_page(origin, "the same bytes every time")),
            "/compressed": Reply(
                200,
                (("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")),
                gzip.compress(_page(origin, "sent gzip-encoded").encode(), mtime=0),
            ),
            "/private/x": html(_page(origin, "private")),
        }
        if origin == "north":
            table["/script"] = html(SCRIPT)
        handlers[origin] = routes(table)
    return handlers
