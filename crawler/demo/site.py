"""The demo site: every case the foundation gate handles, on four loopback origins.

- `main`: robots.txt disallows /private/ for everyone; articles to keep; pages reserved by a
  `tdm-reservation: 1` header, an `X-Robots-Tag: noai` header, `<meta name="robots" content="noai">`
  and `<meta name="tdm-reservation" content="1">`; a redirect, a gzip-encoded page, a 404.
- `down`: robots.txt answers 503 — RFC 9309 says assume complete disallow.
- `open`: no robots.txt (404) — everything may be crawled.
- `closed`: robots.txt disallows our token `rightscrawl` everywhere, while allowing others.
"""

from __future__ import annotations

import gzip

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = ["main", "down", "open", "closed"]


def _page(title: str, body: str, *, head: str = "", links: list[str] = ()) -> str:
    items = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
        f"<body><h1>{title}</h1><p>{body}</p><ul>{items}</ul></body></html>"
    )


def _article(n: int) -> str:
    return _page(
        f"Article {n}",
        f"Public-domain text number {n}. " * 20,
        links=["/", f"/articles/{n % 3 + 1}"],
    )


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    return {name: routes(table) for name, table in tables(addresses).items()}


def tables(addresses: dict[str, str]) -> dict[str, dict[str, Reply]]:
    """The routes of every origin, as plain tables that tests may extend."""
    down, open_, closed = addresses["down"], addresses["open"], addresses["closed"]
    main = {
        "/robots.txt": text("User-agent: *\nDisallow: /private/\n\nSitemap: /sitemap.xml\n"),
        "/": html(
            _page(
                "Demo corpus",
                "A site that shows what rightscrawl keeps and what it excludes.",
                links=[
                    "/articles/1",
                    "/articles/2",
                    "/articles/3",
                    "/private/secret",
                    "/reserved/tdm-header",
                    "/reserved/noai-header",
                    "/reserved/noai-meta",
                    "/reserved/tdm-meta",
                    "/moved",
                    "/compressed",
                    "/missing",
                    f"{down}/",
                    f"{open_}/",
                    f"{closed}/",
                ],
            )
        ),
        "/articles/1": html(_article(1)),
        "/articles/2": html(_article(2)),
        "/articles/3": html(_article(3)),
        "/private/secret": html(_page("Private", "robots.txt disallows this path.")),
        "/reserved/tdm-header": html(
            _page("TDM reserved", "Reserved by an HTTP header."),
            headers=(("tdm-reservation", "1"),),
        ),
        "/reserved/noai-header": html(
            _page("noai header", "Reserved by X-Robots-Tag."), headers=(("X-Robots-Tag", "noai"),)
        ),
        "/reserved/noai-meta": html(
            _page(
                "noai meta",
                "Reserved by a robots meta tag.",
                head='<meta name="robots" content="noindex, NoAI">',
            )
        ),
        "/reserved/tdm-meta": html(
            _page(
                "TDM meta",
                "Reserved by TDMRep meta.",
                head='<meta name="tdm-reservation" content="1">',
            )
        ),
        "/moved": Reply(
            301, (("Location", "/articles/3"), ("Content-Type", "text/plain")), b"moved\n"
        ),
        "/compressed": Reply(
            200,
            (("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")),
            gzip.compress(_page("Compressed", "Sent gzip-encoded; archived as received.").encode()),
        ),
    }
    return {
        "main": main,
        "down": {
            "/robots.txt": text("temporarily unavailable\n", status=503),
            "/": html(_page("Down", "robots.txt answers 503, so nothing here may be kept.")),
        },
        "open": {
            "/": html(
                _page("Open", "No robots.txt (404): anything may be crawled.", links=["/about"])
            ),
            "/about": html(_page("About", "Kept: robots.txt is unavailable, not unreachable.")),
        },
        "closed": {
            "/robots.txt": text(
                "User-agent: RightsCrawl\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
            ),
            "/": html(_page("Closed", "robots.txt disallows our token here.")),
        },
    }
