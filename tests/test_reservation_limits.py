"""A reservation is never lost to a size or depth limit, a lax writer, or odd input (issue #11).

Unit tests per class (policy files past their limit, HTML the parser stops reading, XML read
leniently, ZIP bombs, non-conforming reservations under each profile, assess() on odd input), then
one real crawl of tests/sites/limits.py whose peak RSS is measured.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tracemalloc
import zipfile
import zlib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler.demo.server import SiteProcess
from policies import assess, decide, load_profile, reasons
from policies.assess import response_signals
from policies.profile import available_profiles
from policies.signals import ai_txt as ai_txt_module
from policies.signals import rsl as rsl_module
from policies.signals.embedded import (
    MAX_ZIP_ENTRIES,
    document_metadata,
    epub_metadata,
    epub_signals,
    xmp_signals,
)
from policies.signals.html_meta import parse_html, unread_html
from policies.signals.tdmrep_file import MAX_BYTES as TDMREP_MAX_BYTES
from tests.conftest import REPO, Crawl
from tests.sites.limits import OPF_UNDECLARED_DC, _big_tdmrep, _epub, lying_zip_bomb

URL = "https://example.com/a"
LENIENT_PROFILES = {"strict", "eu-dsm-art4", "vn-decree-134-2026", "cn-genai"}


def profile_reasons(assessment, profile: str) -> tuple[str, ...]:
    return decide(
        URL, assessment.findings, profile=load_profile(profile), stage="after-fetch"
    ).reasons


# --- policy files past their limit: policy-error under every profile ---------------------------


@pytest.mark.parametrize("profile", available_profiles())
def test_tdmrep_json_past_its_limit_is_policy_error_under_every_profile(profile):
    body = _big_tdmrep(TDMREP_MAX_BYTES + 1024)
    assert len(body) > TDMREP_MAX_BYTES
    assessment = assess(URL, tdmrep_json=body)
    assert reasons.POLICY_ERROR in profile_reasons(assessment, profile)


def test_tdmrep_json_of_1_5_mb_reserving_everything_is_read():
    assessment = assess(URL, tdmrep_json=_big_tdmrep(1_500_000))
    assert assessment.verdict == "reserved" and assessment.reasons == (reasons.TDMREP_RESERVED,)


def test_ai_txt_past_its_limit_is_policy_error_not_cut_like_robots_txt():
    body = "User-agent: *\nAllow: /\n" + "#\n" * (ai_txt_module.MAX_BYTES // 2) + "Disallow: /\n"
    assessment = assess(URL, ai_txt=body)
    assert reasons.POLICY_ERROR in assessment.reasons


def test_rsl_past_its_limit_is_policy_error():
    body = "<rsl>" + "<!-- pad -->" * (rsl_module.MAX_BYTES // 12) + "</rsl>"
    assert reasons.POLICY_ERROR in assess(URL, rsl_xml=body).reasons


@pytest.mark.parametrize("kind", ["xmp", "epub"])
def test_embedded_xml_past_its_limit_is_policy_error(kind):
    body = b"<x>" + b"<a/>" * (1 << 20) + b"</x>"
    found = xmp_signals(body) if kind == "xmp" else epub_signals(body)
    assert [s.reason for s in found] == [reasons.POLICY_ERROR]


def test_malformed_xml_nested_past_libxml2s_depth_is_not_read_whole():
    """The recovering parser stops at 256 levels: what follows is unread, so policy-error."""
    opf = b"<package><metadata>" + b"<x>" * 300 + b'<meta name="tdm:reservation" content="1"/>'
    found = epub_signals(opf + b"<unclosed")
    assert [s.reason for s in found] == [reasons.POLICY_ERROR]


# --- HTML the parser did not read to the end ----------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>" + b"<div>" * 3_000 + b'<meta name="robots" content="noai"></body></html>',
        b"<html><body>" + b"<b>" * 2_100 + b'<meta name="tdm-reservation" content="1">',
        b'<html><head><meta charset="utf-16"><meta name="robots" content="noai"></head></html>',
    ],
    ids=["divs-3000-deep", "inline-2100-deep", "misdeclared-utf-16"],
)
def test_html_whose_reservation_the_parser_never_reached_fails_closed(body):
    from scrapy.http import HtmlResponse

    root = HtmlResponse("https://example.com/", body=body).selector.root  # as the crawler parses
    assert unread_html(root, body)
    assessment = assess(URL, html=body)
    assert reasons.POLICY_ERROR in assessment.reasons


@pytest.mark.parametrize(
    ("html", "max_tags"),
    [
        (b"<html><body>" + b"<div>" * 3_000 + b'<meta name="robots" content="noai">', 10_000),
        (b"<p>" * 50 + b"plain", 10),
    ],
    ids=["deep", "too-many-tags"],
)
def test_a_rendered_dom_not_read_whole_fails_closed(html, max_tags):
    from datetime import UTC, datetime

    from crawler.middlewares.response_policy import rendered_signals
    from crawler.render.capture import Rendering

    rendering = Rendering("https://example.com/", html, datetime.now(UTC))
    found = rendered_signals(rendering, [], "rightscrawl", [], max_tags)
    assert reasons.POLICY_ERROR in [s.reason for s in found]
    assert all(s.source.startswith("rendered:") for s in found)


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>" + b"<div>" * 1_000 + b'<meta name="robots" content="noai">',
        b'<meta name="robots" content="noindex, NoAI"><p>noai is a word here</p>',
        b'<svg><metadata id="noai"></metadata></svg><meta noai="">',
        "<p>caf\u00e9</p>".encode("utf-16"),
    ],
)
def test_html_read_whole_is_not_flagged(body):
    assert unread_html(parse_html(body), body) is None


def _meta_tags_by_words(body: bytes) -> int:
    """The definition, searched the slow way: from each reservation word back to the last `<`
    within reach; that `<` opens a meta tag and no `>` comes between."""
    lowered, tags = body.lower(), set()
    for word in (b"noai", b"noimageai", b"tdm-reservation"):
        at = lowered.find(word)
        while at >= 0:
            start = lowered.rfind(b"<", max(0, at - 2_048), at)
            name = lowered[start + 1 : start + 6] if start >= 0 else b""
            if name[:4] == b"meta" and name[4:] in (b" ", b"\t", b"\n", b"\r", b"\f", b"/"):
                if b">" not in lowered[start:at]:
                    tags.add(start)
            at = lowered.find(word, at + 1)
    return len(tags)


META_PIECES = [
    b"<meta", b"<META", b"<Meta\t", b"<metadata", b" ", b"\n", b"/", b"<", b">", b"noai",
    b"NoAI", b"noimageai", b"TDM-Reservation", b"name=robots content=", b"x" * 60, b"y" * 2_100,
    b"<meta name='a' content='", b"'>", b"no", b"ai",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(META_PIECES), max_size=30).map(b"".join))
@example(b"<meta " + b"y" * 2_042 + b"noai")  # the word starts 2,048 bytes after the `<`: counts
@example(b"<meta " + b"y" * 2_043 + b"noai")  # 2,049: out of reach
@example(b"<meta " + b"y" * 2_043 + b"NOAI>")
def test_reserving_meta_tags_in_the_raw_bytes_are_counted_as_defined(body):
    """The raw count that `unread_html` compares with the parsed tree's: found from the `<meta`
    openings for speed, it must equal the count from the words."""
    from policies.signals.html_meta import _raw_meta_reservations

    assert _raw_meta_reservations(body) == _meta_tags_by_words(body)


@pytest.mark.parametrize(
    "block",
    [
        '{"@graph": ' * 2_000 + '{"isAccessibleForFree": false}' + "}" * 2_000,
        '{"isAccessibleForFree": false, "pad": "' + "x" * (1 << 20) + '"}',
    ],
    ids=["deep", "large"],
)
def test_paywall_markup_in_json_ld_not_read_whole_fails_closed(block):
    document = f'<script type="application/ld+json">{block}</script>'
    assert reasons.POLICY_ERROR in assess(URL, html=document).reasons
    plain = document.replace("isAccessibleForFree", "name")  # nothing about access: a problem only
    assert reasons.POLICY_ERROR not in assess(URL, html=plain).reasons


# --- EPUB: lenient package documents, bounded ZIP reading ---------------------------------------


def test_epub_package_with_undeclared_dc_prefix_is_read_leniently():
    """The W3C TDMRep spec's own EPUB example: `dc:` never declared. Its reservation counts."""
    found = epub_signals(OPF_UNDECLARED_DC)
    assert [s.reason for s in found if s.reason] == [reasons.TDMREP_RESERVED]
    assert any("read leniently" in p for s in found for p in s.problems)
    assert assess(URL, epub_opf=OPF_UNDECLARED_DC).verdict == "reserved"
    assert epub_metadata(_epub(OPF_UNDECLARED_DC)).opf == OPF_UNDECLARED_DC


