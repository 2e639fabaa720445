"""Real crawls of the loopback gate site with `scrapy crawl corpus`, read back from WARC and SQL."""

from __future__ import annotations

import gzip
import ipaddress
import json
import os
import re
import signal
import socket
import zlib
from pathlib import Path

import pytest

from pipelines.warc_writer import page_of, provenance_uri
from policies.profile import load_profile
from tests.conftest import (
    QUICK_BACK_OFF,
    assert_consistent,
    crawl_command,
    log_length,
    requests_since,
    run_crawl,
    scrapy_command,
    start_scrapy,
    wait_for,
    warcio_check,
)
from tests.sites.gate import SLOW_PAGES

RESERVED_MARKERS = [
    b"Reserved by an HTTP header.",
    b"Reserved by X-Robots-Tag.",
    b"Reserved by a robots meta tag.",
    b"Reserved by TDMRep meta.",
    b"never requested",
    b"robots.txt disallows this path.",
]


@pytest.fixture(scope="module")
def crawl(gate_site, tmp_path_factory):
    o = gate_site.origins
    urls = [
        f"{o['main']}/",
        f"{o['down']}/",
        f"{o['open']}/",
        f"{o['closed']}/",
        f"{o['main']}/gated",
    ]
    # `down`'s robots.txt answers 503: retried, with 3 s of back-off otherwise
    result = run_crawl(tmp_path_factory.mktemp("crawl"), urls=urls, settings=QUICK_BACK_OFF)
    assert result.returncode == 0, result.output
    return result


def test_keeps_exactly_the_allowed_pages(crawl, gate_site):
    o = gate_site.origins
    kept = {url for url, (outcome, _) in crawl.decisions().items() if outcome == "kept"}
    assert kept == {
        f"{o['main']}/",
        f"{o['main']}/articles/1",
        f"{o['main']}/articles/2",
        f"{o['main']}/articles/3",
        f"{o['main']}/compressed",
        f"{o['main']}/gated",
        f"{o['main']}/refresh",  # a meta-refresh page is a page; its target is followed
        f"{o['open']}/",
        f"{o['open']}/about",
    }


def test_every_exclusion_is_recorded_with_its_reason(crawl, gate_site):
    o = gate_site.origins
    excluded = {url: r for url, (outcome, r) in crawl.decisions().items() if outcome == "excluded"}
    assert excluded == {
        f"{o['main']}/private/secret": ("robots-disallowed",),
        f"{o['main']}/private/hidden": ("robots-disallowed",),  # a redirect target, gated again
        f"{o['closed']}/landing": ("robots-disallowed",),  # a cross-origin redirect target
        f"{o['closed']}/": ("robots-disallowed",),
        f"{o['down']}/": ("robots-unreachable",),
        f"{o['main']}/reserved/tdm-header": ("tdm-reservation-header",),
        f"{o['main']}/reserved/noai-header": ("noai-header",),
        f"{o['main']}/reserved/noai-meta": ("noai-meta",),
        f"{o['main']}/reserved/tdm-meta": ("tdm-reservation-meta",),
        f"{o['main']}/missing": ("http-error",),
        f"{o['main']}/moved": ("redirected",),
        f"{o['main']}/moved-to-private": ("redirected",),
        f"{o['main']}/moved-to-closed": ("redirected",),
        f"{o['main']}/moved-to-reserved": ("redirected",),
    }
    locations = dict(
        crawl.sql("SELECT url, json_extract(detail, '$.detail.location') FROM decisions")
    )
    assert locations[f"{o['main']}/moved"] == f"{o['main']}/articles/3"
    assert locations[f"{o['main']}/moved-to-closed"] == f"{o['closed']}/landing"
    stages = dict(crawl.sql("SELECT url, stage FROM decisions"))
    assert stages[f"{o['main']}/private/secret"] == "before-fetch"
    assert stages[f"{o['main']}/reserved/noai-meta"] == "after-fetch"


def test_never_requests_what_robots_txt_refuses(crawl, gate_site):
    assert "/private/secret" not in crawl.paths(gate_site, "main")
    assert "/private/hidden" not in crawl.paths(gate_site, "main")
    assert set(crawl.paths(gate_site, "closed")) == {"/robots.txt"}
    assert set(crawl.paths(gate_site, "down")) == {"/robots.txt"}  # 503, retried, then disallow


