"""Redirects whose targets meet every fate, bodies past DOWNLOAD_MAXSIZE, credentials in links.

`main` is the crawled site; `other` is a second origin on the same host (robots.txt of its own).
Every redirecting URL of `main` is linked from `/`. The site remembers every request that
carried an `Authorization` header and lists them at `/_authorization` (as JSON).
"""

from __future__ import annotations

import gzip
import json

from crawler.demo.server import Handler, Reply, html, text

ORIGINS = ["main", "other"]
PASSWORD = "s3cr3t-pa55w0rd"  # in a seed and a redirect's Location: must appear nowhere
LINK_PASSWORD = "l1nk-pa55w0rd"  # in a link of `/`: only in that page's bytes as received
MAX_REDIRECTS = 3  # the crawl's REDIRECT_MAX_TIMES
MAXSIZE = 100_000  # the crawl's DOWNLOAD_MAXSIZE


def _redirect(status: int, location: str) -> Reply:
    return Reply(status, (("Location", location), ("Content-Type", "text/html")), b"")


def _chunked(body: bytes, headers: str = "") -> Reply:
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(piece), piece)
        for piece in (body[i : i + 8192] for i in range(0, len(body), 8192))
    )
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n{headers}Transfer-Encoding: chunked\r\n"
    return Reply(raw=head.encode() + b"Connection: close\r\n\r\n" + chunks + b"0\r\n\r\n")


def redirects(addresses: dict[str, str]) -> dict[str, Reply]:
    """Every redirecting URL of `main`, by path."""
    main, other = addresses["main"], addresses["other"]
    netloc = main.split("://", 1)[1]
    table = {
        # Targets that are kept, for each redirect status and spelling of Location.
        "/r/301": _redirect(301, "/page/1"),
        "/r/302": _redirect(302, "/page/2"),
        "/r/303": _redirect(303, "/page/3"),
        "/r/307": _redirect(307, "/page/4"),
        "/r/308": _redirect(308, f"{main}/page/5"),
        "/r/relative": _redirect(302, "../page/6"),
        "/r/scheme-relative": _redirect(302, f"//{netloc}/page/7"),
        "/r/spaces": _redirect(302, "/page/with spaces"),
        "/r/garbage": _redirect(302, '\x7f<>"{junk}|^`'),
        "/r/invalid": _redirect(302, "http://[bad-ipv6/x"),
        "/r/port": _redirect(302, "http://127.0.0.1:99999/"),
        "/r/chain-a": _redirect(302, "/r/chain-b"),
        "/r/chain-b": _redirect(301, "/page/8"),
        "/r/to-seen": _redirect(302, "/page/1"),  # decided already (the dupefilter drops it)
        "/r/credentials": _redirect(302, f"http://user:{PASSWORD}@{netloc}/page/9"),
        # Targets refused before fetching.
        "/r/robots": _redirect(302, "/private/1"),
        "/r/robots-other": _redirect(307, f"{other}/private/2"),
        "/r/declared": _redirect(301, "/declared/1"),
        "/r/blocked": _redirect(302, "/blocked/1"),
        "/r/ftp": _redirect(302, "ftp://127.0.0.1/file.txt"),
        "/r/mailto": _redirect(302, "mailto:someone@example.org"),
        "/r/data": _redirect(302, "data:,hello"),
        "/r/javascript": _redirect(302, "javascript:alert(1)"),
        # Targets refused after fetching, or not found.
        "/r/reserved": _redirect(302, "/reserved"),
        "/r/missing-target": _redirect(302, "/nothing-here"),
        # Off-site (another host name): Scrapy's OffsiteMiddleware drops the target.
        "/r/offsite": _redirect(302, f"http://localhost:{netloc.rsplit(':', 1)[1]}/page/x"),
        # Loops, a chain longer than REDIRECT_MAX_TIMES.
        "/r/loop-a": _redirect(302, "/r/loop-b"),
        "/r/loop-b": _redirect(302, "/r/loop-a"),
        "/r/self": _redirect(301, "/r/self"),
        "/r/empty-location": _redirect(302, ""),
        **{
            f"/r/long/{n}": _redirect(302, f"/r/long/{n + 1}")
            for n in range(MAX_REDIRECTS + 2)  # /r/long/4 is never asked for
        },
        # Redirect statuses that are not followed.
        "/r/no-location": Reply(302, (("Content-Type", "text/html"),), b"<p>no Location</p>"),
        "/r/300": _redirect(300, "/page/10"),
    }
    return table


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    main = addresses["main"]
    netloc = main.split("://", 1)[1]
    table = redirects(addresses)
    # The head of each chain (the other hops are only reached by redirects).
    heads = [path for path in table if path != "/r/chain-b" and not path.startswith("/r/long/")]
    bodies = ["/big/content-length", "/big/chunked", "/big/close-delimited", "/big/gzip"]
    links = [*heads, "/r/long/0", *bodies, "/big/gzip-chunked"]
    links += [f"http://linkuser:{LINK_PASSWORD}@{netloc}/page/11", "/page/12"]
    big = b"<p>" + b"b" * (2 * MAXSIZE) + b"</p>"
    table.update(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /private/\n"),
            "/": html("".join(f'<a href="{href}">{href}</a>\n' for href in links)),
            **{f"/page/{n}": html(f"<p>page {n}</p>") for n in range(1, 13)},
            "/page/with%20spaces": html("<p>with spaces</p>"),
            "/seed": html("<p>a seed given with credentials</p>"),
            "/with-credentials": html(
                f'<a href="http://linkuser:{LINK_PASSWORD}@{netloc}/page/11">a link</a>'
            ),
            "/declared/1": html("<p>never requested</p>"),
            "/blocked/1": html("<p>never requested</p>"),
            "/private/1": html("<p>never requested</p>"),
            "/reserved": html("<p>reserved</p>", headers=(("tdm-reservation", "1"),)),
            # Bodies past MAXSIZE without a Content-Length, and compressed ones that inflate past.
            "/big/content-length": html(big.decode()),
            "/big/chunked": _chunked(big),
            "/big/close-delimited": Reply(
                raw=b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n" + big
            ),
            "/big/gzip": Reply(
                200,
                (("Content-Type", "text/html"), ("Content-Encoding", "gzip")),
                gzip.compress(big),
            ),
            "/big/gzip-chunked": _chunked(gzip.compress(big), "Content-Encoding: gzip\r\n"),
        }
    )
    other_table = {
        "/robots.txt": text("User-agent: *\nDisallow: /private/\n"),
        "/private/2": html("<p>never requested</p>"),
    }
    authorized: list[dict[str, str]] = []

    def handler(origin: str, routes: dict[str, Reply]) -> Handler:
        def answer(path: str, headers: dict[str, str]) -> Reply:
            if "authorization" in headers or "proxy-authorization" in headers:
                authorized.append({"origin": origin, "path": path})
            if path == "/_authorization":
                return text(json.dumps(authorized))
            return routes.get(path, Reply(404, (("Content-Type", "text/plain"),), b"not found\n"))

        answer.wants_headers = True  # type: ignore[attr-defined]
        return answer

    return {"main": handler("main", table), "other": handler("other", other_table)}
