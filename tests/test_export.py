"""`scrapy export`: a dataset that Hugging Face `datasets` loads, without withdrawn captures; and a
WACZ that validates and replays, without the withdrawn captures' records, leaving the WARC files
as they were."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import zipfile

import pytest

from pipelines.warc_writer import provenance_uri
from tests.conftest import read_records, run_crawl, scrapy_command, served_reply, warcio_check
from tests.test_replay import _tool, replay, replay_tools, serve_wayback  # noqa: F401 (a fixture)


@pytest.fixture(scope="module")
def crawl(gate_site, tmp_path_factory):
    o = gate_site.origins
    result = run_crawl(tmp_path_factory.mktemp("export"), urls=[f"{o['main']}/", f"{o['open']}/"])
    assert result.returncode == 0, result.output
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


WITHDRAWN = "/articles/2"


@pytest.fixture(scope="module")
def wacz(crawl, tmp_path_factory):
    """The WACZ export, and the SHA-256 of every WARC file before and after it was made."""
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in crawl.warc_files()}
    out = _export(crawl, "wacz", tmp_path_factory.mktemp("wacz"))
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in crawl.warc_files()}
    return out / "corpus.wacz", before, after


def _unpacked(path, dest):
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("archive/"))
        archive.extractall(dest, members=names)
        index = next(n for n in archive.namelist() if n.startswith("indexes/"))
        data = archive.read(index)
        package = json.loads(archive.read("datapackage.json"))
    lines = (gzip.decompress(data) if index.endswith(".gz") else data).decode().splitlines()
    return [dest / n for n in names], lines, package


def test_wacz_leaves_the_withdrawn_exchange_out_and_the_warc_files_untouched(
    crawl, gate_site, wacz, tmp_path
):
    path, before, after = wacz
    assert after == before  # evidence: not one byte changed
    files, index, package = _unpacked(path, tmp_path)
    assert sorted(f.name for f in files) == sorted(before)
    url = gate_site.origins["main"] + WITHDRAWN
    original = read_records(crawl.warc_files())
    exchange = [
        h for _, _, h, _ in original if h.get("WARC-Target-URI") in (url, provenance_uri(url))
    ]
    assert sorted(h["WARC-Type"] for h in exchange) == ["metadata", "request", "response"]
    gone = {h["WARC-Record-ID"] for h in exchange}
    packaged = read_records(files)
    # Every other record, in order and byte for byte (warcinfo and policy evidence included).
    assert [(h, body) for _, _, h, body in packaged] == [
        (h, body) for _, _, h, body in original if h["WARC-Record-ID"] not in gone
    ]
    assert len(packaged) == len(original) - 3
    assert {h["WARC-Type"] for _, _, h, _ in packaged} >= {
        "warcinfo",
        "request",
        "response",
        "metadata",
    }
    warcio_check(files)  # digests still hold in the copies
    assert not [line for line in index if url in line]
    assert any((gate_site.origins["main"] + "/articles/1") in line for line in index)
    assert "1 withdrawn capture(s) left out" in package["description"]


def test_wacz_validates(wacz):
    result = subprocess.run(
        [sys.executable, "-m", "wacz.main", "validate", "-f", str(wacz[0])],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Validation succeeded" in result.stdout + result.stderr


def test_wacz_replays_kept_pages_and_not_the_withdrawn_one(
    crawl, gate_site, wacz, request, tmp_path
):
    tools = request.getfixturevalue("replay_tools")  # tests/test_replay.py installs pywb
    _tool(tools, "wb-manager", "init", "wacz", cwd=tmp_path)
    _tool(tools, "wb-manager", "add", "--unpack-wacz", "wacz", str(wacz[0]), cwd=tmp_path)
    main = gate_site.origins["main"]
    dates = {
        h["WARC-Target-URI"]: h["WARC-Date"]
        for _, _, h, _ in crawl.records()
        if h["WARC-Type"] == "response"
    }
    with serve_wayback(tools, tmp_path) as base:
        for path in ("/articles/1", "/articles/3"):
            status, _, body = replay(base, "wacz", dates[main + path], main + path)
            assert (status, body) == (200, served_reply(gate_site, main + path).body), path
        assert replay(base, "wacz", dates[main + WITHDRAWN], main + WITHDRAWN)[0] == 404


def test_a_revisit_of_a_withdrawn_response_goes_with_its_exchange():
    """pipelines/warc_filter.py: the records of an exchange, tied by Concurrent-To/Refers-To; a
    revisit (it refers to the stored response) is left out only when it is itself named."""
    from pipelines.warc_filter import Located, exchange_records

    def record(kind, rid, refers_to=None, concurrent=()):
        return Located(0, 0, kind, rid, refers_to, tuple(concurrent))

    records = [
        record("warcinfo", "info"),
        record("request", "req1"),
        record("response", "resp1", concurrent=["req1"]),
        record("conversion", "dom1", refers_to="resp1"),
        record("metadata", "meta1", refers_to="resp1"),
        record("request", "req2"),
        record("revisit", "rev2", refers_to="resp1", concurrent=["req2"]),
        record("metadata", "meta2", refers_to="rev2"),
    ]
    assert exchange_records(records, {"resp1"}) == {"resp1", "req1", "dom1", "meta1"}
    assert exchange_records(records, {"rev2"}) == {"rev2", "req2", "meta2"}
    assert exchange_records(records, {"resp1", "rev2"}) == {
        "resp1", "req1", "dom1", "meta1", "rev2", "req2", "meta2"
    }  # fmt: skip
