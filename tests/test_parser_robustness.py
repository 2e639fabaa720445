"""Every parser in `policies/` takes hostile input without raising, hanging or returning junk.

Property-based (hypothesis): arbitrary text and bytes for every parser, plus structured strategies
(robots.txt from realistic lines, tdmrep.json from random JSON, XMP/OPF/RSL/HTML templates with
random values, zip archives with random members and corruption), and pinned hostile inputs: deep
nesting, inputs near the size limits, XML entity bombs, zip bombs, invalid UTF-8, NUL bytes.

Well-formed means: a `Signal` has a verdict from the allowed set, a reason from `reasons.ALL` or
None, `problems` a tuple of str, serialises to JSON; an in-force reservation carries a reason code;
an `Assessment` verdict is what its findings combine to.

Tests named `..._in_linear_time` / `..._quickly` run under a SIGALRM deadline, so a super-linear
parser fails the test instead of hanging the suite.
"""

from __future__ import annotations

import html as html_lib
import io
import json
import signal
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policies import reasons
from policies.ai_agents import training_agents
from policies.assess import Assessment, assess, combine
from policies.evidence import Signal
from policies.signals import content_signal, content_usage, tdmrep
from policies.signals.ai_txt import ai_txt_signal
from policies.signals.c2pa import c2pa_signal
from policies.signals.embedded import (
    MAX_OPF_BYTES,
    document_metadata,
    epub_package,
    epub_signals,
    find_xmp_packet,
    xmp_signals,
)
from policies.signals.html_meta import extract_meta, meta_from_tree, parse_html
from policies.signals.licence import HtmlRights, rights_from_tree
from policies.signals.path_pattern import PathPattern, compile_pattern, normalize, url_path
from policies.signals.robots import PARSE_LIMIT, RobotsTxt
from policies.signals.robots_records import RobotsRecords
from policies.signals.rsl import rsl_signal
from policies.signals.tdmrep_file import MAX_BYTES as TDMREP_MAX_BYTES
from policies.signals.tdmrep_file import WELL_KNOWN_PATH, TdmrepFile
from policies.signals.x_robots_tag import noai_signals

VERDICTS = frozenset({"reserved", "not_reserved", "unknown", "disallowed", "allowed"})
READINGS = frozenset({"reserved", "not_reserved", "unknown"})
REASON_CODES = frozenset(reasons.ALL)
AI_AGENTS = training_agents().tokens
ORIGIN = "https://example.com"
ROBOTS_URL = f"{ORIGIN}/robots.txt"
TDMREP_URL = f"{ORIGIN}{WELL_KNOWN_PATH}"

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,  # do not write failing examples into the shared .hypothesis directory
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_FEW = settings(FUZZ, max_examples=30)


# --- well-formedness checks --------------------------------------------------------------------


def check_signal(sig: Any) -> None:
    assert isinstance(sig, Signal), sig
    assert isinstance(sig.kind, str) and sig.kind
    assert isinstance(sig.source, str)
    assert isinstance(sig.value, str)
    assert sig.verdict in VERDICTS, sig
    assert sig.reason is None or sig.reason in REASON_CODES, sig
    assert isinstance(sig.problems, tuple), sig
    assert all(isinstance(p, str) for p in sig.problems), sig
    assert isinstance(sig.unreachable, bool) and isinstance(sig.in_force, bool)
    assert sig.evidence_record is None or isinstance(sig.evidence_record, str)
    if sig.verdict in ("reserved", "disallowed") and sig.in_force:
        assert sig.reason, f"a reservation in force without a reason code: {sig}"
    if sig.kind.startswith("tdm-reservation-"):  # header, meta, xmp, epub: read_value
        assert (sig.verdict == "reserved") == (sig.value == "1"), sig
        assert (sig.verdict == "not_reserved") == (sig.value == "0"), sig
    json.dumps(sig.to_json())  # provenance records must serialise


def check_signals(signals: Any) -> None:
    assert isinstance(signals, list | tuple), signals
    for sig in signals:
        check_signal(sig)


def check_optional(sig: Any) -> None:
    if sig is not None:
        check_signal(sig)


def check_assessment(result: Any, url: str) -> None:
    assert isinstance(result, Assessment)
    assert result.url == url
    assert result.verdict in READINGS
    assert isinstance(result.findings, tuple)
    check_signals(result.findings)
    assert result.verdict == combine(result.findings)
    assert set(result.reasons) <= REASON_CODES


def check_tdmrep_file(parsed: Any) -> None:
    assert isinstance(parsed, TdmrepFile)
    assert isinstance(parsed.in_use, bool) and isinstance(parsed.unreachable, bool)
    assert isinstance(parsed.rules, tuple)
    assert all(isinstance(rule.location, str) for rule in parsed.rules)
    assert isinstance(parsed.problems, tuple)
    assert all(isinstance(p, str) for p in parsed.problems)
    assert not (parsed.in_use and parsed.unreachable)


