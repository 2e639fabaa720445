"""Pages linking to ten more each: a crawl whose frontier keeps more requests than a worker has
room for, as a real site's does. `tree` answers at once; `slowtree`, smaller, answers slowly, so
that a worker holds requests it has taken and not yet started."""

from __future__ import annotations

from crawler.demo.server import Handler, Reply, routes, text

ORIGINS = ["tree", "slowtree"]
PAGES = {"tree": 300, "slowtree": 60}
DELAY = {"tree": 0.0, "slowtree": 0.1}
FAN_OUT = 10


def page(n: int, pages: int, delay: float) -> Reply:
    children = range(n * FAN_OUT + 1, min(pages, n * FAN_OUT + FAN_OUT + 1))
    links = " ".join(f'<a href="/p/{m}">page {m}</a>' for m in children)
    body = f'<html><body><p>page {n}</p>{links} <a href="/p/0">home</a></body></html>'
    headers = (("Content-Type", "text/html; charset=utf-8"),)
    return Reply(200, headers, body.encode(), delay=delay)


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    handlers = {}
    for origin in ORIGINS:
        table = {f"/p/{n}": page(n, PAGES[origin], DELAY[origin]) for n in range(PAGES[origin])}
        table["/robots.txt"] = text("User-agent: *\nAllow: /\n")
        handlers[origin] = routes(table)
    return handlers
