"""One origin per reservation signal, each with pages that must never be requested."""

from __future__ import annotations

import json

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = [
    "tdm",
    "usage",
    "signal",
    "aiagents",
    "aitxt",
    "rsl",
    "broken",
    "soft404",
    "meta",
    "declared",
]

XMP_RESERVED = (
    b"%PDF-1.7\n1 0 obj << /Type /Metadata /Subtype /XML >> stream\n"
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:tdm="http://www.w3.org/ns/tdmrep/">'
    b"<tdm:reservation>1</tdm:reservation></rdf:Description></rdf:RDF></x:xmpmeta>\nendstream endobj\n"
    b"Reserved PDF body.\n%%EOF\n"
)


def _links(*hrefs: str) -> Reply:
    return html("".join(f'<a href="{href}">{href}</a> ' for href in hrefs))


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    rsl = addresses["rsl"]
    tables = {
        "tdm": {
            "/.well-known/tdmrep.json": Reply(
                200,
                (("Content-Type", "application/json"),),
                json.dumps(
                    [
                        {"location": "/reserved/", "tdm-reservation": 1},
                        {"location": "/", "tdm-reservation": 0},
                    ]
                ).encode(),
            ),
            "/": _links("/reserved/a", "/header-reserved", "/open"),
            "/reserved/a": html("<p>Reserved by tdmrep.json.</p>"),
            "/header-reserved": html(
                "<p>header beats file</p>", headers=(("tdm-reservation", "1"),)
            ),
            "/open": html("<p>not reserved: tdmrep.json says 0</p>"),
        },
        "usage": {
            "/robots.txt": text(
                "User-agent: *\nAllow: /\nContent-Usage: train-ai=y\nContent-Usage: /no-train/ train-ai=n\n"
            ),
            "/": _links("/no-train/x", "/header-no"),
            "/no-train/x": html("<p>Reserved by Content-Usage in robots.txt.</p>"),
            "/header-no": html(
                "<p>reserved by header</p>", headers=(("Content-Usage", "train-ai=n"),)
            ),
        },
        "signal": {
            "/robots.txt": text(
                "User-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n"
            ),
            "/": html("<p>Reserved by Content-Signal.</p>"),
        },
        "aiagents": {
            "/robots.txt": text(
                "User-agent: GPTBot\nUser-agent: CCBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
            ),
            "/": html("<p>Reserved against AI-training agents.</p>"),
        },
        "aitxt": {
            "/ai.txt": text("User-agent: *\nDisallow: *.pdf\nAllow: /\n"),
            "/": _links("/doc.pdf"),
            "/doc.pdf": Reply(
                200, (("Content-Type", "application/pdf"),), b"%PDF-1.7 Reserved by ai.txt."
            ),
        },
        "rsl": {
            "/robots.txt": text(f"License: {rsl}/license.xml\nUser-agent: *\nAllow: /\n"),
            "/license.xml": Reply(
                200,
                (("Content-Type", "application/rsl+xml"),),
                b'<rsl xmlns="https://rslstandard.org/rsl">'
                b'<content url="/premium/*" server="https://licensing.example/"><license/></content>'
                b'<content url="/"><license><permits type="usage">search ai-train</permits></license></content>'
                b"</rsl>",
            ),
            "/": _links("/premium/x"),
            "/premium/x": html("<p>Reserved: RSL licence required.</p>"),
        },
        "broken": {
            "/.well-known/tdmrep.json": text("unavailable", status=503),
            "/": html("<p>tdmrep.json unreachable</p>"),
        },
        "soft404": {
            "/.well-known/tdmrep.json": html("<html><body>Page not found</body></html>"),
            "/": html("<p>a soft 404 tdmrep.json is not a reservation</p>"),
        },
        "meta": {
            "/": _links("/paywalled", "/paper.pdf", "/licensed"),
            "/paywalled": html(
                '<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",'
                '"isAccessibleForFree":false}</script><p>Teaser of a paywalled article.</p>'
            ),
            "/paper.pdf": Reply(200, (("Content-Type", "application/pdf"),), XMP_RESERVED),
            "/licensed": html(
                '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/"><p>CC BY</p>'
            ),
        },
        "declared": {
            "/": _links("/film/1", "/news"),
            "/film/1": html("<p>Reserved by a declared reservation.</p>"),
            "/news": html("<p>news</p>"),
        },
    }
    return {name: routes(table) for name, table in tables.items()}
