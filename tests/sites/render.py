"""Pages whose text, links and reservations are written by JavaScript, and scripts that try to
fetch what the gate refuses. `site` is crawled; `other` is a third party it loads from.

The markers a test looks for are built by the scripts from pieces, so they appear in the rendered
DOM and never in the response as received.
"""

from __future__ import annotations

import gzip

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = ["site", "other", "paced", "slow-paced"]


def _page(body: str, script: str = "") -> Reply:
    return html(
        f"<!doctype html><html><head><title>t</title></head><body>{body}"
        f"<script>{script}</script></body></html>"
    )


def _write(marker_parts: tuple[str, str]) -> str:
    first, second = marker_parts
    return (
        "var p = document.createElement('p');"
        f"p.textContent = '{first}' + '{second}';"
        "document.body.appendChild(p);"
    )


def _meta(name: str, content: str) -> str:
    return (
        "var m = document.createElement('meta');"
        f"m.name = '{name}'; m.content = '{content}';"
        "document.head.appendChild(m);" + _write(("Reserved by script", "-inserted meta."))
    )


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    other = addresses["other"]
    site = {
        "/robots.txt": text("User-agent: *\nDisallow: /private/\nAllow: /\n"),
        "/": _page(
            '<a href="/js-text">text</a> <a href="/js-noai">noai</a> '
            '<a href="/js-tdm">tdm</a> <a href="/fetcher">fetcher</a> '
            '<a href="/gzipped">gzipped</a> <a href="/loader">loader</a>',
            # a link only the rendered DOM has
            "var a = document.createElement('a'); a.href = '/js-link'; a.textContent = 'js';"
            "document.body.appendChild(a);",
        ),
        "/js-text": _page("<h1>Static heading</h1>", _write(("Rendered by ", "JavaScript."))),
        "/js-link": _page("", _write(("Reached through a ", "script link."))),
        "/js-noai": _page("", _meta("robots", "noai")),
        "/js-tdm": _page("", _meta("tdm-reservation", "1")),
        "/fetcher": _page(
            # a script from a third party (allowed: its robots.txt allows it), an image from it
            # (third-party media: refused by default), a redirect into a disallowed path, and
            # fetches of a disallowed and a declared-reserved URL.
            f'<script src="{other}/lib.js"></script>'
            f'<img src="{other}/pixel.png">'
            '<img src="/hop.png">'
            '<iframe src="/private/frame"></iframe>',
            "fetch('/private/data.json').catch(function () {});"
            "fetch('/reserved/data.json').catch(function () {});"
            + _write(("Fetcher page ", "rendered.")),
        ),
        # compressed although the crawler asks for identity
        "/gzipped": Reply(
            200,
            (("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")),
            gzip.compress(
                _page("<p>Compressed page.</p>", _write(("Decoded and ", "rendered."))).body
            ),
        ),
        # A script puts into the page what it fetches; one answer is reserved by its own header,
        # a frame by its own meta tag: neither may reach the rendered DOM.
        "/loader": _page(
            '<img src="/logo.png"><iframe src="/frame-noai"></iframe>'
            # a script whose server hangs up, and one sent chunked
            '<script src="/hang-up.js"></script><script src="/chunked.js"></script>',
            "function put(t) { var p = document.createElement('p'); p.textContent = t;"
            " document.body.appendChild(p); }"
            "fetch('/api/open.txt').then(function (r) { return r.text(); }).then(put);"
            "fetch('/api/reserved.txt').then(function (r) { return r.text(); }).then(put)"
            ".catch(function () { put('reserved fetch refused'); });",
        ),
        "/api/open.txt": text("Open API text."),
        "/api/reserved.txt": text("Header-reserved API text.", headers=(("X-Robots-Tag", "noai"),)),
        "/frame-noai": html(
            '<html><head><meta name="robots" content="noai"></head>'
            "<body><p>Frame reserved by its meta.</p></body></html>"
        ),
        "/hang-up.js": Reply(raw=b""),
        "/chunked.js": Reply(
            raw=b"HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n9\r\nvar a = 1\r\n0\r\n\r\n"
        ),
        "/logo.png": Reply(200, (("Content-Type", "image/png"),), b"\x89PNG same-origin logo"),
        "/hop.png": Reply(302, (("Location", "/private/pixel.png"),), b""),
        "/private/data.json": text("secret"),
        "/private/frame": html("<p>secret frame</p>"),
        "/private/pixel.png": Reply(200, (("Content-Type", "image/png"),), b"\x89PNG secret"),
        "/reserved/data.json": text("reserved"),
    }
    third_party = {
        "/robots.txt": text("User-agent: *\nAllow: /\n"),
        "/lib.js": Reply(
            200,
            (("Content-Type", "application/javascript"),),
            b"document.addEventListener('DOMContentLoaded', function () {"
            b"var p = document.createElement('p'); p.textContent = 'Library ' + 'loaded.';"
            b"document.body.appendChild(p); });",
        ),
        "/pixel.png": Reply(200, (("Content-Type", "image/png"),), b"\x89PNG third party"),
    }
    # An origin that asks for a Crawl-delay: the images a page loads are paced too.
    paced = {
        "/robots.txt": text("User-agent: *\nCrawl-delay: 0.5\nAllow: /\n"),
        "/": _page("".join(f'<img src="/img/{n}.png">' for n in range(4))),
        "/next": _page('<img src="/img/4.png"><img src="/img/5.png">'),
        "/next2": _page('<img src="/img/6.png"><img src="/img/7.png">'),
        **{
            f"/img/{n}.png": Reply(200, (("Content-Type", "image/png"),), b"\x89PNG paced")
            for n in range(8)
        },
    }
    # A Crawl-delay too long for all of a page's images to get a turn before it must load.
    slow_paced = {**paced, "/robots.txt": text("User-agent: *\nCrawl-delay: 2\nAllow: /\n")}
    # The first page also links to two more, rendered side by side: pages and images keep one
    # pace between them all.
    paced["/"] = _page(
        '<a href="/next">next</a> <a href="/next2">next2</a>'
        + "".join(f'<img src="/img/{n}.png">' for n in range(4))
    )
    return {
        "site": routes(site),
        "other": routes(third_party),
        "paced": routes(paced),
        "slow-paced": routes(slow_paced),
    }