def test_warc_files_pass_warcio_check(crawl):
    files = crawl.warc_files()
    assert files and not list(crawl.warc_dir.glob("*.open"))
    warcio_check(files)


def test_every_response_record_has_one_metadata_record(crawl):
    records = crawl.records()
    assert records[0][2]["WARC-Type"] == "warcinfo"
    responses = {h["WARC-Record-ID"]: h for _, _, h, _ in records if h["WARC-Type"] == "response"}
    metadata = [h for _, _, h, _ in records if h["WARC-Type"] == "metadata"]
    assert sorted(h["WARC-Refers-To"] for h in metadata) == sorted(responses)
    for headers in metadata:  # under its page's URN: replay tools serve the page, not this JSON
        page = responses[headers["WARC-Refers-To"]]["WARC-Target-URI"]
        assert headers["WARC-Target-URI"] == provenance_uri(page)
    requests = {h["WARC-Record-ID"] for _, _, h, _ in records if h["WARC-Type"] == "request"}
    assert {h["WARC-Concurrent-To"] for h in responses.values()} == requests


def test_warcinfo_names_software_profile_and_format(crawl):
    (path, _, headers, body) = crawl.records()[0]
    info = body.decode()
    assert headers["WARC-Filename"] == path.name
    assert re.match(r"rightscrawl-\d{17}-00001-[^-]+-\d+\.warc\.gz$", path.name)
    assert "software: rightscrawl/" in info and "format: WARC File Format 1.1" in info
    assert f"policy-profile-sha256: {load_profile('strict').sha256}" in info
    assert "conformsTo: " in info and "http-header-user-agent: rightscrawl/" in info


def test_reserved_bytes_never_reach_a_warc_file_or_the_database(crawl):
    everything = b"".join(body for *_, body in crawl.records())
    for marker in RESERVED_MARKERS:
        assert marker not in everything
    # gzip.decompress reads every member (one per record); zlib.decompress would stop at the first.
    raw = b"".join(gzip.decompress(p.read_bytes()) for p in crawl.warc_files())
    assert raw.count(b"WARC/1.1\r\n") == len(crawl.records())
    for marker in RESERVED_MARKERS:
        assert marker not in raw  # not even in a record body we did not parse
    database = crawl.db_path.read_bytes()
    for marker in RESERVED_MARKERS:
        assert marker not in database


def test_capture_rows_point_at_their_response_records(crawl):
    from warcio.archiveiterator import ArchiveIterator

    rows = crawl.sql("SELECT url, warc_file, warc_offset, record_id, payload_digest FROM captures")
    assert len(rows) == 9
    for url, warc_file, offset, record_id, digest in rows:
        with open(crawl.warc_dir / warc_file, "rb") as stream:
            stream.seek(offset)
            record = next(iter(ArchiveIterator(stream)))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == url
            assert record.rec_headers.get_header("WARC-Record-ID") == record_id
            assert record.rec_headers.get_header("WARC-Payload-Digest") == digest


def test_response_record_is_the_message_as_received(crawl, gate_site):
    compressed = f"{gate_site.origins['main']}/compressed"
    (record,) = [
        (h, body)
        for _, _, h, body in crawl.records()
        if h["WARC-Type"] == "response" and h["WARC-Target-URI"] == compressed
    ]
    headers, body = record
    assert body[:2] == b"\x1f\x8b"  # still gzip: Scrapy decoded its copy, not ours
    assert zlib.decompress(body, 16 + zlib.MAX_WBITS).startswith(b"<!doctype html>")


