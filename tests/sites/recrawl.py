"""An origin that changes between two runs, for incremental re-crawls.

State lives in files a test edits between runs: RECRAWL_DIR/robots.txt (absent = 404) and
RECRAWL_DIR/version (the text of /changing). The pages:

    /           index, ETag "index-1": answers 304 to If-None-Match "index-1"
    /etag       ETag "etag-1", honours If-None-Match
    /dated      Last-Modified, honours If-Modified-Since
    /plain      no validators, the same bytes every time
    /changing   no validators, its text read from RECRAWL_DIR/version
    /later      linked only from the index: reached in run 2 only through the stored index
    /moving     Last-Modified, honours If-Modified-Since; once RECRAWL_DIR/moved exists it
                redirects to /moved-here, which answers 304 to any If-Modified-Since (a server
                comparing dates): validators must not follow a redirect
"""

from __future__ import annotations

import os
from pathlib import Path

from crawler.demo.server import NOT_FOUND, Handler, Reply, html

ORIGINS = ["recrawl"]
LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"
INDEX = "".join(
    f'<a href="{p}">{p}</a> '
    for p in ("/etag", "/dated", "/plain", "/changing", "/later", "/moving")
)


def not_modified(validators: tuple[tuple[str, str], ...]) -> Reply:
    return Reply(304, validators, b"")


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    state = Path(os.environ["RECRAWL_DIR"])

    def handler(path: str, headers: dict[str, str]) -> Reply:
        if path == "/robots.txt":
            robots = state / "robots.txt"
            if not robots.exists():
                return NOT_FOUND
            return Reply(200, (("Content-Type", "text/plain"),), robots.read_bytes())
        if path in ("/", "/etag"):
            tag = '"index-1"' if path == "/" else '"etag-1"'
            if headers.get("if-none-match") == tag:
                return not_modified((("ETag", tag),))
            body = INDEX if path == "/" else "<p>tagged page</p>"
            return html(body, headers=(("ETag", tag),))
        if path == "/dated":
            if headers.get("if-modified-since") == LAST_MODIFIED:
                return not_modified((("Last-Modified", LAST_MODIFIED),))
            return html("<p>dated page</p>", headers=(("Last-Modified", LAST_MODIFIED),))
        if path == "/plain":
            return html("<p>the same bytes every time</p>")
        if path == "/changing":
            return html(f"<p>version {(state / 'version').read_text()}</p>")
        if path == "/moving":
            if (state / "moved").exists():
                return Reply(301, (("Location", "/moved-here"),), b"")
            if headers.get("if-modified-since") == LAST_MODIFIED:
                return not_modified((("Last-Modified", LAST_MODIFIED),))
            return html("<p>moving page</p>", headers=(("Last-Modified", LAST_MODIFIED),))
        if path == "/moved-here":
            if "if-modified-since" in headers:
                return not_modified(())
            return html("<p>the page in its new place</p>")
        if path == "/later":
            return html("<p>reached through the stored index</p>")
        return NOT_FOUND

    handler.wants_headers = True  # type: ignore[attr-defined]
    return {"recrawl": handler}
