"""Origins that ask for pacing, or that answer 'too many requests'."""

from __future__ import annotations

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = ["paced", "overloaded", "capped"]
PAGES = 12


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    paced = {f"/p/{n}": html(f"<p>paced {n}</p>") for n in range(4)}
    paced["/robots.txt"] = text("User-agent: *\nCrawl-delay: 1\nAllow: /\n")
    overloaded = {
        f"/p/{n}": Reply(
            429, (("Content-Type", "text/plain"), ("Retry-After", "1")), b"slow down\n"
        )
        for n in range(PAGES)
    }
    overloaded["/robots.txt"] = text("User-agent: *\nAllow: /\n")
    capped = {f"/p/{n}": html(f"<p>capped {n}</p>") for n in range(PAGES)}
    return {"paced": routes(paced), "overloaded": routes(overloaded), "capped": routes(capped)}