def test_metadata_record_holds_the_provenance_json(crawl, gate_site):
    main = gate_site.origins["main"]
    run_id, profile_sha = crawl.sql("SELECT id, profile_sha256 FROM runs")[0]
    evidence = dict(crawl.sql("SELECT url, record_id FROM evidence"))
    metadata = {
        page_of(h["WARC-Target-URI"]): json.loads(body)
        for _, _, h, body in crawl.records()
        if h["WARC-Type"] == "metadata" and json.loads(body).get("role") != "policy-evidence"
    }
    article = metadata[f"{main}/articles/1"]
    assert article["outcome"] == "kept" and article["reasons"] == [] and article["run_id"] == run_id
    assert article["policy"] == {"profile": "strict", "sha256": profile_sha}
    assert article["access"] == {"status": 200, "credentials_sent": False, "paywall": False}
    (robots,) = [s for s in article["signals"] if s["kind"] == "robots.txt"]
    assert robots["verdict"] == "allowed"
    assert robots["evidence_record"] == evidence[f"{main}/robots.txt"]
    detail = json.loads(
        crawl.sql("SELECT detail FROM decisions WHERE url = ?", f"{main}/articles/1")[0][0]
    )
    assert detail == article


def test_robots_txt_is_archived_as_evidence(crawl, gate_site):
    o = gate_site.origins
    rows = {
        url: (status, record_id)
        for url, status, record_id in crawl.sql(
            "SELECT url, status, record_id FROM evidence WHERE kind = 'robots.txt'"
        )
    }
    assert {url: status for url, (status, _) in rows.items()} == {
        f"{o['main']}/robots.txt": "200",
        f"{o['down']}/robots.txt": "503",
        f"{o['open']}/robots.txt": "404",
        f"{o['closed']}/robots.txt": "200",
    }
    archived = {
        h["WARC-Record-ID"]: h["WARC-Target-URI"]
        for _, _, h, _ in crawl.records()
        if h["WARC-Type"] == "response"
    }
    for url, (_, record_id) in rows.items():
        assert archived[record_id] == url
    # The strict profile also reads tdmrep.json and ai.txt, once per origin, and each seed's
    # origin is asked for its sitemap (SITEMAPS; none listed in robots.txt: /sitemap.xml), where
    # robots.txt lets us: not on `closed` (disallowed) nor on `down` (unreachable: nothing is
    # fetched there).
    others = crawl.sql("SELECT kind, url, status FROM evidence WHERE kind != 'robots.txt'")
    assert sorted(others) == sorted(
        (kind, f"{o[name]}{path}", "404")
        for name in ("main", "open")
        for kind, path in (
            ("tdmrep.json", "/.well-known/tdmrep.json"),
            ("ai.txt", "/ai.txt"),
            ("sitemap", "/sitemap.xml"),
        )
    )


def test_run_row_and_no_listening_ports(crawl):
    ((finished, reason, user_agent, settings),) = crawl.sql(
        "SELECT finished_at, finish_reason, user_agent, settings FROM runs"
    )
    assert finished and reason == "finished" and user_agent.startswith("rightscrawl/")
    assert json.loads(settings)["ALLOW_PRIVATE_ADDRESSES"] in ("true", True)
    extensions = crawl.output.split("Enabled extensions:")[1].split("]")[0]
    assert "TelnetConsole" not in extensions and "RemoteControl" not in extensions


def test_robots_txt_is_fetched_once_per_origin_under_concurrency(gate_site, tmp_path):
    busy = gate_site.origins["busy"]
    urls = [f"{busy}/p/{n}" for n in range(60)]
    result = run_crawl(
        tmp_path,
        urls=urls,
        settings={"CONCURRENT_REQUESTS": "32", "CONCURRENT_REQUESTS_PER_DOMAIN": "32"},
    )
    assert result.returncode == 0, result.output
    # … and its sitemap once, though 60 seeds share the origin (SITEMAPS).
    for path in ("/robots.txt", "/.well-known/tdmrep.json", "/ai.txt", "/sitemap.xml"):
        assert result.paths(gate_site, "busy").count(path) == 1
    assert result.sql("SELECT count(*) FROM captures")[0][0] == 60
    assert result.sql("SELECT count(*) FROM evidence")[0][0] == 4


def test_rotation_in_a_real_crawl(gate_site, tmp_path):
    result = run_crawl(
        tmp_path, urls=[f"{gate_site.origins['main']}/"], settings={"WARC_MAX_SIZE": "3000"}
    )
    assert result.returncode == 0, result.output
    files = result.warc_files()
    assert len(files) > 2
    serials = [int(p.name.split("-")[2]) for p in files]
    assert sorted(serials) == list(range(1, len(files) + 1))
    for path in files:
        with open(path, "rb") as stream:
            from warcio.archiveiterator import ArchiveIterator

            assert next(iter(ArchiveIterator(stream))).rec_type == "warcinfo"
    captured = {f for (f,) in result.sql("SELECT warc_file FROM captures")}
    assert captured <= {p.name for p in files}


