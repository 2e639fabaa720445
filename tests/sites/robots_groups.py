"""Origins whose robots.txt files are laid out the way real ones are and that Protego misread."""

from __future__ import annotations

from crawler.demo.server import Handler, html, routes, text

ORIGINS = ["crawl_delay_first", "index_html", "dollar"]
PATHS = {
    # RFC 9309 §2.2.4: Crawl-delay does not end the group, so `*` shares Googlebot's rules.
    "crawl_delay_first": (
        "User-agent: *\nCrawl-delay: 0.2\nUser-agent: Googlebot\nDisallow: /search/\n",
        ["/open/1", "/search/1"],
    ),
    # No "index.html is the directory" in RFC 9309.
    "index_html": (
        "User-agent: *\nAllow: /x/index.html\nDisallow: /\n",
        ["/x/", "/x/index.html"],
    ),
    # A final `$` only anchors the end.
    "dollar": ("User-agent: *\nDisallow: /price$\n", ["/price", "/price$"]),
}


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    handlers = {}
    for origin, (robots, paths) in PATHS.items():
        table = {path: html(f"<p>{origin} {path}</p>") for path in paths}
        table["/robots.txt"] = text(robots)
        handlers[origin] = routes(table)
    return handlers
