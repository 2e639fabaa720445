"""`scrapy verify` on a real crawl: consistent output passes; tampering of each kind is caught."""

from __future__ import annotations

import gzip
import io
import json
import shutil

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.conftest import scrapy_command


@pytest.fixture(scope="module")
def corpus(gate_site, gate_corpus):
    return gate_corpus, gate_site.origins["main"]


@pytest.fixture
def copy(corpus, tmp_path):
    """A copy of the crawl output that a test may tamper with."""
    result, main = corpus
    shutil.copytree(result.warc_dir, tmp_path / "warc")
    shutil.copy(result.db_path, tmp_path / "p.sqlite")
    return tmp_path / "warc", f"sqlite:///{tmp_path / 'p.sqlite'}", result, main


def _verify(warc_dir, db_url, *extra):
    return scrapy_command("verify", "--warc-dir", str(warc_dir), "--db", db_url, *extra)


def test_a_real_crawl_is_consistent(copy):
    warc_dir, db_url, _, _ = copy
    result = _verify(warc_dir, db_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "consistent" in result.stdout


def test_a_tampered_payload_is_caught(copy):
    warc_dir, db_url, crawl, main = copy
    (file, offset, length) = crawl.sql(
        "SELECT warc_file, warc_offset, warc_length FROM captures WHERE url = ?",
        f"{main}/articles/1",
    )[0]
    path = warc_dir / file
    data = path.read_bytes()
    record = gzip.decompress(data[offset : offset + length])
    assert b"Public-domain text number 1." in record
    tampered = gzip.compress(
        record.replace(b"Public-domain text number 1.", b"Public-domain text number X.")
    )
    path.write_bytes(data[:offset] + tampered + data[offset + length :])
    result = _verify(warc_dir, db_url)
    assert result.returncode == 1
    assert "payload digest failed" in result.stdout and "block digest failed" in result.stdout


def test_a_deleted_record_is_caught(copy):
    warc_dir, db_url, crawl, main = copy
    (file, offset, length, record_id) = crawl.sql(
        "SELECT warc_file, warc_offset, warc_length, record_id FROM captures WHERE url = ?",
        f"{main}/articles/1",
    )[0]
    path = warc_dir / file
    data = path.read_bytes()
    path.write_bytes(
        data[:offset] + data[offset + length :]
    )  # one gzip member: the response record
    result = _verify(warc_dir, db_url)
    assert result.returncode == 1
    assert f"its response record {record_id} is not in the WARC files" in result.stdout
    assert f"metadata record refers to {record_id}" in result.stdout


def test_an_excluded_payload_planted_in_a_warc_is_caught(copy):
    warc_dir, db_url, crawl, main = copy
    url = f"{main}/reserved/noai-meta"
    (run_id,) = crawl.sql(
        "SELECT run_id FROM decisions WHERE url = ? AND outcome = 'excluded'", url
    )[0]
    with open(warc_dir / "planted.warc.gz", "wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="1.1")
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        response = writer.create_warc_record(
            url, "response", payload=io.BytesIO(b"<p>reserved</p>"), http_headers=http
        )
        writer.write_record(response)
        body = json.dumps({"url": url, "run_id": run_id, "outcome": "kept"}).encode()
        metadata = writer.create_warc_record(
            url, "metadata", payload=io.BytesIO(body), length=len(body), warc_content_type="application/json",
            warc_headers_dict={"WARC-Refers-To": response.rec_headers.get_header("WARC-Record-ID")},
        )  # fmt: skip
        writer.write_record(metadata)
    result = _verify(warc_dir, db_url)
    assert result.returncode == 1
    assert f"payload of {url} is in the WARC although run {run_id} excluded it" in result.stdout


def test_a_truncated_open_file_is_reported_not_a_crash(copy):
    warc_dir, db_url, _, _ = copy
    (path,) = sorted(warc_dir.glob("*.warc.gz"))
    data = path.read_bytes()
    (warc_dir / (path.name + ".open")).write_bytes(data[: len(data) // 2])
    path.unlink()
    result = _verify(warc_dir, db_url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "never closed" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_bad_arguments_exit_2(tmp_path):
    result = _verify(tmp_path / "absent", "sqlite:///x.sqlite")
    assert result.returncode == 2
    assert "is not a folder" in result.stderr


def test_a_conversion_record_without_its_response_is_caught(copy):
    warc_dir, db_url, _, main = copy
    with open(warc_dir / "orphan.warc.gz", "wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="1.1")
        conversion = writer.create_warc_record(
            f"{main}/", "conversion", payload=io.BytesIO(b"<p>dom</p>"), length=10,
            warc_content_type="text/html; charset=utf-8",
            warc_headers_dict={"WARC-Refers-To": "<urn:uuid:00000000-0000-0000-0000-000000000000>"},
        )  # fmt: skip
        writer.write_record(conversion)
    result = _verify(warc_dir, db_url)
    assert result.returncode == 1
    assert "conversion record refers to <urn:uuid:00000000" in result.stdout
