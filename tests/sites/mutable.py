"""An origin whose robots.txt is read from a file at each request (MUTABLE_ROBOTS), so a test can
change its policy between two runs."""

from __future__ import annotations

import os
from pathlib import Path

from crawler.demo.server import NOT_FOUND, Handler, Reply, html

ORIGINS = ["mutable"]


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    robots = Path(os.environ["MUTABLE_ROBOTS"])

    def handler(path: str) -> Reply:
        if path == "/robots.txt":
            if not robots.exists():
                return NOT_FOUND
            return Reply(200, (("Content-Type", "text/plain"),), robots.read_bytes())
        if path in ("/a", "/b"):
            return html(f"<p>page {path}</p>")
        return NOT_FOUND

    return {"mutable": handler}
