"""Sites whose terms pages say, in words, what may be done with their content (issue #13 item 4).

Each home page links two pages and, in its footer, the site's terms:
- `en`: "Terms of use" reserving TDM under art. 4(3) of the DSM Directive, in English;
- `vi`: "Điều khoản sử dụng" forbidding AI training, in Vietnamese;
- `mention`: "Terms" that only say the site uses AI (no reservation);
- `grant`: "Legal notice" allowing text and data mining (no reservation);
- `hidden`: "Terms" that reserve, but robots.txt forbids us to fetch them: never read.
"""

from __future__ import annotations

from crawler.demo.server import Handler, html, routes, text

ORIGINS = ["en", "vi", "mention", "grant", "hidden"]

EN_SENTENCE = (
    "Example News expressly reserves its rights under Article 4(3) of Directive (EU) 2019/790: "
    "our content may not be used for text and data mining or to train AI models."
)
VI_SENTENCE = (
    "Nghiêm cấm sử dụng nội dung trên trang này để huấn luyện trí tuệ nhân tạo (AI) "
    "khi chưa có sự đồng ý bằng văn bản."
)
TERMS_PATHS = {
    "en": "/legal/terms-of-use",
    "vi": "/dieu-khoan-su-dung",
    "mention": "/terms",
    "grant": "/legal-notice.html",
    "hidden": "/terms",
}
LINK_TEXT = {
    "en": "Terms of use",
    "vi": "Điều khoản sử dụng",
    "mention": "Terms",
    "grant": "Legal notice",
    "hidden": "Terms",
}
TERMS_TEXT = {
    "en": f"<h1>Terms of use</h1><p>Welcome. {EN_SENTENCE} All rights reserved.</p>",
    "vi": f"<h1>Điều khoản sử dụng</h1><p>Chào mừng bạn. {VI_SENTENCE}</p>",
    "mention": (
        "<h1>Terms</h1><p>We use AI to recommend articles. Our editors use machine learning "
        "tools to tag photos. All rights reserved.</p>"
    ),
    "grant": (
        "<h1>Legal notice</h1><p>You may use our content for text and data mining, including to "
        "train AI models. We do not reserve our rights under Article 4(3) of Directive (EU) "
        "2019/790.</p>"
    ),
    "hidden": f"<h1>Terms</h1><p>{EN_SENTENCE}</p>",
}


def _home(name: str) -> str:
    return (
        '<p>News</p><a href="/a">A</a> <a href="/b">B</a>'
        f'<footer><a href="{TERMS_PATHS[name]}">{LINK_TEXT[name]}</a> '
        '<a href="/about">About us</a></footer>'
    )


def build(addresses: dict[str, str]) -> dict[str, Handler]:
    handlers = {}
    for name in ORIGINS:
        disallow = f"Disallow: {TERMS_PATHS[name]}\n" if name == "hidden" else ""
        handlers[name] = routes(
            {
                "/robots.txt": text(f"User-agent: *\n{disallow}Allow: /\n"),
                "/": html(_home(name)),
                "/a": html('<p>Article A</p><a href="/c">C</a>'),
                "/b": html("<p>Article B</p>"),
                "/c": html("<p>Article C</p>"),
                "/about": html("<p>About</p>"),
                TERMS_PATHS[name]: html(TERMS_TEXT[name]),
            }
        )
    return handlers