def test_zip_bomb_declaring_200_bytes_inflates_at_most_the_limit():
    data = lying_zip_bomb(inflated=256 << 20)  # 256 MiB inflated, 200 bytes declared
    tracemalloc.start()
    try:
        found = document_metadata("application/epub+zip", data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found.opf is None and found.unread
    assert peak < 16 << 20, f"{peak / 1e6:.0f} MB traced"


def test_zip_with_more_entries_than_an_epub_has_is_not_opened():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(MAX_ZIP_ENTRIES + 1):
            archive.writestr(f"{n}", b"")
    found = epub_metadata(buffer.getvalue())
    assert found.unread and "entries" in found.unread


def test_every_xmp_packet_of_a_file_is_read():
    image_packet = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><a/></x:xmpmeta>'
    document_packet = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        b'22-rdf-syntax-ns#"><rdf:Description xmlns:tdm="http://www.w3.org/ns/tdmrep/" '
        b'tdm:reservation="1"/></rdf:RDF></x:xmpmeta>'
    )
    permitting_image = document_packet.replace(b'reservation="1"', b'reservation="0"')
    body = b"%PDF " + image_packet + b" " + document_packet + b" " + permitting_image
    found = document_metadata("application/pdf", body)
    assert len(found.xmp) == 3 and found.unread is None
    # Several packets, none said to be in force: the reserving one wins (most restrictive).
    signals = response_signals([], None, user_agent="rightscrawl", xmp=found.xmp)
    assert [s.reason for s in signals if s.reason and s.in_force] == [reasons.TDMREP_RESERVED]


