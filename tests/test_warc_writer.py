"""The rotating WARC writer: records, links between them, rotation, `.open` files."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys

from warcio.archiveiterator import ArchiveIterator

from crawler.contracts import WireRequest, WireResponse
from pipelines.warc_writer import (
    OPEN_SUFFIX,
    RotatingWarcWriter,
    page_of,
    provenance_uri,
    rendered_dom_uri,
)

REQUEST = WireRequest(
    "GET", "https://example.org/a?b=1", ((b"Host", b"example.org"), (b"User-Agent", b"t"))
)
RESPONSE = WireResponse(
    "https://example.org/a?b=1",
    200,
    "HTTP/1.1",
    ((b"Content-Type", b"text/html"),),
    b"<html>" + b"x" * 3000 + b"</html>",
    ip_address="192.0.2.1",
)


def _writer(tmp_path, **kwargs):
    options = {
        "prefix": "test",
        "max_size": 10**9,
        "warcinfo": {"software": "tests"},
        "hostname": "host-a",
        "pid": 7,
    }
    return RotatingWarcWriter(tmp_path, **{**options, **kwargs})


def _records(path):
    with open(path, "rb") as stream:
        return [
            (r.rec_type, dict(r.rec_headers.headers), r.content_stream().read())
            for r in ArchiveIterator(stream)
        ]


def test_exchange_records_are_linked_and_file_is_open_until_closed(tmp_path):
    writer = _writer(tmp_path)
    response_at, metadata_at = writer.write_exchange(REQUEST, RESPONSE, b'{"outcome": "kept"}')
    (open_file,) = tmp_path.iterdir()
    assert open_file.name.endswith(".warc.gz" + OPEN_SUFFIX)
    closed = writer.close()
    assert closed.name == open_file.name.removesuffix(OPEN_SUFFIX)
    assert closed.name.startswith("test-") and closed.name.endswith("-00001-host_a-7.warc.gz")

    records = _records(closed)
    assert [r[0] for r in records] == ["warcinfo", "request", "response", "metadata"]
    request, response, metadata = (r[1] for r in records[1:])
    assert response["WARC-Concurrent-To"] == request["WARC-Record-ID"]
    assert metadata["WARC-Refers-To"] == response["WARC-Record-ID"] == response_at.record_id
    assert metadata["Content-Type"] == "application/json"
    # Under its own URN, not the page's URI: replay tools would index it beside the response.
    assert metadata["WARC-Target-URI"] == provenance_uri(RESPONSE.url)
    assert page_of(metadata["WARC-Target-URI"]) == response["WARC-Target-URI"] == RESPONSE.url
    assert response["WARC-IP-Address"] == "192.0.2.1"
    assert all("WARC-Block-Digest" in r[1] and "WARC-Payload-Digest" in r[1] for r in records[1:])
    assert json.loads(records[3][2]) == {"outcome": "kept"}
    assert metadata_at.record_id == metadata["WARC-Record-ID"]


def test_location_seeks_to_the_response_record(tmp_path):
    writer = _writer(tmp_path)
    writer.write_exchange(REQUEST, RESPONSE, b"{}")
    location, _ = writer.write_exchange(REQUEST, RESPONSE, b"{}")
    path = writer.close()
    with open(path, "rb") as stream:
        stream.seek(location.offset)
        record = next(iter(ArchiveIterator(stream)))
        assert record.rec_headers.get_header("WARC-Record-ID") == location.record_id
        assert record.content_stream().read() == RESPONSE.body
    assert location.length > 0


def test_response_record_keeps_given_record_id(tmp_path):
    writer = _writer(tmp_path)
    location, _ = writer.write_exchange(
        REQUEST, RESPONSE, b"{}", response_record_id="<urn:uuid:fixed>"
    )
    assert location.record_id == "<urn:uuid:fixed>"


def test_rotation_keeps_exchanges_whole_and_starts_each_file_with_warcinfo(tmp_path):
    writer = _writer(tmp_path, max_size=2500)
    incompressible = WireResponse(
        RESPONSE.url, 200, "HTTP/1.1", (), random.Random(0).randbytes(3000)
    )
    for _ in range(4):
        writer.write_exchange(REQUEST, incompressible, b"{}")
    writer.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) == 4
    assert [f.name.split("-")[2] for f in files] == ["00001", "00002", "00003", "00004"]
    for path in files:
        assert [r[0] for r in _records(path)] == ["warcinfo", "request", "response", "metadata"]
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *map(str, files)], capture_output=True
    )
    assert check.returncode == 0, check.stdout


def test_close_without_records_creates_no_file(tmp_path):
    writer = _writer(tmp_path)
    assert writer.close() is None
    assert list(tmp_path.iterdir()) == []


def test_http_headers_are_archived_byte_for_byte(tmp_path):
    writer = _writer(tmp_path)
    request = WireRequest("GET", "https://example.org/caf%C3%A9?q=1", ((b"Host", b"example.org"),))
    response = WireResponse(
        "https://example.org/caf%C3%A9?q=1",
        299,
        "HTTP/1.1",
        ((b"X-Title", b"caf\xc3\xa9; a=b"), (b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2")),
        b"body",
    )
    writer.write_exchange(request, response, b"{}")
    raw = gzip.decompress(writer.close().read_bytes())
    assert b"GET /caf%C3%A9?q=1 HTTP/1.1\r\nHost: example.org\r\n\r\n" in raw
    assert (
        b"HTTP/1.1 299 \r\nX-Title: caf\xc3\xa9; a=b\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nbody"
        in raw
    )
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", str(next(tmp_path.glob("*.gz")))],
        capture_output=True,
    )
    assert check.returncode == 0, check.stdout


def test_rendered_dom_is_a_conversion_record_referring_to_the_response(tmp_path):
    writer = _writer(tmp_path)
    dom = "<html><body><p>written by a script — ünïcode</p></body></html>".encode()
    response_at, _ = writer.write_exchange(REQUEST, RESPONSE, b"{}", conversion=dom)
    closed = writer.close()
    records = _records(closed)
    assert [r[0] for r in records] == ["warcinfo", "request", "response", "conversion", "metadata"]
    conversion = records[3]
    assert conversion[1]["WARC-Refers-To"] == response_at.record_id
    assert conversion[1]["WARC-Target-URI"] == rendered_dom_uri(RESPONSE.url)
    assert conversion[1]["Content-Type"] == "text/html; charset=utf-8"
    assert conversion[2] == dom
    assert records[4][1]["WARC-Refers-To"] == response_at.record_id
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", str(closed)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