class TookTooLong(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging) when the block runs longer than `seconds` (SIGALRM, main thread)."""

    def expire(signum, frame):
        raise TookTooLong(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


needs_alarm = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")


# --- strategies --------------------------------------------------------------------------------


def cap_stars(text: str, limit: int = 3) -> str:
    """At most `limit` wildcards: more make `compile_pattern` backtrack super-linearly, which
    `test_path_patterns_match_in_linear_time` pins on its own, so fuzzing does not hang on it."""
    head, *rest = text.split("*")
    return head + "".join(("*" if i < limit else "") + part for i, part in enumerate(rest))


PATH_PIECES = [
    "/", "/", "*", "$", "%2A", "%24", "%7E", "%7e", "%2F", "%zz", "%", "%2", "%00", "%C3%BC",
    "%E6%97%A5", "a", "B", "ü", "日本", "/private/", "/articles/", "?q=1", "&x=", ".pdf", ".jpg",
    "~", " ", "\t", "#frag", ";", "=", "\x00", "\\", "[", "]",
]  # fmt: skip
path_patterns = st.lists(st.sampled_from(PATH_PIECES), max_size=8).map("".join).map(cap_stars)
paths = st.one_of(path_patterns, st.text(max_size=30)).map(
    lambda p: cap_stars(p if p.startswith("/") else "/" + p)
)
HOSTS = ["example.com", "example.com:8080", "EXAMPLE.com", "[::1]", "127.0.0.1", "xn--bcher-kva.ch"]
urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}{path}",
    st.sampled_from(["https", "http"]),
    st.sampled_from(HOSTS),
    paths,
)
AGENT_NAMES = [
    "*", "rightscrawl", "RightsCrawl", "rightscrawl/1.0", "GPTBot", "gptbot", "CCBot",
    "Google-Extended", "Brightbot 1.0", "anthropic-ai", "Scrapy", "rights", "", "123", "Ü-bot",
]  # fmt: skip
user_agents = st.one_of(
    st.sampled_from(
        [
            "rightscrawl",
            "RightsCrawl/0.1 (+https://example.org/bot)",
            "GPTBot",
            "CCBot/2.0",
            "Scrapy/2.13 (+https://scrapy.org)",
            "*",
            "",
            " ",
            "123",
            "rights",
        ]
    ),
    st.text(max_size=20),
)
STATUSES = [0, 100, 200, 204, 206, 299, 301, 304, 401, 403, 404, 410, 429, 451, 500, 503, 599]
statuses = st.one_of(
    st.sampled_from([*STATUSES, 999, -1, "network-error", "timeout", "200", ""]),
    st.integers(-(2**40), 2**40),
    st.text(max_size=12),
)
optional_statuses = st.one_of(st.none(), statuses)
texts = st.text(max_size=400)
blobs = st.binary(max_size=400)
text_or_bytes = st.one_of(texts, blobs)

HEADER_NAMES = [
    "Content-Usage", "content-usage", "Content-Signal", "tdm-reservation", "TDM-Reservation",
    "tdm-policy", "X-Robots-Tag", "x-robots-tag", "Link", "Content-Type",
]  # fmt: skip
HEADER_VALUES = [
    "train-ai=n", "train-ai=y", "train-ai=n, search=y", "Train-AI=n", 'train-ai="n"', "train-ai",
    "bots=n", "train-ai=n,", "train-ai = n", "train-ai;allow=n, train-ai=y", "search=yes, ai-train=no",
    "ai-train=yes", "ai-train=no,use=reference", "1", "0", " 1 ", "1, 0", "1, 1", "true", "2",
    "noai", "noimageai", "GPTBot: noai", "rightscrawl: noai", "rightscrawl: noindex, noai",
    "max-snippet: 20, noai", "noindex", ":,", ":, :, ,;: -:: ", "",
]  # fmt: skip
header_values = st.one_of(st.sampled_from(HEADER_VALUES), st.text(max_size=60))
headers_lists = st.lists(
    st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=15)), header_values),
    max_size=6,
)
META_NAMES = [
    "robots",
    "tdm-reservation",
    "TDM-Reservation",
    "rightscrawl",
    "googlebot",
    "tdm-policy",
]
meta_lists = st.lists(
    st.tuples(st.one_of(st.sampled_from(META_NAMES), st.text(max_size=15)), header_values),
    max_size=6,
).map(tuple)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, 2, -1, 0.0, 1.0, 1e400, True, False, "0", "1", ""]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
JSON_KEYS = ["location", "tdm-reservation", "tdm-policy", "label", "data", "entries", "use"]
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(
            st.one_of(st.sampled_from(JSON_KEYS), st.text(max_size=10)), inner, max_size=5
        ),
    ),
    max_leaves=25,
)


@st.composite
def json_texts(draw, values=json_values) -> str:
    return json.dumps(
        draw(values), ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 0, 2]))
    )


# robots.txt built from realistic lines


def _line(name: str, value: str) -> str:
    return f"{name}:{' ' if value else ''}{value}"


usage_prefs = st.one_of(st.sampled_from(HEADER_VALUES[:10]), st.text(max_size=30))
robots_lines = st.one_of(
    st.builds(
        _line,
        st.sampled_from(["User-agent", "user-agent", "USER-AGENT", "Useragent", "User agent"]),
        st.one_of(st.sampled_from(AGENT_NAMES), st.text(max_size=12)),
    ),
    st.builds(
        _line,
        st.sampled_from(["Allow", "Disallow", "disallow", "DISALLOW", "Dissallow", "allow "]),
        path_patterns,
    ),
    st.builds(
        lambda name, path, prefs: _line(name, f"{path} {prefs}" if path else prefs),
        st.sampled_from(["Content-Usage", "content-usage", "Content-usage "]),
        st.one_of(st.just(""), path_patterns.map(lambda p: "/" + p.lstrip("/"))),
        usage_prefs,
    ),
    st.builds(
        _line,
        st.sampled_from(["Content-Signal", "Content-signal", "content-signal"]),
        st.one_of(
            st.sampled_from(
                [
                    "search=yes, ai-train=no",
                    "search=yes,ai-train=no,use=reference",
                    "ai-train=yes",
                    "ai-input=no",
                    "ai-train=No",
                    "ai-train",
                    "=,=,",
                ]
            ),
            st.text(max_size=30),
        ),
    ),
    st.builds(
        _line,
        st.sampled_from(["License", "license"]),
        st.sampled_from(["https://example.com/license.xml", "", "not a url", "https://[::1"]),
    ),
    st.sampled_from(
        [
            "Sitemap: https://example.com/sitemap.xml",
            "Crawl-delay: 10",
            "Crawl-delay: abc",
            "Crawl-delay: -1",
            "Request-rate: 1/5",
            "Request-rate: x/y",
            "Request-rate: 1/0",
            "Visit-time: 0600-0845",
            "Visit-time: junk",
            "Host: example.com",
            "Noindex: /",
            "# a comment",
            "Disallow: /x # trailing comment",
            "",
            "   ",
            "<html><body>Not found</body></html>",
            "User-agent: *\x00",
            "Disallow:",
            "Allow:",
            ":",
            "::::",
        ]
    ),
    st.text(max_size=30),
)


@st.composite
def robots_files(draw) -> bytes:
    lines = draw(st.lists(robots_lines, max_size=25))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = eol.join(lines) + draw(st.sampled_from(["", eol]))
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    return bom + text.encode("utf-8")


# XMP / OPF / RSL / HTML templates with random values

TDM_VALUES = ["1", "0", " 1 ", "\n1\n", "true", "2", "", "01", "1.0"]
DMI_VALUES = [
    "DMI-PROHIBITED-AIMLTRAINING",
    "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED",
    "DMI-ALLOWED",
    "dmi-allowed",
    "DMI-UNSPECIFIED",
    "DMI-NOPE",
    "",
]
xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=30)
tdm_values = st.one_of(st.sampled_from(TDM_VALUES), xml_text)
dmi_values = st.one_of(st.sampled_from(DMI_VALUES), xml_text)


@st.composite
def xmp_packets(draw) -> str:
    ns = draw(st.sampled_from(["http://www.w3.org/ns/tdmrep/", "http://www.w3.org/ns/tdmrep#"]))
    attrs = ""
    if draw(st.booleans()):
        attrs += f" tdm:reservation={quoteattr(draw(tdm_values))}"
    if draw(st.booleans()):
        attrs += f" plus:DataMining={quoteattr(draw(dmi_values))}"
    elements = "".join(
        f"<tdm:reservation>{xml_escape(v)}</tdm:reservation>"
        for v in draw(st.lists(tdm_values, max_size=2))
    )
    elements += "".join(
        f"<plus:DataMining rdf:resource={quoteattr(v)}/>"
        if resource
        else f"<plus:DataMining>{xml_escape(v)}</plus:DataMining>"
        for v, resource in draw(st.lists(st.tuples(dmi_values, st.booleans()), max_size=2))
    )
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:tdm="{ns}" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/"{attrs}>'
        f"{elements}</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


@st.composite
def opf_documents(draw) -> str:
    metas = []
    for value, epub3 in draw(st.lists(st.tuples(tdm_values, st.booleans()), max_size=3)):
        if epub3:
            metas.append(f'<meta property="tdm:reservation">{xml_escape(value)}</meta>')
        else:
            metas.append(f'<meta name="tdm:reservation" content={quoteattr(value)}/>')
    return (
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'prefix="tdm: http://www.w3.org/ns/tdmrep#">'
        f"<metadata>{''.join(metas)}</metadata></package>"
    )


RSL_URLS = [
    "/",
    "/*",
    "/articles/",
    "/*.pdf$",
    "https://example.com/",
    "https://example.com/articles/*",
    "http://example.com/",
    "https://other.example/",
    "//example.com/x",
    "mailto:licensing@example.com",
    "http://[::1]/",
    "http://[::1",
    "http://[x]/",
    "",
]
RSL_TOKENS = ["train-ai", "ai-train", "all", "ai-all", "search", "ai-input", "ai-index", ""]


@st.composite
def rsl_documents(draw) -> str:
    contents = []
    for _ in range(draw(st.integers(0, 3))):
        url = draw(st.one_of(st.sampled_from(RSL_URLS), path_patterns, xml_text.map(cap_stars)))
        server = draw(st.sampled_from(["", ' server="https://rsl.example/"', ' server=""']))
        terms = []
        for tag, kind, tokens in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["permits", "prohibits"]),
                    st.sampled_from(["usage", "user", None]),
                    st.lists(st.one_of(st.sampled_from(RSL_TOKENS), xml_text), max_size=3),
                ),
                max_size=3,
            )
        ):
            type_attr = f" type={quoteattr(kind)}" if kind else ""
            terms.append(f"<{tag}{type_attr}>{xml_escape(', '.join(tokens))}</{tag}>")
        contents.append(
            f"<content url={quoteattr(url)}{server}><license>{''.join(terms)}</license></content>"
        )
    return f'<rsl xmlns="https://rslstandard.org/rsl">{"".join(contents)}</rsl>'


@st.composite
def html_documents(draw) -> str:
    parts = ["<!doctype html><html><head>"]
    for name, content in draw(meta_lists):
        parts.append(f'<meta name="{html_lib.escape(name)}" content="{html_lib.escape(content)}">')
    for rel, typ, href in draw(
        st.lists(
            st.tuples(
                st.sampled_from(["license", "LICENSE", "license nofollow", "alternate", ""]),
                st.sampled_from(["", "application/rsl+xml", "text/html"]),
                st.sampled_from(["https://creativecommons.org/licenses/by/4.0/", "/rsl.xml", ""]),
            ),
            max_size=3,
        )
    ):
        parts.append(f'<link rel="{rel}" type="{typ}" href="{href}">')
    for block in draw(
        st.lists(
            st.one_of(
                json_texts(),
                st.sampled_from(
                    [
                        '{"@type": "NewsArticle", "isAccessibleForFree": false}',
                        '{"@type": "NewsArticle", "isAccessibleForFree": "False",'
                        ' "hasPart": {"isAccessibleForFree": "false"}}',
                        '{"license": {"@id": "https://creativecommons.org/licenses/by/4.0/"}}',
                        '{"@graph": [{"license": "https://example.com/l"}, 3, null]}',
                        '{"license": 5, "hasPart": [1, "x", {"isAccessibleForFree": null}]}',
                    ]
                ),
                texts,
            ),
            max_size=2,
        )
    ):
        parts.append(f'<script type="application/ld+json">{block}</script>')
    parts.append("</head><body><p>text</p>")
    parts.append(draw(st.text(max_size=50)))
    return "".join(parts)


C2PA_LABELS = ["c2pa.training-mining", "cawg.training-mining", "c2pa.actions", "other"]
C2PA_KEYS = [
    "c2pa.ai_training",
    "cawg.ai_generative_training",
    "cawg.data_mining",
    "c2pa.ai_inference",
    "com.example.custom",
    "ai_training",
]
c2pa_assertion = st.one_of(
    st.fixed_dictionaries(
        {
            "label": st.one_of(st.sampled_from(C2PA_LABELS), json_values),
            "data": st.one_of(
                st.fixed_dictionaries(
                    {
                        "entries": st.one_of(
                            st.dictionaries(
                                st.one_of(st.sampled_from(C2PA_KEYS), st.text(max_size=8)),
                                st.one_of(
                                    st.fixed_dictionaries(
                                        {
                                            "use": st.one_of(
                                                st.sampled_from(
                                                    ["allowed", "notAllowed", "constrained", "no"]
                                                ),
                                                json_values,
                                            )
                                        }
                                    ),
                                    json_values,
                                ),
                                max_size=4,
                            ),
                            json_values,
                        )
                    }
                ),
                json_values,
            ),
        }
    ),
    json_values,
)
c2pa_assertion_lists = st.lists(c2pa_assertion, max_size=4)


EPUB_CONTAINER = (
    b'<?xml version="1.0"?>\n<container version="1.0" '
    b'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
    b'<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
    b"</rootfiles></container>"
)
EPUB_OPF = (
    b'<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata>'
    b'<meta property="tdm:reservation">1</meta></metadata></package>'
)


def make_zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def good_epub(method: int = zipfile.ZIP_DEFLATED) -> bytes:
    return make_zip(
        {
            "mimetype": b"application/epub+zip",
            "META-INF/container.xml": EPUB_CONTAINER,
            "OEBPS/content.opf": EPUB_OPF,
        },
        method,
    )


def _member_data_offset(data: bytes, name: str) -> tuple[int, int]:
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    return start, info.compress_size


def corrupt_member(data: bytes, name: str, skip: int = 0) -> bytes:
    start, size = _member_data_offset(data, name)
    corrupted = bytearray(data)
    for i in range(start + skip, start + size):
        corrupted[i] ^= 0x55
    return bytes(corrupted)


def patch_headers(data: bytes, offset_local: int, offset_central: int, patch) -> bytes:
    patched = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", offset_local), (b"PK\x01\x02", offset_central)):
        i = patched.find(signature)
        while i >= 0:
            patch(patched, i + offset)
            i = patched.find(signature, i + 4)
    return bytes(patched)


def _set_method(buffer: bytearray, at: int) -> None:
    buffer[at : at + 2] = struct.pack("<H", 6)  # PKWARE "implode": unsupported by zipfile


def _set_encrypted(buffer: bytearray, at: int) -> None:
    buffer[at] |= 0x01  # general purpose flag bit 0: encrypted


CORRUPT_EPUBS = {
    "deflate-stream-corrupt": lambda: corrupt_member(good_epub(), "META-INF/container.xml"),
    "bzip2-stream-corrupt": lambda: corrupt_member(
        good_epub(zipfile.ZIP_BZIP2), "META-INF/container.xml", skip=4
    ),
    "lzma-stream-corrupt": lambda: corrupt_member(
        good_epub(zipfile.ZIP_LZMA), "META-INF/container.xml", skip=4
    ),
    "unsupported-compression-method": lambda: patch_headers(good_epub(), 8, 10, _set_method),
    "encrypted-flag-set": lambda: patch_headers(good_epub(), 6, 8, _set_encrypted),
    "opf-deflate-stream-corrupt": lambda: corrupt_member(good_epub(), "OEBPS/content.opf"),
}


@st.composite
def zip_archives(draw) -> bytes:
    """Small zips with EPUB-like and random members, some bytes then overwritten at random."""
    names = ["mimetype", "META-INF/container.xml", "OEBPS/content.opf", "content.opf"]
    methods = st.sampled_from(
        [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
    )
    bodies = st.one_of(
        st.binary(max_size=200),
        st.sampled_from(names).map(
            lambda path: EPUB_CONTAINER.replace(b"OEBPS/content.opf", path.encode())
        ),
        opf_documents().map(str.encode),
    )
    members = draw(
        st.lists(
            st.tuples(
                st.one_of(
                    st.sampled_from(names),
                    st.text(st.characters(min_codepoint=32), min_size=1, max_size=10),
                ),
                bodies,
                methods,
            ),
            max_size=3,
            unique_by=lambda m: m[0],
        )
    )
    if draw(st.integers(0, 9)) and all(m[0] != "META-INF/container.xml" for m in members):
        members.insert(0, ("META-INF/container.xml", draw(bodies), draw(methods)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, method in members:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    data = bytearray(buffer.getvalue())
    infos = zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()
    if infos and draw(st.booleans()):  # damage one member's compressed stream
        info = draw(st.sampled_from(infos))
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        for offset, mask in draw(
            st.lists(st.tuples(st.integers(0, 200), st.integers(1, 255)), min_size=1, max_size=4)
        ):
            if info.compress_size:
                data[start + offset % info.compress_size] ^= mask
    for position, byte in draw(
        st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3)
    ):
        data[position % len(data)] = byte
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


# --- robots.txt --------------------------------------------------------------------------------


def read_robots(robots: RobotsTxt, url: str, agent: str) -> None:
    assert robots.access in ("parsed", "unavailable", "unreachable")
    assert isinstance(robots.problems, tuple) and all(isinstance(p, str) for p in robots.problems)
    assert isinstance(robots.allows(url, agent), bool)
    check_signal(robots.signal(url, agent))
    check_optional(robots.ai_agent_signal(url, AI_AGENTS))
    assert all(isinstance(name, str) and name for name in robots.named_agents())
    # RFC 9309 §2.2.2: /robots.txt is implicitly allowed, whatever the file or the fetch said.
    assert robots.allows(ROBOTS_URL, agent)
    if hasattr(robots, "delay_for"):  # Crawl-delay / Request-rate for our politeness
        delay = robots.delay_for(agent)
        assert delay is None or (isinstance(delay, float) and delay >= 0), delay


@FUZZ
@given(body=st.one_of(st.none(), blobs), status=statuses, url=urls, agent=user_agents)
def test_robots_txt_any_bytes_any_status_never_raises(body, status, url, agent):
    robots = RobotsTxt.from_fetch(ROBOTS_URL, status, body)
    read_robots(robots, url, agent)


@FUZZ
@given(body=blobs, status=st.sampled_from([401, 403, 404, 410, 451]), url=urls, agent=user_agents)
def test_robots_txt_4xx_is_unavailable_and_allows_everything(body, status, url, agent):
    robots = RobotsTxt.from_fetch(ROBOTS_URL, status, body)
    assert robots.access == "unavailable"
    assert robots.allows(url, agent)
    assert robots.signal(url, agent).verdict == "allowed"


@FUZZ
@given(
    body=blobs,
    status=st.one_of(
        st.sampled_from([429, 500, 503, 599, 999, 0, 301, "network-error"]), st.text(max_size=8)
    ),
    path=paths.filter(lambda p: not p.startswith("/robots.txt")),
    agent=user_agents,
)
def test_robots_txt_unreachable_is_complete_disallow_with_reason(body, status, path, agent):
    robots = RobotsTxt.from_fetch(ROBOTS_URL, status, body)
    url = ORIGIN + path
    assert robots.access == "unreachable"
    sig = robots.signal(url, agent)
    assert sig.verdict == "disallowed" and sig.reason == reasons.ROBOTS_UNREACHABLE
    assert sig.problems
    assert robots.ai_agent_signal(url, AI_AGENTS) is None


@FUZZ
@given(body=robots_files(), url=urls, agent=user_agents)
def test_robots_txt_from_realistic_lines_is_read_without_raising(body, url, agent):
    robots = RobotsTxt.from_fetch(ROBOTS_URL, 200, body)
    assert robots.access == "parsed"
    read_robots(robots, url, agent)
    for name in ("rightscrawl", "GPTBot", "*", agent):
        read_robots(robots, url, name)
    records = RobotsRecords.parse(body.decode("utf-8", "replace"))
    for field in ("content-usage", "content-signal", "allow", "disallow", "crawl-delay"):
        values = records.records_for(agent, field)
        assert isinstance(values, list) and all(isinstance(v, str) for v in values)
    assert all(isinstance(licence, str) for licence in records.licenses)


@FUZZ
@given(text=st.one_of(texts, robots_files().map(lambda b: b.decode())), agent=user_agents)
def test_robots_records_any_text_never_raises(text, agent):
    records = RobotsRecords.parse(text)
    for field in ("content-usage", "content-signal", "disallow", "junk"):
        assert all(isinstance(v, str) for v in records.records_for(agent, field))
    for group in records.groups:
        assert group.agents, "a group always starts at a user-agent line"


@FUZZ
@example(
    body=b"User-agent: *\nContent-Signal: ai-train=no\n",
    url="https://example.com/",
    agent="rightscrawl",
)
@given(body=robots_files(), url=urls, agent=user_agents)
def test_a_utf8_bom_and_line_endings_do_not_change_the_reading_of_robots_txt(body, url, agent):
    """RFC 9309 §2.2: UTF-8, lines end in CR, LF or CRLF; a BOM is not part of the first record."""
    text = body.removeprefix(b"\xef\xbb\xbf").decode()
    lines = text.splitlines()

    def reading(raw: bytes) -> list[tuple[str, str, str | None]]:
        result = assess(url, robots_txt=raw, user_agent=agent)
        return [(s.kind, s.verdict, s.reason) for s in result.findings]

    plain = reading("\n".join(lines).encode())
    assert reading(("\ufeff" + "\n".join(lines)).encode()) == plain
    assert reading("\r\n".join(lines).encode()) == plain


# --- TDMRep ------------------------------------------------------------------------------------


def read_tdmrep(parsed: TdmrepFile, url: str) -> None:
    check_tdmrep_file(parsed)
    sig = parsed.signal(url)
    check_optional(sig)
    if not parsed.in_use:
        # Not in use says nothing about the URL: at most a record of why (unreachable, soft 404).
        assert sig is None or (sig.verdict == "unknown" and sig.reason is None), sig
    elif sig is not None:
        raw = json.loads(sig.value)
        value = raw["tdm-reservation"]
        # Type-strict: only the JSON integer 1 reserves, only 0 permits; true/"1"/1.0 are unset.
        assert (sig.verdict == "reserved") == (type(value) is int and value == 1)
        assert (sig.verdict == "not_reserved") == (type(value) is int and value == 0)


@FUZZ
@given(body=st.one_of(st.none(), text_or_bytes), status=optional_statuses, url=urls)
def test_tdmrep_json_any_body_any_status_never_raises(body, status, url):
    read_tdmrep(TdmrepFile.parse(TDMREP_URL, status, body), url)


@FUZZ
@given(data=json_values, url=urls, as_bytes=st.booleans(), ensure_ascii=st.booleans())
def test_tdmrep_json_any_json_value_never_raises(data, url, as_bytes, ensure_ascii):
    text = json.dumps(data, ensure_ascii=ensure_ascii)
    read_tdmrep(TdmrepFile.parse(TDMREP_URL, 200, text.encode() if as_bytes else text), url)
    read_tdmrep(TdmrepFile.from_data(TDMREP_URL, 200, data), url)
    if not isinstance(data, list):
        assert not TdmrepFile.from_data(TDMREP_URL, 200, data).in_use


tdm_rules = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"location": st.one_of(path_patterns, st.just("/"))},
            optional={
                "tdm-reservation": st.one_of(
                    st.sampled_from([0, 1, 1, 0, True, False, "1", "0", 2, -1, 1.0, None]),
                    json_values,
                ),
                "tdm-policy": st.one_of(st.just("https://example.com/policy.json"), json_values),
            },
        ),
        json_values,
    ),
    max_size=6,
)


@FUZZ
@given(rules=tdm_rules, url=urls, encoding=st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
def test_tdmrep_first_matching_rule_decides_and_only_integer_1_reserves(rules, url, encoding):
    body = json.dumps(rules).encode(encoding)
    parsed = TdmrepFile.parse(TDMREP_URL, 200, body)
    assert parsed.in_use, "a JSON array of rules means TDMRep is in use"
    read_tdmrep(parsed, url)


@FUZZ
@given(headers=headers_lists, meta=meta_lists, xmp=st.one_of(st.none(), xmp_packets()))
def test_tdm_reservation_header_meta_and_priority_never_raise(headers, meta, xmp):
    check_optional(tdmrep.header_signal(headers))
    check_signals(tdmrep.meta_signals(meta))
    documents = xmp_signals(xmp) if xmp is not None else []
    file_signal = TdmrepFile.parse(TDMREP_URL, 200, b'[{"location": "/", "tdm-reservation": 1}]')
    found = tdmrep.tdm_reservation_signals(
        headers,
        meta,
        file_signal=file_signal.signal(f"{ORIGIN}/x"),
        document_signals=[s for s in documents if s.kind.startswith("tdm-")],
    )
    check_signals(found)
    valid = [s for s in found if s.verdict in ("reserved", "not_reserved")]
    assert sum(s.in_force for s in valid) == (1 if valid else 0), "exactly one valid value in force"


# --- AIPREF Content-Usage, Content Signals, noai -------------------------------------------------


@FUZZ
@given(value=st.one_of(texts, header_values), headers=headers_lists, url=urls)
def test_content_usage_any_value_never_raises(value, headers, url):
    preferences, problems = content_usage.parse_preferences(value)
    assert isinstance(preferences, dict)
    assert all(isinstance(k, str) and v in ("y", "n") for k, v in preferences.items())
    assert isinstance(problems, tuple) and all(isinstance(p, str) for p in problems)
    check_optional(content_usage.header_signal(headers))
    check_optional(content_usage.header_signal([("Content-Usage", value)]))


@FUZZ
@given(
    values=st.lists(
        st.one_of(
            st.builds(lambda p, v: f"/{p.lstrip('/')} {v}", path_patterns, usage_prefs),
            usage_prefs,
            texts.map(cap_stars),
        ),
        max_size=5,
    ),
    url=urls,
)
def test_content_usage_robots_rules_any_value_never_raise(values, url):
    sig = content_usage.robots_signal(values, url, ROBOTS_URL)
    check_optional(sig)
    if not values:
        assert sig is None


@FUZZ
@given(
    value=st.one_of(texts, header_values),
    values=st.lists(header_values, max_size=4),
    headers=headers_lists,
)
def test_content_signal_any_value_never_raises(value, values, headers):
    stated, problems = content_signal.parse(value)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in stated.items())
    assert set(stated) <= content_signal.KNOWN_KEYS
    assert all(isinstance(p, str) for p in problems)
    check_optional(content_signal.robots_signal(values, ROBOTS_URL))
    check_optional(content_signal.header_signal(headers))


@FUZZ
@given(headers=headers_lists, meta=meta_lists, token=user_agents)
def test_noai_any_headers_and_meta_never_raise(headers, meta, token):
    found = noai_signals(headers, meta, token=token)
    check_signals(found)
    assert all(s.verdict == "reserved" for s in found)


# --- HTML: meta, licence, JSON-LD --------------------------------------------------------------


def read_html(document: str | bytes, token: str = "rightscrawl") -> None:
    meta = extract_meta(document)
    assert isinstance(meta, tuple)
    assert all(isinstance(n, str) and isinstance(c, str) for n, c in meta)
    root = parse_html(document)
    assert meta_from_tree(root) == meta
    rights = rights_from_tree(root)
    assert isinstance(rights, HtmlRights)
    assert all(isinstance(u, str) for u in (*rights.licences, *rights.rsl_documents))
    check_signals(rights.signals())
    check_signals(tdmrep.meta_signals(meta))
    check_signals(noai_signals((), meta, token=token))


@FUZZ
@given(document=st.one_of(texts, blobs, st.text(max_size=400).map(lambda t: "<html>" + t)))
def test_html_any_text_or_bytes_never_raises(document):
    read_html(document)


@FUZZ
@given(document=html_documents(), as_bytes=st.booleans(), token=user_agents)
def test_html_meta_and_json_ld_with_random_values_never_raise(document, as_bytes, token):
    read_html(document.encode() if as_bytes else document, token)


# --- embedded metadata: XMP, EPUB ----------------------------------------------------------------


@FUZZ
@given(
    xmp=st.one_of(
        texts,
        blobs,
        st.dictionaries(
            st.one_of(
                st.sampled_from(["tdm:reservation", "plus:DataMining", "TDM:Reservation"]),
                st.text(max_size=10),
            ),
            st.one_of(tdm_values, dmi_values, json_scalars),
            max_size=4,
        ),
    )
)
def test_xmp_any_text_bytes_or_mapping_never_raises(xmp):
    check_signals(xmp_signals(xmp))


@FUZZ
@given(packet=xmp_packets(), as_bytes=st.booleans(), prefix=blobs, suffix=blobs)
def test_xmp_packets_with_random_values_are_found_and_read(packet, as_bytes, prefix, suffix):
    found = xmp_signals(packet.encode() if as_bytes else packet)
    check_signals(found)
    assert all(s.kind != "xmp" for s in found), "a well-formed packet is not a problem"
    if b"<x:xmpmeta" not in prefix:
        assert find_xmp_packet(prefix + packet.encode() + suffix) == packet.encode()


@FUZZ
@given(opf=st.one_of(texts, blobs, opf_documents(), opf_documents().map(str.encode)))
def test_epub_opf_any_text_or_bytes_never_raises(opf):
    check_signals(epub_signals(opf))


@FUZZ
@given(data=blobs)
def test_find_xmp_packet_any_bytes_never_raises(data):
    found = find_xmp_packet(data)
    assert found is None or (found.startswith(b"<x:xmpmeta") and found.endswith(b"</x:xmpmeta>"))


@FUZZ
@given(data=st.one_of(blobs, st.binary(max_size=4000).map(lambda b: b"PK\x03\x04" + b)))
def test_epub_package_any_bytes_returns_bytes_or_none(data):
    found = epub_package(data)
    assert found is None or isinstance(found, bytes)


@settings(FUZZ, report_multiple_bugs=False)  # shrinking several distinct zip errors is slow
@example(data=CORRUPT_EPUBS["deflate-stream-corrupt"]())
@given(data=zip_archives())
def test_epub_package_random_or_corrupt_zip_returns_bytes_or_none(data):
    found = epub_package(data)
    assert found is None or isinstance(found, bytes)


@FUZZ
@given(
    content_type=st.one_of(
        st.sampled_from(
            [
                "application/pdf",
                "image/jpeg",
                "application/epub+zip",
                "APPLICATION/EPUB+ZIP; charset=binary",
                "text/html",
                "",
                ";",
            ]
        ),
        st.text(max_size=20),
    ),
    body=st.one_of(blobs, xmp_packets().map(str.encode)),
)
def test_document_metadata_any_type_and_body_never_raises(content_type, body):
    found = document_metadata(content_type, body)
    assert all(isinstance(packet, bytes) for packet in found.xmp)
    assert found.opf is None or isinstance(found.opf, bytes)
    assert found.unread is None or isinstance(found.unread, str)


# --- RSL, ai.txt, C2PA, path patterns ----------------------------------------------------------


@FUZZ
@given(xml=st.one_of(texts, blobs), url=urls)
def test_rsl_any_text_or_bytes_never_raises(xml, url):
    check_signal(rsl_signal(url, xml))


@FUZZ
@example(xml='<rsl><content url="http://[::1"/></rsl>', url="https://example.com/")
@given(xml=rsl_documents(), url=urls)
def test_rsl_documents_with_random_content_urls_and_terms_never_raise(xml, url):
    sig = rsl_signal(url, xml)
    check_signal(sig)
    assert not sig.value or sig.value.startswith("content ")


@FUZZ
@given(
    text=st.one_of(st.none(), text_or_bytes, robots_files(), robots_files().map(bytes.decode)),
    status=optional_statuses,
    url=urls,
    agent=user_agents,
)
def test_ai_txt_any_text_any_status_never_raises(text, status, url, agent):
    sig = ai_txt_signal(url, text, status, user_agent=agent, source=f"{ORIGIN}/ai.txt")
    check_optional(sig)
    if sig is not None:
        assert sig.verdict in ("reserved", "not_reserved")


@FUZZ
@example(assertions=[{"label": ["c2pa.training-mining"]}])
@given(assertions=st.one_of(st.none(), c2pa_assertion_lists))
def test_c2pa_any_assertions_never_raise(assertions):
    check_optional(c2pa_signal(assertions))


@FUZZ
@given(pattern=st.one_of(path_patterns, st.text(max_size=40).map(cap_stars)), url=urls)
def test_path_patterns_any_text_never_raise(pattern, url):
    compiled = compile_pattern(pattern)
    assert isinstance(compiled, PathPattern)
    assert isinstance(compiled.octets, int) and compiled.octets >= 0
    path = url_path(url)
    assert path.startswith("/") and path.isascii()
    assert isinstance(compiled.matches(path), bool)
    assert normalize(pattern).isascii()


# --- assess() ----------------------------------------------------------------------------------


@FUZZ
@example(
    url="https://example.com/",
    user_agent="rightscrawl",
    headers=[],
    html=None,
    robots_txt=None,
    robots_status=None,
    tdmrep_json=None,
    tdmrep_status=None,
    ai_txt=None,
    ai_txt_status=None,
    rsl_xml='<rsl><content url="http://[::1"/></rsl>',
    rsl_status=None,
    xmp=None,
    epub_opf=None,
    c2pa_assertions=[{"label": {}}],
)
@given(
    url=urls,
    user_agent=user_agents,
    headers=headers_lists,
    html=st.one_of(st.none(), text_or_bytes, html_documents()),
    robots_txt=st.one_of(st.none(), text_or_bytes, robots_files()),
    robots_status=optional_statuses,
    tdmrep_json=st.one_of(st.none(), text_or_bytes, json_texts(), tdm_rules.map(json.dumps)),
    tdmrep_status=optional_statuses,
    ai_txt=st.one_of(st.none(), text_or_bytes, robots_files()),
    ai_txt_status=optional_statuses,
    rsl_xml=st.one_of(st.none(), text_or_bytes, rsl_documents()),
    rsl_status=optional_statuses,
    xmp=st.one_of(
        st.none(),
        text_or_bytes,
        xmp_packets(),
        st.dictionaries(st.sampled_from(["tdm:reservation", "plus:DataMining"]), tdm_values),
    ),
    epub_opf=st.one_of(st.none(), text_or_bytes, opf_documents()),
    c2pa_assertions=st.one_of(st.none(), c2pa_assertion_lists),
)
def test_assess_any_value_for_every_keyword_never_raises(url, **inputs):
    check_assessment(assess(url, **inputs), url)


@FUZZ_FEW
@given(url=urls, user_agent=user_agents, status=statuses, body=st.one_of(st.none(), text_or_bytes))
def test_assess_statuses_without_bodies_never_raise(url, user_agent, status, body):
    for keyword in ("robots", "tdmrep", "ai_txt", "rsl"):
        body_keyword = {"robots": "robots_txt", "tdmrep": "tdmrep_json", "rsl": "rsl_xml"}.get(
            keyword, keyword
        )
        result = assess(
            url, user_agent=user_agent, **{f"{keyword}_status": status, body_keyword: body}
        )
        check_assessment(result, url)


# --- pinned hostile inputs: depth, size, bombs, encodings ----------------------------------------

DEEP_JSON = "[" * 10_000 + "]" * 10_000


def assert_says_nothing(sig: Signal | None) -> None:
    """TDMRep not in use: no signal, or an "unknown" one that records the problem."""
    check_optional(sig)
    assert sig is None or (sig.verdict == "unknown" and sig.reason is None and sig.problems)


@pytest.mark.parametrize(
    "body", [DEEP_JSON, DEEP_JSON.encode(), '{"a":' * 10_000 + "1" + "}" * 10_000]
)
def test_tdmrep_json_nested_10000_deep_is_not_read_whole_and_fails_closed(body):
    """Deeper than json.loads goes, the file may still be valid and reserve: policy-error."""
    parsed = TdmrepFile.parse(TDMREP_URL, 200, body)
    check_tdmrep_file(parsed)
    assert parsed.unread and "nested deeper" in parsed.unread
    signal = parsed.signal(f"{ORIGIN}/a")
    check_optional(signal)
    assert signal.reason == reasons.POLICY_ERROR and signal.verdict == "unknown"
    assessment = assess(f"{ORIGIN}/a", tdmrep_json=body)
    check_assessment(assessment, f"{ORIGIN}/a")
    assert reasons.POLICY_ERROR in assessment.reasons


def test_json_ld_nested_10000_deep_is_a_problem_not_an_exception():
    document = f'<html><script type="application/ld+json">{DEEP_JSON}</script></html>'
    found = rights_from_tree(parse_html(document)).signals()
    check_signals(found)
    assert any(s.problems for s in found)


def test_json_ld_nested_as_deep_as_json_allows_never_raises():
    for depth in (500, 900, 990, 1200):
        nested = '{"@graph":' * depth + '{"license": "x"}' + "}" * depth
        for block in ("[" * depth + "]" * depth, nested):
            document = f'<script type="application/ld+json">{block}</script>'
            check_signals(rights_from_tree(parse_html(document)).signals())


@pytest.mark.parametrize("parser", ["xmp", "epub", "rsl"])
def test_xml_nested_100000_deep_never_raises(parser):
    document = "<a>" * 100_000 + "</a>" * 100_000
    found = {
        "xmp": lambda: xmp_signals(document),
        "epub": lambda: epub_signals(document),
        "rsl": lambda: [rsl_signal(f"{ORIGIN}/", document)],
    }[parser]()
    check_signals(found)


def test_tdmrep_json_of_1_5_mb_is_read_whole_and_reserves():
    """The spec has no size limit; a real-looking 1.5 MB file is read, its rule applies."""
    rule = {"location": "/section/*/article-$", "tdm-reservation": 1, "tdm-policy": "https://x/p"}
    body = json.dumps([rule] * 17_000).encode()
    assert 1_400_000 < len(body) < 1_700_000 < TDMREP_MAX_BYTES
    for given_body in (body, body.decode()):
        parsed = TdmrepFile.parse(TDMREP_URL, 200, given_body)
        check_tdmrep_file(parsed)
        assert parsed.in_use and parsed.unread is None
        signal = parsed.signal(f"{ORIGIN}/section/a/article-")
        assert signal is not None and signal.reason == reasons.TDMREP_RESERVED


@pytest.mark.parametrize("status", [200, "too-large"])
def test_tdmrep_json_past_the_limit_fails_closed_for_every_url(status):
    """Past MAX_BYTES (or past the download cap: status "too-large") the file is not read, and
    every URL of the origin gets policy-error — never "TDMRep not in use"."""
    body = b"[" + b'{"location": "/x", "tdm-reservation": 0},' * (TDMREP_MAX_BYTES // 40) + b"{}]"
    parsed = TdmrepFile.parse(TDMREP_URL, status, body if status == 200 else None)
    assert parsed.unread
    for path in ("/", "/x", "/anything"):
        signal = parsed.signal(f"{ORIGIN}{path}")
        assert signal is not None and signal.reason == reasons.POLICY_ERROR
        assert any("not read whole" in p for p in signal.problems)


@needs_alarm
def test_robots_txt_of_2_mb_is_cut_at_the_parse_limit_quickly():
    lines = ["User-agent: *", "Disallow: /early/"]
    lines += [f"Disallow: /section-{i}/*/page-*.html$" for i in range(20_000)]  # ~700 kB
    lines.append("Disallow: /late/")
    lines += [f"Allow: /filler-{i}/*?utm_*=%2A" for i in range(20_000, 60_000)]
    body = "\n".join(lines).encode()
    assert PARSE_LIMIT < body.index(b"/late/") and 2_000_000 < len(body) < 2_400_000
    with time_limit(10):
        robots = RobotsTxt.from_fetch(ROBOTS_URL, 200, body)
        assert any("longer than" in p for p in robots.problems)
        assert not robots.allows(f"{ORIGIN}/early/x", "rightscrawl")
        assert robots.allows(f"{ORIGIN}/late/x", "rightscrawl"), "rules after 500 KiB are cut"
        assert not robots.allows(f"{ORIGIN}/section-7/a/page-1.html", "rightscrawl")
        for agent in ("rightscrawl", "GPTBot"):
            check_assessment(
                assess(f"{ORIGIN}/early/x", robots_txt=body, user_agent=agent), f"{ORIGIN}/early/x"
            )


def billion_laughs(root: str, levels: int = 9) -> str:
    """Expands to 3 × 10^levels bytes (3 GB at 9): a parser that expands entities blows up."""
    entities = ['<!ENTITY l0 "lollollollollollollollollol">']
    entities += [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, levels)]
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE {root} [\n'
        + "\n".join(entities)
        + f"\n]>\n<{root}>&l{levels - 1};</{root}>"
    )


def quadratic_blowup(root: str) -> str:
    """One 50 kB entity referenced 2,000 times: 100 MB from a 56 kB document."""
    return (
        f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY a "{"A" * 50_000}">]>'
        f"<{root}>{'&a;' * 2_000}</{root}>"
    )


def external_entity(root: str) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f"<{root}>&x;</{root}>"
    )


XML_PARSERS: dict[str, tuple[str, Callable[[str | bytes], list[Signal]]]] = {
    "xmp": ("xmpmeta", lambda doc: xmp_signals(doc)),
    "epub-opf": ("package", lambda doc: epub_signals(doc)),
    "rsl": ("rsl", lambda doc: [rsl_signal(f"{ORIGIN}/", doc)]),
}


@needs_alarm
@pytest.mark.parametrize("bomb", [billion_laughs, quadratic_blowup, external_entity])
@pytest.mark.parametrize("parser", sorted(XML_PARSERS))
@pytest.mark.parametrize("as_bytes", [False, True])
def test_xml_entity_bombs_are_refused_quickly_as_a_problem_or_unknown(bomb, parser, as_bytes):
    root, read = XML_PARSERS[parser]
    document = bomb(root)
    started = time.perf_counter()
    with time_limit(3):
        found = read(document.encode() if as_bytes else document)
    assert time.perf_counter() - started < 1
    check_signals(found)
    assert all(s.verdict == "unknown" for s in found)
    assert all("root:" not in s.value for s in found), "an external entity was resolved"


@pytest.mark.parametrize(
    "body",
    [
        b"User-agent: *\nDisallow: /priv\xff\xfeate/\nDisallow: /secret/\n",
        b"User-agent: *\x00\nDisallow: /secret/\x00\n\x00\x00",
        b"\xff\xfeU\x00s\x00e\x00r\x00-\x00a\x00g\x00e\x00n\x00t\x00:\x00 \x00*\x00",  # UTF-16
        b"\x00" * 1000,
        b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc",
    ],
)
def test_invalid_utf8_and_nul_bytes_are_a_problem_and_parseable_lines_still_apply(body):
    robots = RobotsTxt.from_fetch(ROBOTS_URL, 200, body)
    read_robots(robots, f"{ORIGIN}/secret/x", "rightscrawl")
    if b"\xff" in body or b"\xc3\x28" in body:
        assert any("UTF-8" in p for p in robots.problems)
    if body.startswith(b"User-agent: *\n"):
        assert not robots.allows(f"{ORIGIN}/secret/x", "rightscrawl")
    for url in (f"{ORIGIN}/secret/x", f"{ORIGIN}/"):
        check_assessment(
            assess(
                url,
                robots_txt=body,
                tdmrep_json=body,
                ai_txt=body,
                rsl_xml=body,
                xmp=body,
                epub_opf=body,
                html=body,
                headers=[("Content-Usage", body.decode("latin-1"))],
            ),
            url,
        )
    assert not TdmrepFile.parse(TDMREP_URL, 200, body).in_use
    check_signals(xmp_signals(body))
    check_signal(rsl_signal(f"{ORIGIN}/", body))
    read_html(body)


def test_epub_package_reads_the_opf_of_a_valid_epub():
    assert epub_package(good_epub()) == EPUB_OPF
    assert [s.verdict for s in epub_signals(epub_package(good_epub()))] == ["reserved"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"PK",
        b"PK\x03\x04" + b"\x00" * 100,
        b"PK\x05\x06" + b"\x00" * 18,
        good_epub()[:200],
        good_epub()[:-10],
        make_zip({"mimetype": b"application/epub+zip"}),
        make_zip({"META-INF/container.xml": b"<container>"}),
        make_zip({"META-INF/container.xml": b"not xml \x00\xff"}),
        make_zip({"META-INF/container.xml": b"<container/>"}),
        make_zip({"META-INF/container.xml": b'<c><rootfile full-path=""/></c>'}),
        make_zip({"META-INF/container.xml": EPUB_CONTAINER}),  # OPF missing
        make_zip({"META-INF/container.xml": billion_laughs("container").encode()}),
        b"%PDF-1.7\n" + b"\x00" * 500,
    ],
    ids=lambda d: f"{len(d)}-bytes",
)
def test_epub_package_of_garbage_returns_none(data):
    assert epub_package(data) is None
    found = document_metadata("application/epub+zip", data)
    assert found.opf is None and found.unread  # an EPUB whose metadata is unknown: fail closed


@pytest.mark.parametrize("kind", sorted(CORRUPT_EPUBS))
def test_epub_package_with_a_corrupt_or_unreadable_member_returns_none(kind):
    data = CORRUPT_EPUBS[kind]()
    assert epub_package(data) is None
    found = document_metadata("application/epub+zip", data)
    assert found.opf is None and found.unread


def zip_bomb(member: str, size: int, others: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in others.items():
            archive.writestr(name, data)
        with archive.open(member, "w", force_zip64=True) as stream:
            chunk = b" " * (1 << 20)
            for _ in range(size >> 20):
                stream.write(chunk)
    return buffer.getvalue()


BOMB_SIZE = 64 * 1024 * 1024  # ~64 kB compressed


@needs_alarm
@pytest.mark.parametrize(
    "member, others",
    [
        ("META-INF/container.xml", {}),
        ("OEBPS/content.opf", {"META-INF/container.xml": EPUB_CONTAINER}),
    ],
    ids=["container.xml", "content.opf"],
)
def test_epub_package_zip_bomb_is_not_inflated(member, others):
    data = zip_bomb(member, BOMB_SIZE, others)
    assert len(data) < 200_000
    tracemalloc.start()
    try:
        with time_limit(5):
            found = epub_package(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found is None
    # A member larger than the OPF limit should be refused from its declared size, not inflated.
    assert peak < 8 * MAX_OPF_BYTES, f"inflated {peak / 1e6:.0f} MB from a {len(data)}-byte zip"


# --- super-linear matching ---------------------------------------------------------------------

MANY_STARS = "/" + "*a" * 12 + "*b"  # matches nothing below: a backtracking matcher tries them all
LONG_URL = f"{ORIGIN}/" + "a" * 100

PATTERN_ENTRY_POINTS: dict[str, Callable[[], Any]] = {
    "tdmrep.json location": lambda: TdmrepFile.parse(
        TDMREP_URL, 200, json.dumps([{"location": MANY_STARS, "tdm-reservation": 1}])
    ).signal(LONG_URL),
    "robots.txt Content-Usage path": lambda: assess(
        LONG_URL, robots_txt=f"User-agent: *\nContent-Usage: {MANY_STARS} train-ai=n\n"
    ),
    "ai.txt Disallow": lambda: ai_txt_signal(
        LONG_URL,
        f"User-agent: *\nDisallow: {MANY_STARS}\n",
        200,
        user_agent="rightscrawl",
        source=f"{ORIGIN}/ai.txt",
    ),
    "RSL content url": lambda: rsl_signal(LONG_URL, f'<rsl><content url="{MANY_STARS}"/></rsl>'),
    "robots.txt Disallow (Protego)": lambda: RobotsTxt.from_fetch(
        ROBOTS_URL, 200, f"User-agent: *\nDisallow: {MANY_STARS}\n".encode()
    ).allows(LONG_URL, "rightscrawl"),
}


@needs_alarm
@pytest.mark.parametrize("entry_point", list(PATTERN_ENTRY_POINTS))
def test_path_patterns_match_in_linear_time(entry_point):
    """A site writes the patterns and the URLs: `/*a*a…*b` against `/aaa…` must not backtrack."""
    with time_limit(1):
        PATTERN_ENTRY_POINTS[entry_point]()


@needs_alarm
def test_find_xmp_packet_runs_in_linear_time_on_unclosed_packets():
    """A 176 kB PDF full of `<x:xmpmeta` with no closing tag (each start rescans to the end)."""
    data = b"%PDF-1.7\n" + b"<x:xmpmeta " * 16_000
    with time_limit(1):
        assert find_xmp_packet(data) is None
        (packet,) = document_metadata("application/pdf", data).xmp  # unclosed: to the end
        found = xmp_signals(packet)
    check_signals(found)
    assert not any(s.reason for s in found)


# --- pinned inputs that are reachable from bytes on the wire -------------------------------------


def test_tdmrep_location_with_a_lone_surrogate_escape_is_a_problem_not_an_exception():
    """JSON `"\\ud800"` decodes to a lone surrogate, which cannot be percent-encoded as UTF-8."""
    body = (
        b'[{"location": "/\\ud800", "tdm-reservation": 1}, {"location": "/", "tdm-reservation": 1}]'
    )
    parsed = TdmrepFile.parse(TDMREP_URL, 200, body)
    check_tdmrep_file(parsed)
    check_optional(parsed.signal(f"{ORIGIN}/a"))
    check_assessment(assess(f"{ORIGIN}/a", tdmrep_json=body), f"{ORIGIN}/a")


@pytest.mark.parametrize("content_url", ["http://[::1", "http://[x]/", "https://exa]mple.com/"])
def test_rsl_content_url_that_is_not_a_valid_url_is_a_problem_not_an_exception(content_url):
    xml = f'<rsl xmlns="https://rslstandard.org/rsl"><content url="{content_url}"/></rsl>'
    check_signal(rsl_signal(f"{ORIGIN}/a", xml))
    check_assessment(assess(f"{ORIGIN}/a", rsl_xml=xml), f"{ORIGIN}/a")


@pytest.mark.parametrize("label", [["c2pa.training-mining"], {"x": 1}])
def test_c2pa_assertion_with_an_unhashable_label_is_ignored_not_an_exception(label):
    check_optional(c2pa_signal([{"label": label, "data": {}}]))
    check_assessment(assess(f"{ORIGIN}/a", c2pa_assertions=[{"label": label}]), f"{ORIGIN}/a")