XMP_RESERVED = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description xmlns:tdm="http://www.w3.org/ns/tdmrep/">'
    b"<tdm:reservation>1</tdm:reservation></rdf:Description></rdf:RDF></x:xmpmeta>"
)


def _pdf_with_metadata_stream(packet: bytes) -> bytes:
    stream = zlib.compress(packet)
    return (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Metadata 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Metadata /Subtype /XML /Filter /FlateDecode /Length "
        + str(len(stream)).encode()
        + b" >>\nstream\r\n"
        + stream
        + b"\nendstream\nendobj\n%%EOF\n"
    )


def test_xmp_in_a_compressed_pdf_metadata_stream_is_read():
    found = document_metadata("application/pdf", _pdf_with_metadata_stream(XMP_RESERVED))
    assert found.xmp == (XMP_RESERVED,) and found.unread is None
    signals = response_signals([], None, user_agent="rightscrawl", xmp=found.xmp)
    assert [s.reason for s in signals if s.reason] == [reasons.TDMREP_RESERVED]


def test_a_compressed_pdf_metadata_stream_inflating_past_the_limit_fails_closed():
    pdf = _pdf_with_metadata_stream(XMP_RESERVED[:-12] + b" " * (64 << 20) + b"</x:xmpmeta>")
    tracemalloc.start()
    try:
        found = document_metadata("application/pdf", pdf)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found.unread and "inflates past" in found.unread
    assert peak < 16 << 20, f"{peak / 1e6:.0f} MB traced"


