"""Policy documents that must not be archived: each redirects to (or is) a response that reserves
itself, or is served from an address the crawler must not connect to (issue #11 item 1.2)."""

from __future__ import annotations

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = ["robots", "files", "loopback", "hop"]

# Marker strings: none of them may appear in a WARC file or an `evidence.body`.
ROBOTS_SECRET = "ROBOTS-RESERVED-BYTES"
TDMREP_SECRET = "TDMREP-RESERVED-BYTES"
AI_TXT_SECRET = "AI-TXT-RESERVED-BYTES"
RSL_SECRET = "RSL-RESERVED-BYTES"
LOOPBACK_SECRET = "LOOPBACK-BYTES"


def _moved(location: str) -> Reply:
    return Reply(302, (("Location", location),), b"")


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    return {
        # robots.txt redirects to rules that forbid AI use of themselves: read, never archived.
        "robots": routes(
            {
                "/robots.txt": _moved("/rules.txt"),
                "/rules.txt": text(
                    f"User-agent: *\nDisallow: /no\n# {ROBOTS_SECRET}\n",
                    headers=(("X-Robots-Tag", "noai"),),
                ),
                "/": html('<a href="/yes">yes</a> <a href="/no">no</a>'),
                "/yes": html("<p>yes</p>"),
                "/no": html("<p>never requested</p>"),
            }
        ),
        # tdmrep.json redirects to a page with a TDMRep reservation meta; ai.txt says
        # Content-Usage: train-ai=n about itself; the RSL licence robots.txt names redirects to a
        # page that X-Robots-Tag: noai reserves.
        "files": routes(
            {
                "/robots.txt": text(
                    f"User-agent: *\nAllow: /\nLicense: {addresses['files']}/licence.xml\n"
                ),
                "/licence.xml": _moved("/licence-page"),
                "/licence-page": html(
                    f"<p>{RSL_SECRET}</p>", headers=(("X-Robots-Tag", "noai, noimageai"),)
                ),
                "/.well-known/tdmrep.json": _moved("/tdm-page"),
                "/tdm-page": html(
                    '<html><head><meta name="tdm-reservation" content="1"></head>'
                    f"<body><p>{TDMREP_SECRET}</p></body></html>"
                ),
                "/ai.txt": text(
                    f"User-Agent: *\nAllow: /\n# {AI_TXT_SECRET}\n",
                    headers=(("Content-Usage", "train-ai=n"),),
                ),
                "/": html("<p>an open page</p>"),
            }
        ),
        # Reached as <name>.rebind.test (tests/rebinding.py): the connection goes to 127.0.0.1.
        "loopback": routes(
            {
                "/robots.txt": text(f"User-agent: *\nAllow: /\n# {LOOPBACK_SECRET}\n"),
                "/": html(f"<p>{LOOPBACK_SECRET}</p>"),
            }
        ),
        # robots.txt redirects to a loopback literal: that hop is refused by the access guard.
        "hop": routes(
            {
                "/robots.txt": _moved(f"{addresses['hop']}/target/robots.txt"),
                "/target/robots.txt": text("User-agent: *\nAllow: /\n"),
                "/": html("<p>page</p>"),
            }
        ),
    }
