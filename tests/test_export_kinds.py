"""`scrapy export` beyond HTML: a `kind` column and the text of PDFs and EPUBs; pages decoded by
their HTTP charset; a rendered page exported from its rendered DOM; and `--modality image`, one
row per kept image with the page that shows it — gone with that page when it is withdrawn."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.conftest import (
    CHROMIUM,
    require,
    require_module,
    run_crawl,
    scrapy_command,
    site_process,
)
from tests.sites.library import (
    EPUB_CHAPTERS,
    IMAGE_SIZES,
    LATIN1_TEXT,
    PDF_TEXT,
    RENDERED_TEXT,
    png,
)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    with site_process("tests.sites.library", tmp_path_factory.mktemp("library")) as site:
        yield site


@pytest.fixture(scope="module")
def crawl(library, tmp_path_factory):
    require_module("scrapy_playwright", "the rendered page needs scrapy-playwright (.[browser])")
    require(CHROMIUM, "the rendered page needs Chromium (apt-get install chromium)")
    origin = library.origins["library"]
    seeds = ["/", "/app", "/report.pdf", "/book.epub", *IMAGE_SIZES]
    result = run_crawl(
        tmp_path_factory.mktemp("crawl"),
        urls=[origin + path for path in seeds],
        settings={"RENDER_URL_PATTERNS": "/app$", "DEPTH_LIMIT": "1"},
    )
    assert result.returncode == 0, result.output
    return result


def export(crawl, out, *args):
    result = scrapy_command(
        "export", *args, "--out", str(out),
        "--warc-dir", str(crawl.warc_dir), "--db", f"sqlite:///{crawl.db_path}", timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def test_text_rows_have_a_kind_and_the_text_of_each_format(crawl, library, tmp_path):
    origin = library.origins["library"]
    path = export(crawl, tmp_path, "--format", "jsonl")
    rows = {row["url"]: row for row in map(json.loads, open(path, encoding="utf-8"))}
    assert {url.removeprefix(origin): row["kind"] for url, row in rows.items()} == {
        "/": "html",
        "/latin1": "html",
        "/gallery": "html",
        "/app": "html",
        "/report.pdf": "document",
        "/book.epub": "document",
    }
    assert LATIN1_TEXT in rows[f"{origin}/latin1"]["text"]  # not "CafÃ© crÃ¨me"
    assert RENDERED_TEXT in rows[f"{origin}/app"]["text"]  # the DOM, not the empty shell
    assert PDF_TEXT in " ".join(rows[f"{origin}/report.pdf"]["text"].split())
    book = rows[f"{origin}/book.epub"]["text"]
    assert book.index(EPUB_CHAPTERS[0]) < book.index(EPUB_CHAPTERS[1])
    assert rows[f"{origin}/report.pdf"]["content_type"] == "application/pdf"


def test_image_rows_carry_their_page_and_load_with_datasets(crawl, library, tmp_path):
    require_module("datasets", "loading the export needs Hugging Face datasets")
    import datasets

    origin = library.origins["library"]
    path = export(crawl, tmp_path, "--format", "parquet", "--modality", "image")
    assert path == str(tmp_path / "images.parquet")
    table = datasets.load_dataset("parquet", data_files=path, split="train")
    rows = {row["image_url"].removeprefix(origin): row for row in table}
    assert set(rows) == set(IMAGE_SIZES)
    cat, dog, bird = rows["/img/cat.png"], rows["/img/dog.png"], rows["/img/bird.png"]
    assert (cat["page_url"], cat["alt"], cat["caption"]) == (
        f"{origin}/gallery",
        "A ginger cat",
        "Our cat, asleep",
    )
    assert dog["alt"] == "A small dog"  # a <picture> source: the alt of its <img>
    assert "Birds visit the garden every morning" in bird["surrounding_text"]
    for path_, row in rows.items():
        assert (row["width"], row["height"]) == IMAGE_SIZES[path_]
        assert row["mime_type"] == "image/png"
        ((record_id, warc_file),) = crawl.sql(
            "SELECT record_id, warc_file FROM captures WHERE url = ?", origin + path_
        )
        assert (row["warc_record_id"], row["warc_file"]) == (record_id, warc_file)
        assert row["sha256"] == hashlib.sha256(png(IMAGE_SIZES[path_])).hexdigest()
        assert any(s["kind"] == "robots.txt" for s in row["reservations_checked"])


def test_images_of_a_withdrawn_page_are_left_out(crawl, library, tmp_path):
    origin = library.origins["library"]
    withdrawn = scrapy_command(
        "withdraw", "--url", f"{origin}/gallery", "--reason", "complaint", "--ref", "C-7",
        "--db", f"sqlite:///{crawl.db_path}",
    )  # fmt: skip
    assert withdrawn.returncode == 0, withdrawn.stderr
    path = export(crawl, tmp_path, "--format", "jsonl", "--modality", "image")
    assert open(path, encoding="utf-8").read() == ""
    text = export(crawl, tmp_path / "text", "--format", "jsonl")
    urls = {json.loads(line)["url"] for line in open(text, encoding="utf-8")}
    assert f"{origin}/gallery" not in urls and f"{origin}/latin1" in urls