# --- non-conforming reservations: the spec's reading, and the profiles that read them as meant ---


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (("Content-Usage", "Train-AI=n"), reasons.CONTENT_USAGE_RESERVED),
        (("Content-Usage", "train-ai=No"), reasons.CONTENT_USAGE_RESERVED),
        (("Content-Usage", "train-genai=n"), reasons.CONTENT_USAGE_RESERVED),
        (("Content-Usage", "tdm=n"), reasons.CONTENT_USAGE_RESERVED),
        (("Content-Usage", "bots=n, search=y"), reasons.CONTENT_USAGE_RESERVED),
        (("Content-Signal", "ai-train=No"), reasons.CONTENT_SIGNAL_RESERVED),
        (("Content-Signal", "AI-Train=no, search=yes"), reasons.CONTENT_SIGNAL_RESERVED),
        (("tdm-reservation", "true"), reasons.TDM_RESERVATION_HEADER),
    ],
)
@pytest.mark.parametrize("profile", available_profiles())
def test_non_conforming_reservation_is_unknown_by_spec_and_reserved_where_the_profile_says(
    header, reason, profile
):
    assessment = assess(URL, headers=[header])
    assert assessment.verdict == "unknown"  # the spec's reading, kept in the findings
    (signal,) = [s for s in assessment.findings if s.lenient_reason]
    assert signal.lenient_reason == reason and signal.problems
    decision = decide(URL, assessment.findings, profile=load_profile(profile), stage="after-fetch")
    lenient = profile in LENIENT_PROFILES and load_profile(profile).honours(reason)
    assert decision.reasons == ((reason,) if lenient else ())
    if lenient:  # recorded as read leniently
        assert decision.detail["lenient_reservations"][0]["reason"] == reason
        assert decision.to_provenance("run")["signals"][0]["lenient_reason"] == reason


@pytest.mark.parametrize(
    "header", [("Content-Usage", "train-ai=y, tdm=n"), ("Content-Usage", "search=n")]
)
def test_an_explicit_permission_or_another_category_is_not_read_as_a_reservation(header):
    assessment = assess(URL, headers=[header])
    assert profile_reasons(assessment, "strict") == ()


def test_tdmrep_json_true_or_string_1_is_read_leniently_by_strict_only():
    body = json.dumps([{"location": "/", "tdm-reservation": True}])
    assessment = assess(URL, tdmrep_json=body)
    assert assessment.verdict == "unknown"
    assert profile_reasons(assessment, "strict") == (reasons.TDMREP_RESERVED,)
    assert profile_reasons(assessment, "us") == ()


# --- assess(): every parameter takes None, empty, str or bytes --------------------------------


def test_assess_user_agent_none_or_empty_is_our_own_token():
    robots = "User-agent: rightscrawl\nDisallow: /\n"
    expected = assess(URL, robots_txt=robots)
    assert expected.verdict == "reserved"
    for agent in (None, "", "  ", b"rightscrawl"):
        assert assess(URL, robots_txt=robots, user_agent=agent).verdict == "reserved"


def _variants(value: str) -> st.SearchStrategy:
    return st.sampled_from([None, "", b"", value, value.encode()])


