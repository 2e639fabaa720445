"""One origin of linked pages, some reserved, for crawls whose provenance database goes away.

Page n links to pages 2n+1 and 2n+2 and to a robots-disallowed path, so a crawl makes kept
captures (decision + capture rows), after-fetch exclusions and before-fetch refusals.
"""

from __future__ import annotations

from crawler.demo.server import Handler, Reply, routes, text

ORIGINS = ["site"]
PAGES = 40
ANSWER_SECONDS = 0.05  # slow enough that the crawl is mid-way when a test locks the database


def page(n: int) -> Reply:
    links = " ".join(f'<a href="/p/{m}">page {m}</a>' for m in (2 * n + 1, 2 * n + 2) if m < PAGES)
    body = f'<html><body><p>page {n}</p>{links}<a href="/private/{n}">x</a></body></html>'
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)
    if n % 7 == 6:  # reserved after fetching: an excluded decision, no capture
        headers += (("tdm-reservation", "1"),)
    return Reply(200, headers, body.encode(), delay=ANSWER_SECONDS)


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    table = {f"/p/{n}": page(n) for n in range(PAGES)}
    table["/robots.txt"] = text("User-agent: *\nDisallow: /private/\n")
    return {"site": routes(table)}


def reachable() -> set[int]:
    """The pages a crawl from /p/0 fetches: links of a reserved page are not followed."""
    found, todo = set(), [0]
    while todo:
        n = todo.pop()
        found.add(n)
        if n % 7 != 6:
            todo += [m for m in (2 * n + 1, 2 * n + 2) if m < PAGES]
    return found
