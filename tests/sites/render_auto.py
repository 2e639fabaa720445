"""Pages for `-a render=auto`: some write their text with a script, the others are static.

Every page loads an image of its own (`/img/<page>.png`): the crawl does not collect images, so
only a browser rendering the page requests it — the server's log says which pages were rendered.
Markers written by scripts are built from pieces, so they appear in the rendered DOM only.
"""

from __future__ import annotations

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = ["site"]

SENTENCE = "Static prose that a plain fetch reads whole, with ordinary words in it. "  # 72 chars
STATIC = ("/static/1", "/static/2", "/static/3")
# script pages and the heuristic's reason for each
SCRIPTED = {
    "/app": "app-root-empty",
    "/noscript": "noscript-fallback",
    "/little": "little-text",
    "/heavy": "script-heavy",
}
RESERVED = "/reserved-app"  # an app page whose served HTML reserves it (noai)
SCRIPT_RESERVED = "/app-noai"  # an app page whose script inserts a noai meta
DISALLOWED = "/private/app"  # an app page robots.txt disallows


def marker(path: str) -> str:
    return f"Written by script on {path}."


def _write(path: str, target: str = "document.body") -> str:
    text_ = marker(path)
    half = len(text_) // 2
    return (
        f"var p = document.createElement('p'); p.textContent = '{text_[:half]}' + "
        f"'{text_[half:]}'; {target}.appendChild(p);"
    )


def _page(path: str, body: str, script: str, head: str = "") -> Reply:
    return html(
        f"<!doctype html><html><head><title>{path}</title>{head}</head><body>{body}"
        f'<img src="/img{path}.png" alt=""><script>{script}</script></body></html>'
    )


def pages() -> dict[str, Reply]:
    app_root = '<div id="root"></div>'
    found = {
        # ~430 characters of text and a small script (a counter, a widget): not rendered
        **{p: _page(p, f"<h1>Static {p}</h1><p>{SENTENCE * 6}</p>", _write(p)) for p in STATIC},
        "/app": _page("/app", app_root, _write("/app", "document.getElementById('root')")),
        "/noscript": _page(
            "/noscript",
            f"<p>{SENTENCE * 4}</p><noscript>You need to enable JavaScript to run this app."
            "</noscript>",
            _write("/noscript"),
        ),
        "/little": _page("/little", "<h1>Loading…</h1>", _write("/little")),
        # ~860 characters of text, ~3,100 of inline script
        "/heavy": _page(
            "/heavy",
            f"<p>{SENTENCE * 12}</p>",
            "var config = " + repr("x" * 3000) + ";" + _write("/heavy"),
        ),
        RESERVED: _page(
            RESERVED,
            app_root,
            _write(RESERVED, "document.getElementById('root')"),
            head='<meta name="robots" content="noai">',
        ),
        SCRIPT_RESERVED: _page(
            SCRIPT_RESERVED,
            app_root,
            "var m = document.createElement('meta'); m.name = 'robots'; m.content = 'noai';"
            "document.head.appendChild(m);"
            + _write(SCRIPT_RESERVED, "document.getElementById('root')"),
        ),
        DISALLOWED: _page(DISALLOWED, app_root, _write(DISALLOWED)),
    }
    links = "".join(f'<a href="{p}">{p}</a> ' for p in found)
    found["/"] = _page("/", f"<h1>Index</h1><p>{SENTENCE * 6}</p><nav>{links}</nav>", "var n = 1;")
    return found


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    table = {
        "/robots.txt": text("User-agent: *\nDisallow: /private/\nAllow: /\n"),
        **pages(),
        **{
            f"/img{p}.png": Reply(200, (("Content-Type", "image/png"),), b"\x89PNG page image")
            for p in ["/", *pages()]
        },
    }
    return {"site": routes(table)}
