"""The rotating WARC writer: records, links between them, rotation, `.open` files."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
import uuid
from io import BytesIO
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.contracts import WireRequest, WireResponse
from pipelines.warc_writer import (
    OPEN_SUFFIX,
    RotatingWarcWriter,
    build_record,
    page_of,
    provenance_uri,
    rendered_dom_uri,
)
from pipelines.warc_writer import http_head as http_head_of

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


# -- build_record: byte for byte what warcio writes --------------------------------------------


class _GivenHead(StatusAndHeaders):
    """HTTP headers that warcio writes as the given bytes (what the writer once passed it)."""

    def __init__(self, head: bytes):
        super().__init__("200 OK", [], protocol="HTTP/1.1")
        self._head = head

    def compute_headers_buffer(self, header_filter=None) -> None:
        self.headers_buff = self._head


def _warcio_bytes(record_type, uri, warc_headers, *, http_head=None, payload=b"", ctype=""):
    builder = WARCWriter(None, gzip=False, warc_version="1.1")
    http = _GivenHead(http_head) if http_head else None
    record = builder.create_warc_record(
        uri,
        record_type,
        payload=BytesIO(payload) if record_type != "revisit" else None,
        length=len(payload) if record_type != "revisit" else None,
        http_headers=http,
        warc_content_type=ctype,
        warc_headers_dict=dict(warc_headers),
    )
    out = BytesIO()
    builder.out = out
    builder.write_record(record)
    return out.getvalue()


header_bytes = st.binary(min_size=0, max_size=40).filter(
    lambda b: b"\r" not in b and b"\n" not in b
)
http_heads = st.lists(st.tuples(st.from_regex(rb"\A[A-Za-z-]{1,20}\Z"), header_bytes), max_size=6)
uris = st.sampled_from(["https://example.org/a?b=1", "http://xn--bcher-kva.example/ü", "ftp://x/y"])


@settings(max_examples=200, deadline=None)
@given(
    record_type=st.sampled_from(["request", "response", "revisit", "metadata", "conversion"]),
    uri=uris,
    headers=http_heads,
    payload=st.binary(max_size=5000),
    ip=st.sampled_from([None, "192.0.2.1", "2001:db8::1"]),
    stated_digest=st.booleans(),
)
def test_built_records_are_the_bytes_warcio_writes(
    record_type, uri, headers, payload, ip, stated_digest
):
    """The writer builds the records of an exchange itself, for speed; any byte that differs
    from warcio's own output is a bug (header order, digests, lengths, content types)."""
    record_id = "<urn:uuid:00000000-0000-4000-8000-000000000001>"
    warc_headers = [("WARC-Date", "2026-12-01T00:00:00.123456Z")]
    content_type = None
    http_head = None
    if record_type in ("request", "response", "revisit"):
        warc_headers.append(("WARC-Record-ID", record_id))
        first = b"GET /a?b=1 HTTP/1.1" if record_type == "request" else b"HTTP/1.1 200 OK"
        http_head = http_head_of(first, headers)
        if record_type != "request":
            warc_headers.append(("WARC-Concurrent-To", "<urn:uuid:req>"))
            if ip:
                warc_headers.append(("WARC-IP-Address", ip))
        if record_type == "revisit":
            warc_headers += [
                ("WARC-Refers-To", "<urn:uuid:old>"),
                (
                    "WARC-Profile",
                    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
                ),
                ("WARC-Refers-To-Target-URI", uri),
                ("WARC-Refers-To-Date", "2026-11-01T00:00:00Z"),
            ]
            if stated_digest:
                warc_headers.append(
                    ("WARC-Payload-Digest", "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
                )
            payload = b""
        if record_type == "request":
            payload = b""
    else:
        warc_headers.append(("WARC-Refers-To", record_id))
        content_type = (
            "application/json" if record_type == "metadata" else "text/html; charset=utf-8"
        )
    # a metadata or conversion record gets a fresh id: the same one on both sides
    with mock.patch.object(uuid, "uuid4", lambda: "00000000-0000-4000-8000-00000000000f"):
        built = build_record(
            record_type,
            uri,
            warc_headers,
            http_head=http_head,
            payload=payload,
            content_type=content_type,
        )
        expected = _warcio_bytes(
            record_type,
            uri,
            warc_headers,
            http_head=http_head,
            payload=payload,
            ctype=content_type or "",
        )
    assert built.data == expected
    (record,) = ArchiveIterator(BytesIO(built.data))
    assert built.record_id == record.rec_headers.get_header("WARC-Record-ID")
    assert built.payload_digest == record.rec_headers.get_header("WARC-Payload-Digest")