def test_depth_limit_and_jobdir_keep_working(gate_site, tmp_path):
    o = gate_site.origins
    result = run_crawl(
        tmp_path,
        urls=[f"{o['open']}/"],
        settings={"DEPTH_LIMIT": "0", "JOBDIR": str(tmp_path / "job")},
    )
    assert result.returncode == 0, result.output
    assert set(result.decisions()) == {f"{o['open']}/", f"{o['open']}/about"}
    limited = run_crawl(tmp_path / "limited", urls=[f"{o['open']}/"], settings={"DEPTH_LIMIT": "1"})
    assert set(limited.decisions()) == {f"{o['open']}/", f"{o['open']}/about"}
    shallow = run_crawl(
        tmp_path / "shallow", urls=[f"{o['main']}/gated"], settings={"DEPTH_LIMIT": "1"}
    )
    assert f"{o['main']}/gated" in shallow.decisions()
    assert f"{o['main']}/refresh" in shallow.decisions()  # depth 1
    assert f"{o['main']}/articles/2" not in shallow.decisions()  # its refresh target: depth 2


def test_ctrl_c_flushes_the_database_and_closes_the_warc(gate_site, tmp_path):
    slow = gate_site.origins["slow"]
    warc_dir, db = tmp_path / "warc", tmp_path / "provenance.sqlite"
    start = log_length(gate_site)
    log = tmp_path / "output.log"
    with start_scrapy(*crawl_command(tmp_path, urls=[f"{slow}/s/0"]), output=log) as process:
        wait_for(lambda: len(requests_since(gate_site, start)) >= 15, what="15 requests")
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert process.returncode == 0, log.read_text()
    assert not list(warc_dir.glob("*.open"))
    import sqlite3

    connection = sqlite3.connect(db)
    kept = connection.execute("SELECT count(*) FROM decisions WHERE outcome = 'kept'").fetchone()[0]
    captures = connection.execute("SELECT count(*) FROM captures").fetchone()[0]
    reason = connection.execute("SELECT finish_reason FROM runs").fetchone()[0]
    assert reason == "shutdown"
    assert kept == captures > 0
    from tests.conftest import Crawl

    records = Crawl(0, "", warc_dir, db).records()
    page_responses = [
        h
        for _, _, h, _ in records
        if h["WARC-Type"] == "response" and "/s/" in h["WARC-Target-URI"]
    ]
    assert len(page_responses) == captures
    assert len(requests_since(gate_site, start)) < 400  # it really stopped early


def test_seed_file_with_comments_and_a_bad_seed(gate_site, tmp_path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(
        f"# seeds\n\n{gate_site.origins['open']}/about   # trailing comment\nnot a url\nftp://x/\n"
    )
    result = run_crawl(tmp_path, args={"seeds": str(seeds)}, settings={"DEPTH_LIMIT": "1"})
    assert result.returncode == 0, result.output
    assert (
        "Skipping seed 'not a url'" in result.output and "Skipping seed 'ftp://x/'" in result.output
    )
    assert f"{gate_site.origins['open']}/about" in result.decisions()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "no seed was given"),
        ({"urls": "nope,ftp://x/"}, "none of the seeds is a usable URL"),
        ({"seeds": "/nonexistent/seeds.txt"}, "Cannot read seed file"),
    ],
)
def test_no_valid_seed_is_a_clear_error(tmp_path, args, message):
    result = run_crawl(tmp_path, args=args)
    assert result.returncode != 0
    assert message in result.output
    assert not result.warc_files()


def test_unknown_profile_stops_the_crawl_before_any_request(gate_site, tmp_path):
    before = len(gate_site.requests())
    result = run_crawl(
        tmp_path,
        urls=[f"{gate_site.origins['open']}/"],
        settings={"POLICY_PROFILE": "no-such-profile"},
    )
    assert result.returncode != 0
    assert "Unknown policy profile 'no-such-profile'" in result.output
    assert len(gate_site.requests()) == before
    assert not result.warc_files()


