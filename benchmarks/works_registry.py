"""Per-page cost of a 100,000-entry works-level registry (issue #13): the after-fetch matching of
policies.declared_works on the benchmark site's ~20 KB page and on a photo, with no registry and
with 100k entries (owners, identifiers, ISCC codes), and how long the registry takes to load.

    python benchmarks/works_registry.py [--entries 100000] [--pages 2000]

Not part of the test suite. Prints milliseconds per page for each case.
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from pathlib import Path

from scrapy.http import HtmlResponse

from benchmarks.site import _filler
from policies.declared_works import declared_work_signals
from policies.registry import Registry, load_registry

NOTICE = "Bench CMO,public notice,https://notice.example/,2026-06-20"
PAGE = (
    "<html><head><title>t</title><meta name='author' content='Nobody In Particular'>"
    '<script type="application/ld+json">{"@type":"Article","author":{"name":"A Writer"},'
    '"publisher":"Some Paper","isbn":"978-0-306-40615-7"}</script></head><body>'
    + _filler(20 * 1024)
    + "</body></html>"
)


def isbn13(n: int) -> str:
    digits = f"978{n:09d}"
    return digits + str(-sum(int(c) * (1, 3)[i % 2] for i, c in enumerate(digits)) % 10)


def write_registry(path: Path, entries: int) -> None:
    import iscc_core

    rng = random.Random(13)
    lines = ["scope,value,party,channel,source,date"]
    for n in range(entries):
        kind = n % 5
        if kind in (0, 1):
            lines.append(f"owner,Studio {n} Films {rng.randint(0, 10**6)},{NOTICE}")
        elif kind in (2, 3):
            lines.append(f"identifier,isbn:{isbn13(n)},{NOTICE}")
        else:
            body = rng.getrandbits(64).to_bytes(8, "big")
            code = iscc_core.encode_component(
                iscc_core.MT.CONTENT, iscc_core.ST_CC.IMAGE, 0, 64, body
            )
            lines.append(f"iscc,ISCC:{code},{NOTICE}")  # Image-Codes: a still's notice
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((1600, 1200), 40).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def per_page(registry: Registry, pages: int, content_type: str, body: bytes) -> float:
    start = time.perf_counter()
    for n in range(pages):
        root = None
        if content_type == "text/html":  # a fresh tree per page, as each response has its own
            response = HtmlResponse(f"http://bench/p/{n}", body=body, encoding="utf-8")
            root = response.selector.root
        declared_work_signals(registry, content_type, body, html_root=root)
    return (time.perf_counter() - start) / pages * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "works.csv"
        write_registry(path, args.entries)
        start = time.perf_counter()
        registry = load_registry([str(path)])
        assert registry.reads_claims and registry.reads_codes  # builds the indexes
        print(f"load + index {args.entries} entries: {time.perf_counter() - start:.2f} s")
        without_codes = Registry(tuple(e for e in registry.entries if e.scope != "iscc"))
        html = PAGE.encode()
        image = photo()
        per_page(registry, 3, "image/jpeg", image)  # imports and Pillow's plugins: once a run
        for label, content_type, body, pages in (
            ("html page (20 KB)", "text/html", html, args.pages),
            ("jpeg photo (1600x1200)", "image/jpeg", image, max(args.pages // 10, 20)),
        ):
            for name, reg in (
                ("no registry", Registry()),
                ("owners+identifiers", without_codes),
                ("all 100k incl. iscc", registry),
            ):
                ms = per_page(reg, pages, content_type, body)
                print(f"{label:24} {name:22} {ms:7.3f} ms/page")
            parse_ms = per_page(Registry(), pages, content_type, body)
            print(f"{label:24} {'(parse only, baseline)':22} {parse_ms:7.3f} ms/page")


if __name__ == "__main__":
    main()
