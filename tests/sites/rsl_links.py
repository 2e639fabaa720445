"""RSL licences named by pages, not by robots.txt (issue #13 item 6; crawler/rsl_licences.py).

`pub` is the publisher; `lic` hosts some of its licences (another host: allowed by RSL).
- `/members`: HTML `<link>` to `/rsl/site.xml`, whose `<content url="/members*">` prohibits
  `ai-all`: the page is dropped (rsl-reserved). `/rsl/site.xml` also permits training on `/intro`.
- `/intro`: names `/rsl/site.xml` too (read once), kept; its link `/club/1` is covered by the same
  licence's `<content url="/club/">` (prohibits) without naming it: excluded before it is fetched.
- `/paid` and `/paid-too`: `Link` header to `lic`'s `/licences/paid.xml` (`server=`): a licence
  must be obtained (rsl-license-required). The licence is fetched once for both.
- `/broken`: names `/rsl/broken.xml`, which answers 503: unreachable (policy-error where the
  profile fails closed on policy files).
- `/hidden`: names `lic`'s `/private/terms.xml`, which `lic`'s robots.txt disallows: never fetched,
  terms unknown, the page kept (as robots.txt `License:` documents robots.txt forbids).
- `/user`: names `/rsl/user.xml`: training permitted, but only for `non-commercial` users.
"""

from __future__ import annotations

from crawler.demo.server import Handler, Reply, html, routes, text

ORIGINS = ["pub", "lic"]

RSL_TYPE = "application/rsl+xml"
PAGES = ["/intro", "/members", "/paid", "/paid-too", "/broken", "/hidden", "/user"]


def rsl(*contents: str) -> str:
    return f'<rsl xmlns="https://rslstandard.org/rsl">{"".join(contents)}</rsl>'


def content(url: str, licence: str, server: str = "") -> str:
    attribute = f' server="{server}"' if server else ""
    return f'<content url="{url}"{attribute}><license>{licence}</license></content>'


SITE_XML = rsl(
    content("/intro", '<permits type="usage">train-ai</permits>'),
    content("/members*", '<prohibits type="usage">ai-all</prohibits>'),
    content("/club/", '<prohibits type="usage">ai-all</prohibits>'),
)
PAID_XML = rsl(content("/paid", "", server="https://licensing.example/api"))
USER_XML = rsl(
    content(
        "/user",
        '<permits type="usage">train-ai</permits><permits type="user">non-commercial</permits>',
    )
)


def _xml(body: str, status: int = 200) -> Reply:
    return Reply(status, (("Content-Type", RSL_TYPE),), body.encode("utf-8"))


def _link_tag(href: str) -> str:
    return f'<link rel="license" type="{RSL_TYPE}" href="{href}">'


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    lic = addresses["lic"]
    paid_link = (("Link", f'<{lic}/licences/paid.xml>; rel="license"; type="{RSL_TYPE}"'),)
    home = "".join(f'<a href="{path}">{path}</a> ' for path in PAGES)
    pub = routes(
        {
            "/robots.txt": text("User-agent: *\nAllow: /\n"),
            "/": html(f"<p>Home</p>{home}"),
            "/intro": html(
                f'<head>{_link_tag("/rsl/site.xml")}</head><p>Intro</p><a href="/club/1">Club</a>'
            ),
            "/club/1": html("<p>Club page</p>"),
            "/members": html(f"<head>{_link_tag('/rsl/site.xml')}</head><p>Members only</p>"),
            "/paid": html("<p>Paid</p>", headers=paid_link),
            "/paid-too": html("<p>Paid too</p>", headers=paid_link),
            "/broken": html(f"<head>{_link_tag('/rsl/broken.xml')}</head><p>Broken</p>"),
            "/hidden": html(
                f"<head>{_link_tag(lic + '/private/terms.xml')}</head><p>Hidden licence</p>"
            ),
            "/user": html(f"<head>{_link_tag('/rsl/user.xml')}</head><p>Non-commercial</p>"),
            "/rsl/site.xml": _xml(SITE_XML),
            "/rsl/broken.xml": _xml("", status=503),
            "/rsl/user.xml": _xml(USER_XML),
        }
    )
    lic_handler = routes(
        {
            "/robots.txt": text("User-agent: *\nDisallow: /private/\n"),
            "/licences/paid.xml": _xml(PAID_XML),
            "/private/terms.xml": _xml(
                rsl(content("/", '<prohibits type="usage">all</prohibits>'))
            ),
        }
    )
    return {"pub": pub, "lic": lic_handler}
