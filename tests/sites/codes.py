"""One origin per group of reason codes the README's table promises, for end-to-end crawls:
access refusals by status, Content-Signal and IPTC in a response, a redirect to another scheme,
an RSL licence that prohibits training, a robots.txt answering 429, and a page that turns 451
between two crawls."""

from __future__ import annotations

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = ["access", "rsl", "legal", "busy"]

# The bodies of refused answers: none of these bytes may reach a WARC file.
REFUSED = {status: f"<p>Refused body {status}.</p>" for status in (401, 402, 403, 407, 451)}

IPTC_PROHIBITED = (
    b"\xff\xd8\xff\xe1"
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/"'
    b' plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"/>'
    b"</rdf:RDF></x:xmpmeta>Reserved image bytes.\xff\xd9"
)


def _links(*hrefs: str) -> Reply:
    return html("".join(f'<a href="{href}">{href}</a> ' for href in hrefs))


class _Legal:
    """`/page` answers 200 until `/flip` is requested, then 451 (a court order between runs)."""

    def __init__(self) -> None:
        self.flipped = False

    def __call__(self, path: str) -> Reply:
        if path == "/flip":
            self.flipped = True
            return text("flipped")
        if path == "/page":
            if self.flipped:
                return html(REFUSED[451], status=451)
            return html("<p>Lawful today.</p>")
        if path == "/":
            return _links("/page")
        return routes({})(path)


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    rsl = addresses["rsl"]
    access = {
        "/": _links("/401", "/402", "/403", "/407", "/451", "/ok", "/signal-header", "/to-ftp"),
        "/ok": html("<p>Allowed.</p>"),
        # WWW-Authenticate and the like are what a server sends; we never answer them.
        "/401": html(REFUSED[401], status=401, headers=(("WWW-Authenticate", 'Basic realm="x"'),)),
        "/402": html(REFUSED[402], status=402),
        "/403": html(REFUSED[403], status=403),
        "/407": html(REFUSED[407], status=407, headers=(("Proxy-Authenticate", "Basic"),)),
        "/451": html(REFUSED[451], status=451),
        "/signal-header": html(
            "<p>Reserved by a Content-Signal header.</p>",
            headers=(("Content-Signal", "search=yes, ai-train=no"),),
        ),
        "/to-ftp": Reply(302, (("Location", "ftp://127.0.0.1/file"),), b""),
        "/photo.jpg": Reply(200, (("Content-Type", "image/jpeg"),), IPTC_PROHIBITED),
    }
    tables = {
        "access": access,
        "rsl": {
            "/robots.txt": text(f"License: {rsl}/license.xml\nUser-agent: *\nAllow: /\n"),
            "/license.xml": Reply(
                200,
                (("Content-Type", "application/rsl+xml"),),
                b'<rsl xmlns="https://rslstandard.org/rsl">'
                b'<content url="/"><license><prohibits type="usage">ai-train</prohibits>'
                b"</license></content></rsl>",
            ),
            "/": html("<p>Reserved by an RSL licence.</p>"),
        },
    }
    # robots.txt answering 429 Too Many Requests: complete disallow (README), not "allow all".
    tables["busy"] = {
        "/robots.txt": text("slow down", status=429, headers=(("Retry-After", "0"),)),
        "/": html("<p>Never requested: robots.txt answered 429.</p>"),
    }
    handlers: dict[str, Handler] = {name: routes(table) for name, table in tables.items()}
    handlers["legal"] = _Legal()
    return handlers