def test_private_addresses_are_refused_unless_allowed(gate_site, tmp_path):
    result = run_crawl(
        tmp_path,
        urls=[f"{gate_site.origins['open']}/"],
        settings={"ALLOW_PRIVATE_ADDRESSES": "false"},
    )
    assert result.returncode == 3, result.output  # no page fetched
    assert result.decisions() == {
        f"{gate_site.origins['open']}/": ("excluded", ("private-address",))
    }


def test_bodies_over_the_size_limit_are_excluded_as_too_large(gate_site, tmp_path):
    main = gate_site.origins["main"]
    result = run_crawl(
        tmp_path,
        urls=[f"{main}/big", f"{main}/bomb"],
        settings={"DOWNLOAD_MAXSIZE": "100000", "DEPTH_LIMIT": "0"},
    )
    assert result.returncode == 0, result.output
    assert result.decisions() == {
        f"{main}/big": ("excluded", ("too-large",)),  # declared by Content-Length
        f"{main}/bomb": ("excluded", ("too-large",)),  # 5 MB once decompressed
    }
    assert not [
        h
        for _, _, h, _ in result.records()
        if h.get("WARC-Target-URI", "").endswith(("/big", "/bomb"))
    ]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("WARC_MAX_SIZE=abc", "Setting WARC_MAX_SIZE must be a whole number, not 'abc'"),
        ("WARC_MAX_SIZE=-5", "Setting WARC_MAX_SIZE must be at least 1"),
        ("WARC_WRITE_QUEUE=0", "Setting WARC_WRITE_QUEUE must be at least 1"),
        ("PROVENANCE_DB_URL=not a url", "Setting PROVENANCE_DB_URL is not a SQLAlchemy URL"),
        ("PROVENANCE_BATCH_SIZE=0", "Setting PROVENANCE_BATCH_SIZE must be at least 1"),
        ("POLICY_CACHE_SECONDS=soon", "Setting POLICY_CACHE_SECONDS must be a number"),
        ("PROVENANCE_DB_URL=sqlite:////", "unable to open database file"),
        ("POLICY_REGISTRIES=/nonexistent/declared.csv", "no such registry file or folder"),
    ],
)
def test_a_bad_setting_stops_the_crawl_with_its_name(gate_site, tmp_path, setting, message):
    name, value = setting.split("=", 1)
    before = len(gate_site.requests())
    result = run_crawl(tmp_path, urls=[f"{gate_site.origins['open']}/"], settings={name: value})
    assert result.returncode != 0
    assert message in result.output
    assert len(gate_site.requests()) == before
    assert not result.warc_files()


def test_robots_txt_redirects_are_followed_up_to_five(gate_site, tmp_path):
    r5, r6 = gate_site.origins["redirect5"], gate_site.origins["redirect6"]
    result = run_crawl(tmp_path, urls=[f"{r5}/", f"{r6}/"])
    assert result.returncode == 0, result.output
    assert result.decisions() == {
        f"{r5}/": ("kept", ()),
        f"{r5}/no": ("excluded", ("robots-disallowed",)),  # the rules found after 5 hops apply
        f"{r6}/": ("excluded", ("robots-unreachable",)),  # a 6th hop is not followed: fail closed
    }
    assert "/no" not in result.paths(gate_site, "redirect5")
    assert result.paths(gate_site, "redirect6") == [
        "/robots.txt",
        *(f"/hop/{n}" for n in range(1, 6)),
    ]


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.0.0.1", "localhost"])
def test_private_address_in_any_spelling_is_refused(gate_site, tmp_path, host):
    port = gate_site.origins["open"].rsplit(":", 1)[1]
    before = len(gate_site.requests())
    result = run_crawl(
        tmp_path, urls=[f"http://{host}:{port}/"], settings={"ALLOW_PRIVATE_ADDRESSES": "false"}
    )
    assert result.returncode == 3, result.output  # no page fetched
    assert [reasons for outcome, reasons in result.decisions().values()] == [("private-address",)]
    assert len(gate_site.requests()) == before


