"""`scrapy export`: a dataset that Hugging Face `datasets` loads, without withdrawn captures; and a
WACZ that validates."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import copy_of, scrapy_command


@pytest.fixture(scope="module")
def crawl(gate_site, gate_corpus, tmp_path_factory):
    o = gate_site.origins
    result = copy_of(gate_corpus, tmp_path_factory.mktemp("export"))
    withdraw = scrapy_command(
        "withdraw", "--url", f"{o['main']}/articles/2", "--reason", "complaint",
        "--ref", "C-1", "--db", f"sqlite:///{result.db_path}",
    )  # fmt: skip
    assert withdraw.returncode == 0, withdraw.stderr
    return result


def _export(crawl, fmt, out):
    result = scrapy_command(
        "export", "--format", fmt, "--out", str(out),
        "--warc-dir", str(crawl.warc_dir), "--db", f"sqlite:///{crawl.db_path}", timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def _expected_urls(crawl, gate_site):
    html = {
        url for (url,) in crawl.sql("SELECT url FROM captures WHERE content_type LIKE 'text/html%'")
    }
    return html - {f"{gate_site.origins['main']}/articles/2"}


def test_jsonl_rows_carry_text_and_provenance(crawl, gate_site, tmp_path):
    out = _export(crawl, "jsonl", tmp_path)
    rows = [json.loads(line) for line in (out / "corpus.jsonl").read_text().splitlines()]
    assert {row["url"] for row in rows} == _expected_urls(crawl, gate_site)
    article = next(row for row in rows if row["url"].endswith("/articles/1"))
    assert "Public-domain text number 1." in article["text"]
    (record_id, digest, warc_file) = crawl.sql(
        "SELECT record_id, payload_digest, warc_file FROM captures WHERE url = ?", article["url"]
    )[0]
    assert (article["warc_record_id"], article["payload_digest"], article["warc_file"]) == (
        record_id,
        digest,
        warc_file,
    )
    assert article["profile"] == "strict" and article["reasons"] == []
    compressed = next(row for row in rows if row["url"].endswith("/compressed"))
    assert "Sent gzip-encoded" in compressed["text"]  # decoded from the bytes as received


def test_parquet_loads_with_hugging_face_datasets(crawl, gate_site, tmp_path):
    out = _export(crawl, "parquet", tmp_path / "out")
    code = (
        "import datasets, json, sys\n"
        "d = datasets.load_dataset('parquet', data_files=sys.argv[1], split='train', cache_dir=sys.argv[2])\n"
        "print(json.dumps({'urls': list(d['url']), 'columns': d.column_names}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(out / "corpus.parquet"), str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(loaded["urls"]) == _expected_urls(crawl, gate_site)
    assert {"url", "text", "warc_record_id", "payload_digest", "license", "profile"} <= set(
        loaded["columns"]
    )


def test_wacz_validates(crawl, tmp_path):
    out = _export(crawl, "wacz", tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "wacz.main", "validate", "-f", str(out / "corpus.wacz")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Validation succeeded" in result.stdout + result.stderr
