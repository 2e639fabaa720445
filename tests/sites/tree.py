"""One origin of many small pages, each linking to ten more: a crawl whose frontier keeps more
requests than a worker has room for, as a real site's does."""

from __future__ import annotations

from crawler.demo.server import Handler, Reply, routes, text

ORIGINS = ["tree"]
PAGES = 300
FAN_OUT = 10


def page(n: int) -> Reply:
    children = range(n * FAN_OUT + 1, min(PAGES, n * FAN_OUT + FAN_OUT + 1))
    links = " ".join(f'<a href="/p/{m}">page {m}</a>' for m in children)
    body = f"<html><body><p>page {n}</p>{links} <a href=\"/p/0\">home</a></body></html>"
    return Reply(200, (("Content-Type", "text/html; charset=utf-8"),), body.encode())


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    table = {f"/p/{n}": page(n) for n in range(PAGES)}
    table["/robots.txt"] = text("User-agent: *\nAllow: /\n")
    return {"tree": routes(table)}
