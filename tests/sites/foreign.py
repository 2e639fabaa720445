"""Two origins for a Scrapy project that is not ours (tests/test_foreign_project.py): pages to
keep, each way a page is refused, a redirect, an image, and a link from one origin to the other."""

from __future__ import annotations

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = ["shop", "blog"]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24  # bytes enough for a content type, not an image


def _page(
    title: str, *hrefs: str, headers: tuple[tuple[str, str], ...] = (), head: str = ""
) -> Reply:
    links = "".join(f'<a href="{href}">{href}</a> ' for href in hrefs)
    return html(f"<html><head><title>{title}</title>{head}</head><body>{links}</body></html>",
                headers=headers)  # fmt: skip


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    blog = addresses["blog"]
    shop = {
        "/robots.txt": text("User-agent: *\nDisallow: /private/\n"),
        "/": _page("Shop", "/p/1", "/p/2", "/p/noai", "/private/x", "/gone", "/moved", f"{blog}/"),
        "/p/1": _page("Product 1", "/logo.png"),
        "/p/2": _page("Product 2", "/p/1"),  # met again: fetched once
        "/p/noai": _page("Reserved", head='<meta name="robots" content="noai">'),
        "/private/x": _page("Never requested"),
        "/moved": Reply(302, (("Location", "/p/2"),), b""),
        "/logo.png": Reply(200, (("Content-Type", "image/png"),), PNG),
    }
    posts = {
        "/robots.txt": text("User-agent: *\nAllow: /\n"),
        "/": _page("Blog", "/post/1", "/post/2"),
        "/post/1": _page("Post 1"),
        "/post/2": _page("Post 2", headers=(("Content-Usage", "train-ai=n"),)),
    }
    return {"shop": routes(shop), "blog": routes(posts)}