def test_too_many_redirects_is_a_fetch_error_and_each_hop_is_recorded(gate_site, tmp_path):
    main = gate_site.origins["main"]
    result = run_crawl(tmp_path, urls=[f"{main}/chain/0"], settings={"REDIRECT_MAX_TIMES": "2"})
    assert result.returncode == 0, result.output
    assert result.decisions() == {
        f"{main}/chain/0": ("excluded", ("redirected",)),
        f"{main}/chain/1": ("excluded", ("redirected",)),
        f"{main}/chain/2": ("excluded", ("fetch-error",)),  # a third redirect is not followed
    }


def test_a_body_that_cannot_be_decoded_fails_closed(gate_site, tmp_path):
    main, encoded = gate_site.origins["main"], gate_site.origins["encoded"]
    result = run_crawl(tmp_path, urls=[f"{main}/undecodable", f"{encoded}/"])
    assert result.returncode == 0, result.output
    assert result.decisions() == {
        f"{main}/undecodable": ("excluded", ("policy-error",)),
        f"{encoded}/": ("excluded", ("robots-unreachable",)),
    }
    assert b"Reserved but unreadable" not in b"".join(body for *_, body in result.records())
    assert "/" not in result.paths(gate_site, "encoded")


def test_a_host_name_that_resolves_to_a_private_address_is_refused(gate_site, tmp_path):
    host = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        pytest.skip(f"this machine's host name {host!r} does not resolve")
    if not any(not ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
        pytest.skip(f"{host!r} resolves to public addresses {addresses}")
    port = gate_site.origins["open"].rsplit(":", 1)[1]
    before = len(gate_site.requests())
    result = run_crawl(
        tmp_path, urls=[f"http://{host}:{port}/"], settings={"ALLOW_PRIVATE_ADDRESSES": "false"}
    )
    assert result.returncode == 3, result.output  # no page fetched
    assert result.decisions() == {f"http://{host}:{port}/": ("excluded", ("private-address",))}
    assert len(gate_site.requests()) == before


def _listening_sockets(pid: int) -> list[str]:
    """Local addresses of TCP sockets in LISTEN state that process `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    listening = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                listening.append(f"{table} {fields[1]}")
    return listening


@pytest.mark.skipif(
    not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc to list sockets"
)
def test_a_crawl_opens_no_listening_port(gate_site, tmp_path):
    slow = gate_site.origins["slow"]
    start = log_length(gate_site)
    with start_scrapy(*crawl_command(tmp_path, urls=[f"{slow}/s/100"])) as process:
        wait_for(
            lambda: "/s/100" in [r["path"] for r in requests_since(gate_site, start)],
            what="the crawl to start",
        )
        assert _listening_sockets(process.pid) == []  # no telnet console, no remote control


def test_an_overlapping_run_over_the_same_output_exits_75(gate_site, tmp_path):
    slow = gate_site.origins["slow"]
    command = crawl_command(tmp_path, urls=[f"{slow}/s/1"])
    start = log_length(gate_site)
    log = tmp_path / "output.log"
    with start_scrapy(*command, output=log) as first:
        wait_for(lambda: len(requests_since(gate_site, start)) >= 5, what="5 requests")
        second = scrapy_command(*command)
        assert second.returncode == 75
        assert f"another crawl (pid {first.pid}) is writing to {tmp_path / 'warc'}" in second.stderr
        assert first.poll() is None  # the first run goes on
    assert first.returncode == 0, log.read_text()
    assert (
        len({r for (r,) in subprocess_sql(tmp_path / "provenance.sqlite", "SELECT id FROM runs")})
        == 1
    )


def subprocess_sql(db, query):
    import sqlite3

    connection = sqlite3.connect(db)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def test_a_crawl_stopped_by_a_failure_exits_1(gate_site, tmp_path):
    result = run_crawl(
        tmp_path,
        urls=[f"{gate_site.origins['open']}/"],
        settings={"EXTENSIONS": json.dumps({"tests.closing_extension.CloseWithFailure": 0})},
    )
    assert "(component_failure)" in result.output
    assert result.returncode == 1


def test_a_killed_crawl_resumes_with_its_warc_closed_out_and_the_database_rebuilt(
    gate_site, tmp_path
):
    slow = gate_site.origins["slow"]
    db_url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    settings = {"PROVENANCE_DB_URL": db_url, "JOBDIR": str(tmp_path / "job")}
    command = crawl_command(tmp_path, urls=[f"{slow}/s/5"], settings=settings)
    start = log_length(gate_site)
    with start_scrapy(*command) as first:
        wait_for(lambda: len(requests_since(gate_site, start)) >= 12, what="12 requests")
        first.kill()  # SIGKILL: no shutdown, rows still in memory, the WARC file left open
        first.wait(timeout=30)
    assert list((tmp_path / "warc").glob("*.warc.gz.open"))
    second = scrapy_command(*command, timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Recovered" in second.stderr and "database rows rebuilt" in second.stderr
    assert not list((tmp_path / "warc").glob("*.open"))
    assert_consistent(tmp_path / "warc", db_url)
    assert "requests rebuilt" in second.stderr
    urls = [u for (u,) in subprocess_sql(tmp_path / "p.sqlite", "SELECT url FROM captures")]
    # Nothing captured twice (the JOBDIR dupefilter is written through; decided URLs are not
    # rebuilt), and nothing lost: every page under the seed is captured by one run or the other.
    assert len(urls) == len(set(urls))
    assert set(urls) == {f"{slow}/s/{n}" for n in _subtree(5, SLOW_PAGES)}
    decided = subprocess_sql(
        tmp_path / "p.sqlite", "SELECT url, count(*) FROM decisions GROUP BY url"
    )
    assert all(count == 1 for _, count in decided), [d for d in decided if d[1] > 1]
    # A third run of the finished job has nothing left to do.
    third = scrapy_command(*command, timeout=180)
    assert third.returncode == 3 and "requests rebuilt" not in third.stderr  # nothing fetched
    assert "The crawl fetched no page: the job in JOBDIR" in third.stderr
    assert subprocess_sql(tmp_path / "p.sqlite", "SELECT count(*) FROM captures") == [(len(urls),)]


def _subtree(root: int, size: int) -> set[int]:
    """Pages reachable from /s/ROOT: each page n links to 2n+1 and 2n+2."""
    found, todo = set(), [root]
    while todo:
        n = todo.pop()
        if n < size and n not in found:
            found.add(n)
            todo += [2 * n + 1, 2 * n + 2]
    return found


def test_a_killed_recrawl_resumes_from_the_links_of_its_revisits(gate_site, tmp_path):
    """In a re-crawl almost every page is a revisit: its links are in the stored response."""
    slow = gate_site.origins["slow"]
    settings = {"PROVENANCE_DB_URL": f"sqlite:///{tmp_path / 'p.sqlite'}"}

    def command(extra: dict[str, str]) -> list[str]:
        return crawl_command(tmp_path, urls=[f"{slow}/s/5"], settings={**settings, **extra})

    first = scrapy_command(*command({}), timeout=180)
    assert first.returncode == 0, first.stderr
    job = {"JOBDIR": str(tmp_path / "job")}
    start = log_length(gate_site)
    with start_scrapy(*command(job)) as killed:
        wait_for(lambda: len(requests_since(gate_site, start)) >= 12, what="12 requests")
        killed.kill()
        killed.wait(timeout=30)
    resumed = scrapy_command(*command(job), timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    (_, *job_runs) = [r for (r,) in subprocess_sql(tmp_path / "p.sqlite", "SELECT id FROM runs ORDER BY started_at")]  # fmt: skip
    decided = {
        url
        for (url,) in subprocess_sql(
            tmp_path / "p.sqlite",
            f"SELECT url FROM decisions WHERE run_id IN ({','.join(repr(r) for r in job_runs)})",
        )
    }
    assert {f"{slow}/s/{n}" for n in _subtree(5, SLOW_PAGES)} <= decided
    revisits = subprocess_sql(
        tmp_path / "p.sqlite", "SELECT count(*) FROM captures WHERE revisit_of IS NOT NULL"
    )
    assert revisits[0][0] >= 12  # the job's pages were revisits of the first crawl
