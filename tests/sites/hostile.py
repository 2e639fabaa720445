"""Hostile and broken servers: each page tries to crash, stall or flood the crawler."""

from __future__ import annotations

import gzip
import json
from functools import cache

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = ["hostile", "htmlrobots", "bigrobots", "deeptdm", "hugetdm"]


@cache
def _bomb() -> bytes:
    return gzip.compress(b"\0" * 80_000_000, compresslevel=9)  # 80 MB from ~80 KB


def _lazy(table: dict[str, Reply], lazy: dict[str, object]) -> Handler:
    def handler(path: str) -> Reply:
        if path in lazy:
            return lazy[path]()
        return table.get(path, Reply(404, (("Content-Type", "text/plain"),), b"not found\n"))

    return handler


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    hostile = {
        "/robots.txt": text("User-agent: *\nAllow: /\n"),
        "/": html(
            "".join(
                f'<a href="{p}">{p}</a> '
                for p in (
                    "/hang",
                    "/drip",
                    "/loop",
                    "/bad-status",
                    "/bad-header",
                    "/charset",
                    "/huge",
                    "/truncated",
                )
            )
        ),
        "/hang": Reply(200, (("Content-Type", "text/html"),), b"<p>late</p>", delay=30),
        "/drip": Reply(
            200, (("Content-Type", "text/html"),), b"<p>" + b"d" * 4096 + b"</p>", drip=0.5
        ),
        "/loop": Reply(302, (("Location", "/loop2"),), b""),
        "/loop2": Reply(302, (("Location", "/loop"),), b""),
        "/bad-status": Reply(raw=b"HTTP/1.1 abc Nonsense\r\nContent-Length: 2\r\n\r\nhi"),
        "/bad-header": Reply(
            raw=b"HTTP/1.1 200 OK\r\nthis is not a header\r\nContent-Length: 2\r\n\r\nhi"
        ),
        "/charset": Reply(
            200,
            (("Content-Type", "text/html; charset=x-no-such-charset"),),
            b"<p>caf\xe9 \xff\xfe bytes</p>",
        ),
        "/huge": Reply(
            raw=b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 500000000\r\n\r\n<p>"
        ),
        "/truncated": Reply(
            raw=b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<p>short"
        ),
    }
    # Compressed now, before the server announces itself: compressing 80 MB inside a request
    # would stall the one event loop that answers every origin, and their policy files would then
    # time out (a race the crawl's short DOWNLOAD_TIMEOUT turned into a failure on a busy machine).
    bomb = Reply(200, (("Content-Type", "text/html"), ("Content-Encoding", "gzip")), _bomb())
    lazy = {"/bomb": lambda: bomb}
    deep = "[" * 10_000 + "]" * 10_000
    return {
        "hostile": _lazy(hostile, lazy),
        "htmlrobots": routes(
            {
                "/robots.txt": html(
                    "<!doctype html><html><body><h1>Welcome</h1>Disallow: /</body></html>"
                ),
                "/": html("<p>robots.txt is an HTML page</p>"),
            }
        ),
        "bigrobots": routes(
            {
                "/robots.txt": text(
                    "User-agent: *\nAllow: /\n" + "# padding\n" * 1_000_000 + "Disallow: /\n"
                ),
                "/": html("<p>robots.txt is 10 MB; only the first 500 KiB is read</p>"),
            }
        ),
        "deeptdm": routes(
            {
                "/.well-known/tdmrep.json": Reply(
                    200, (("Content-Type", "application/json"),), deep.encode()
                ),
                "/": html("<p>tdmrep.json nested 10,000 deep</p>"),
            }
        ),
        "hugetdm": routes(
            {
                "/.well-known/tdmrep.json": Reply(
                    200,
                    (("Content-Type", "application/json"),),
                    json.dumps(
                        [{"location": f"/x{n}/", "tdm-reservation": 1} for n in range(60_000)]
                    ).encode(),
                ),
                "/": html("<p>tdmrep.json is 2 MB</p>"),
            }
        ),
    }
