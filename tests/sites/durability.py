"""A fast site of many linked pages, for killing crawls at random moments (tests/test_kill.py).

`/s{SIZE}/p/{N}` for N < SIZE: one site serves crawls of any size, picked by the seed's path.
Page N links to pages 4N+1…4N+4 and N+1, so the frontier is wide and every page is reachable
from page 0. Bodies are ~3 KiB of hex that compresses about 2:1, so small WARC files rotate
often. Some pages are the kind a crawl must not keep (a `tdm-reservation: 1` header): their
decision rows have no WARC record. Some answer with a redirect to the page's second address.
"""

from __future__ import annotations

import hashlib
import re

from crawler.demo.server import NOT_FOUND, Handler, Reply, text

ORIGINS = ["farm"]
PAGE = re.compile(r"/s(\d+)/([pr])/(\d+)")
HTML = ("Content-Type", "text/html; charset=utf-8")


def reserved(n: int) -> bool:
    return n % 37 == 5


def redirected(n: int) -> bool:
    return n % 41 == 3


def body(size: int, n: int) -> bytes:
    links = [m for m in (4 * n + 1, 4 * n + 2, 4 * n + 3, 4 * n + 4, n + 1) if m < size]
    anchors = " ".join(f'<a href="/s{size}/p/{m}">page {m}</a>' for m in links)
    seed = hashlib.sha256(f"{size}/{n}".encode()).digest()
    filler = b"".join(hashlib.sha256(seed + bytes([i])).digest() for i in range(48)).hex()
    return f"<html><body><h1>page {n}</h1><p>{filler}</p>{anchors}</body></html>".encode()


def page(path: str) -> Reply:
    match = PAGE.fullmatch(path)
    if match is None:
        return NOT_FOUND
    size, kind, n = int(match[1]), match[2], int(match[3])
    if n >= size:
        return NOT_FOUND
    if kind == "p" and redirected(n):
        return Reply(302, (("Location", f"/s{size}/r/{n}"),), b"")
    headers = (HTML, ("tdm-reservation", "1")) if reserved(n) else (HTML,)
    return Reply(200, headers, body(size, n))


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    robots = text("User-agent: *\nAllow: /\n")
    return {"farm": lambda path: robots if path == "/robots.txt" else page(path)}