RESERVING = {
    "headers": [("Content-Usage", "train-ai=n")],
    "html": '<meta name="robots" content="noai">',
    "robots_txt": "User-agent: *\nDisallow: /\n",
    "tdmrep_json": '[{"location": "/", "tdm-reservation": 1}]',
    "ai_txt": "User-agent: *\nDisallow: /\n",
    "rsl_xml": '<rsl><content url="/"><license><prohibits type="usage">train-ai</prohibits>'
    "</license></content></rsl>",
    "xmp": '<x xmlns:tdm="http://www.w3.org/ns/tdmrep/"><tdm:reservation>1</tdm:reservation></x>',
    "epub_opf": OPF_UNDECLARED_DC.decode(),
}
STATUSES = st.sampled_from([None, 200, "200", b"200", 200.0, 404, "404", 503, "network-error"])


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    url=st.sampled_from([URL, URL.encode()]),
    user_agent=st.sampled_from([None, "", b"", "rightscrawl", b"rightscrawl", "OtherBot"]),
    headers=st.sampled_from(
        [None, (), {}, [(b"Content-Usage", b"train-ai=n")], {"Content-Usage": ["train-ai=n"]}]
    ),
    html=_variants(RESERVING["html"]),
    robots_txt=_variants(RESERVING["robots_txt"]),
    robots_status=STATUSES,
    tdmrep_json=_variants(RESERVING["tdmrep_json"]),
    tdmrep_status=STATUSES,
    ai_txt=_variants(RESERVING["ai_txt"]),
    ai_txt_status=STATUSES,
    rsl_xml=_variants(RESERVING["rsl_xml"]),
    rsl_status=STATUSES,
    xmp=st.one_of(_variants(RESERVING["xmp"]), st.just({"tdm:reservation": "1"})),
    epub_opf=_variants(RESERVING["epub_opf"]),
    c2pa_assertions=st.sampled_from([None, [], {}]),
)
def test_assess_whole_signature_takes_none_empty_str_and_bytes(url, **inputs):
    assessment = assess(url, **inputs)
    assert assessment.url == URL and assessment.verdict in ("reserved", "not_reserved", "unknown")
    # Known answers: a reserving body given with a 2xx (or no) status reserves.
    ok = (None, 200, "200", b"200", 200.0)
    for name, status in (
        ("html", None),
        ("tdmrep_json", inputs["tdmrep_status"]),
        ("ai_txt", inputs["ai_txt_status"]),
        ("rsl_xml", inputs["rsl_status"]),
        ("epub_opf", None),
    ):
        value = inputs[name]
        if value and (value.decode() if isinstance(value, bytes) else value) == RESERVING[name]:
            if status in ok:
                assert assessment.verdict == "reserved", (name, assessment.findings)


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("url", 42), ("html", 3.5), ("headers", "Content-Usage: train-ai=n"), ("robots_status", True)],
)
def test_assess_rejects_a_type_that_cannot_be_meant_with_a_type_error(keyword, value):
    arguments = {"url": URL, keyword: value}
    with pytest.raises(TypeError):
        assess(arguments.pop("url"), **arguments)


# --- a real crawl of the limits site, with its peak RSS -----------------------------------------

