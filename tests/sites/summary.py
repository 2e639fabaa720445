"""A site for `scrapy summary`: pages in English, French and Vietnamese, and a page reserved by a
TDMRep `tdm-reservation` header (excluded at every crawl)."""

from __future__ import annotations

from crawler.demo.server import Handler, html, routes

ORIGINS = ["summary"]

TEXTS = {
    "/": "This is the front page of a small library of public articles. It links to an article "
    "in English, an article in French, an article in Vietnamese and a reserved page.",
    "/en": "The river flows slowly through the old town, past the market and the cathedral, "
    "and in the evening the fishermen bring their boats back to the harbour.",
    "/fr": "La rivière traverse lentement la vieille ville, passe devant le marché et la "
    "cathédrale, et le soir les pêcheurs ramènent leurs bateaux au port.",
    "/vi": "Dòng sông chảy chậm qua khu phố cổ, đi ngang qua chợ và nhà thờ lớn, và vào buổi "
    "tối những người đánh cá đưa thuyền của họ trở về bến cảng.",
}
LANGUAGES = {"/": "en", "/en": "en", "/fr": "fr", "/vi": "vi"}


def _page(path: str, links: str = "") -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{path}</title></head>"
        f"<body><p>{TEXTS[path]}</p>{links}</body></html>"
    )


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    links = "".join(f'<a href="{p}">{p}</a> ' for p in ("/en", "/fr", "/vi", "/reserved"))
    table = {path: html(_page(path, links if path == "/" else "")) for path in TEXTS}
    table["/reserved"] = html(
        "<p>Reserved for text and data mining.</p>", headers=(("tdm-reservation", "1"),)
    )
    return {"summary": routes(table)}
