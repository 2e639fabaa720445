"""The demo site plus cases the tests need: gated redirects, a busy origin, a slow origin."""

from __future__ import annotations

import gzip
import itertools

from crawler.demo import site as demo
from crawler.demo.server import Handler, Reply, html, routes

ORIGINS = [*demo.ORIGINS, "busy", "slow", "redirect5", "redirect6", "encoded"]
BUSY_PAGES = 60
SLOW_PAGES = 400


def _links(hrefs: list[str]) -> str:
    return "".join(f'<a href="{href}">{href}</a> ' for href in hrefs)


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    tables = demo.tables(addresses)
    main = tables["main"]
    main["/moved-to-private"] = Reply(302, (("Location", "/private/hidden"),), b"")
    main["/moved-to-closed"] = Reply(302, (("Location", f"{addresses['closed']}/landing"),), b"")
    main["/moved-to-reserved"] = Reply(301, (("Location", "/reserved/tdm-header"),), b"")
    main["/gated"] = html(
        _links(
            ["/moved-to-private", "/moved-to-closed", "/moved-to-reserved", "/moved", "/refresh"]
        )
    )
    main["/private/hidden"] = html("<p>never requested</p>")
    main["/refresh"] = html(
        '<meta http-equiv="refresh" content="0; url=/articles/2"><p>refresh</p>'
    )
    main["/chain/0"] = Reply(302, (("Location", "/chain/1"),), b"")
    main["/chain/1"] = Reply(302, (("Location", "/chain/2"),), b"")
    main["/chain/2"] = Reply(302, (("Location", "/chain/3"),), b"")
    main["/chain/3"] = Reply(302, (("Location", "/chain/4"),), b"")
    main["/chain/4"] = html("<p>end of chain</p>")
    main["/big"] = html("<p>" + "big " * 50_000 + "</p>")
    main["/bomb"] = Reply(
        200,
        (("Content-Type", "text/html"), ("Content-Encoding", "gzip")),
        gzip.compress(b"<p>" + b"0" * 5_000_000 + b"</p>"),
    )
    # Every page of `busy` is a seed: many requests for a new origin arrive at once.
    tables["busy"] = {f"/p/{n}": html(f"<p>busy page {n}</p>") for n in range(BUSY_PAGES)}
    tables["busy"]["/robots.txt"] = Reply(
        200, (("Content-Type", "text/plain"),), b"User-agent: *\nAllow: /\n"
    )
    # A chain of slow pages, for interrupting a crawl half-way.
    slow = {
        f"/s/{n}": Reply(
            200,
            (("Content-Type", "text/html"),),
            f'<p>slow page {n}</p><a href="/s/{2 * n + 1}">a</a><a href="/s/{2 * n + 2}">b</a>'.encode(),
            delay=0.05,
        )
        for n in range(SLOW_PAGES)
    }
    tables["slow"] = slow
    # Bodies in a coding the client cannot decode: their signals cannot be read.
    main["/undecodable"] = Reply(
        200,
        (("Content-Type", "text/html"), ("Content-Encoding", "x-unknown")),
        b'<meta name="tdm-reservation" content="1"><p>Reserved but unreadable.</p>',
    )
    tables["encoded"] = {
        "/robots.txt": Reply(
            200,
            (("Content-Type", "text/plain"), ("Content-Encoding", "x-unknown")),
            b"User-agent: *\nDisallow: /\n",
        ),
        "/": html("<p>encoded</p>"),
    }
    # robots.txt behind 5 redirects (RFC 9309 §2.3.1.2: follow at least five) and behind 6.
    for name, hops in (("redirect5", 5), ("redirect6", 6)):
        chain = ["/robots.txt", *(f"/hop/{n}" for n in range(1, hops + 1))]
        table = {
            src: Reply(301, (("Location", dst),), b"") for src, dst in itertools.pairwise(chain)
        }
        table[chain[-1]] = Reply(
            200, (("Content-Type", "text/plain"),), b"User-agent: *\nDisallow: /no\n"
        )
        table["/"] = html('<a href="/no">no</a>')
        table["/no"] = html("<p>disallowed</p>")
        tables[name] = table
    return {name: routes(table) for name, table in tables.items()}