# 400 MB: issue #11's bound for the hostile suite with default settings. Scrapy, lxml and the
# project take ~120 MB; the parse limits add at most ~100 MB each (4 MiB of JSON or XML, 1 million
# HTML tags), one document at a time per reactor turn.
PEAK_RSS_LIMIT_KB = 400 * 1024
_WRAPPER = """
import json, resource, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.conftest import run_crawl
crawl = run_crawl(Path(sys.argv[2]), urls=json.loads(sys.argv[3]), timeout=240)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"returncode": crawl.returncode, "output": crawl.output, "rss_kb": rss}))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    log = tmp_path_factory.mktemp("limits") / "requests.jsonl"
    with SiteProcess("tests.sites.limits", log_path=log, cwd=REPO) as process:
        yield process


@pytest.fixture(scope="module")
def crawl(site, tmp_path_factory) -> tuple[Crawl, int]:
    paths = {
        "plain": ["/"],
        "bigtdm": ["/"],
        "hugetdm": ["/"],
        "cappedtdm": ["/"],
        "deep": ["/", "/nested", "/charset", "/tags"],
        "epub": ["/bomb.epub", "/undeclared.epub"],
        "lenient": ["/usage", "/signal", "/legacy"],
    }
    urls = [f"{site.origins[name]}{path}" for name, found in paths.items() for path in found]
    tmp = tmp_path_factory.mktemp("crawl")
    # A fresh interpreter runs the crawl, so RUSAGE_CHILDREN measures that crawl alone.
    result = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(REPO), str(tmp), json.dumps(urls)],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    crawled = Crawl(report["returncode"], report["output"], tmp / "warc", tmp / "provenance.sqlite")
    assert crawled.returncode == 0, crawled.output
    return crawled, report["rss_kb"]


def _detail(crawl: Crawl, url: str) -> dict:
    return json.loads(crawl.sql("SELECT detail FROM decisions WHERE url = ?", url)[0][0])


@pytest.mark.parametrize(
    ("origin", "path", "expected"),
    [
        ("plain", "/", ("kept", ())),
        ("bigtdm", "/", ("excluded", (reasons.TDMREP_RESERVED,))),
        ("hugetdm", "/", ("excluded", (reasons.POLICY_ERROR,))),
        ("cappedtdm", "/", ("excluded", (reasons.POLICY_ERROR,))),
        ("deep", "/", ("kept", ())),
        ("deep", "/nested", ("excluded", (reasons.POLICY_ERROR,))),
        ("deep", "/charset", ("excluded", (reasons.POLICY_ERROR,))),
        ("deep", "/tags", ("excluded", (reasons.POLICY_ERROR,))),
        ("epub", "/bomb.epub", ("excluded", (reasons.POLICY_ERROR,))),
        ("epub", "/undeclared.epub", ("excluded", (reasons.TDMREP_RESERVED,))),
        ("lenient", "/usage", ("excluded", (reasons.CONTENT_USAGE_RESERVED,))),
        ("lenient", "/signal", ("excluded", (reasons.CONTENT_SIGNAL_RESERVED,))),
        ("lenient", "/legacy", ("excluded", (reasons.CONTENT_USAGE_RESERVED,))),
    ],
)
def test_crawl_never_keeps_a_reservation_hidden_by_a_limit(site, crawl, origin, path, expected):
    crawled, _ = crawl
    url = f"{site.origins[origin]}{path}"
    assert crawled.decisions()[url] == expected
    detail = _detail(crawled, url)
    if expected[1] == (reasons.POLICY_ERROR,):
        problems = [p for s in detail["signals"] for p in s.get("problems", [])]
        assert detail.get("detail", {}).get("problem") or any(
            "not read whole" in p for p in problems
        )
    if origin == "lenient":
        assert detail["detail"]["lenient_reservations"][0]["reason"] == expected[1][0]


def test_origins_whose_tdmrep_json_reserves_or_is_unread_are_not_requested(site, crawl):
    requested = {(r["origin"], r["path"]) for r in site.requests()}
    for origin in ("bigtdm", "hugetdm", "cappedtdm"):
        assert (origin, "/") not in requested


def test_a_policy_document_past_the_download_cap_is_unread_not_a_network_error(site, crawl):
    crawled, _ = crawl
    url = f"{site.origins['cappedtdm']}/.well-known/tdmrep.json"
    assert crawled.sql("SELECT status FROM evidence WHERE url = ?", url) == [("too-large",)]
    detail = _detail(crawled, f"{site.origins['cappedtdm']}/")
    problems = [p for s in detail["signals"] for p in s.get("problems", [])]
    assert "not read whole: larger than the download cap" in problems


def test_no_reserved_bytes_reach_the_warc(crawl):
    crawled, _ = crawl
    stored = b"".join(body for *_, body in crawled.records())
    assert b"nothing reserved" in stored  # the kept page is there
    for marker in (b"<p>deep</p>", b"A reserved book", b"<p>u</p>", b"<p>s</p>", b"<p>l</p>"):
        assert marker not in stored


def test_peak_rss_of_the_crawl_stays_under_400_mb(crawl):
    """A 1 GiB ZIP bomb declaring 200 bytes took 2.1 GB before the member reads were bounded."""
    _, rss_kb = crawl
    assert rss_kb < PEAK_RSS_LIMIT_KB, f"peak RSS {rss_kb / 1024:.0f} MB"
