"""Rendering JavaScript pages in the system Chromium through scrapy-playwright, behind the gate.

- `config.py` — settings (RENDER_*), the browser, the download handler (add-on);
- `middleware.py` — which pages are rendered; the rendered DOM for the spider;
- `auto.py` — `-a render=auto`: which pages fetched plainly need rendering, and rendering them;
- `handler.py` — the download handler: a browser page per rendered page;
- `gate.py` — every request the browser makes is decided before it leaves;
- `capture.py` — the rendered DOM kept beside its request (a WARC `conversion` record).

Importing this package does not import Playwright: only `handler.py` and `gate.py` do.
"""
