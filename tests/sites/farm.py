"""Two origins of linked pages that answer slowly, for crawls shared by several workers."""

from __future__ import annotations

from crawler.demo.server import Handler, Reply, routes, text

ORIGINS = ["left", "right"]
PAGES = 30
ANSWER_SECONDS = 0.1  # long enough that requests overlap, so concurrency can be counted


def page(n: int) -> Reply:
    links = " ".join(f'<a href="/p/{m}">page {m}</a>' for m in (2 * n + 1, 2 * n + 2) if m < PAGES)
    body = f"<html><body><p>page {n}</p>{links}</body></html>".encode()
    return Reply(200, (("Content-Type", "text/html; charset=utf-8"),), body, delay=ANSWER_SECONDS)


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    handlers = {}
    for origin in ORIGINS:
        table = {f"/p/{n}": page(n) for n in range(PAGES)}
        table["/robots.txt"] = text("User-agent: *\nDisallow: /private/\n")
        table["/p/0"] = Reply(
            200,
            (("Content-Type", "text/html; charset=utf-8"),),
            page(0).body.replace(b"</body>", b'<a href="/private/x">private</a></body>'),
            delay=ANSWER_SECONDS,
        )
        handlers[origin] = routes(table)
    return handlers
