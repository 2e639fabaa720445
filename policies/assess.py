"""`assess()`: the spec-level reading of every signal given for one URL, with no profile applied.

The verdict combines the statements in force most-restrictive-first (SIGNALS.md §11): any
reserved → "reserved"; else any explicit permission → "not_reserved"; else "unknown". A robots.txt
disallow for the given agent reads as "reserved": the resource may not be collected at all.
The crawler runs the same parsers on what it fetches; this function is for pipelines that only
have some of the documents (headers, HTML, a robots.txt …).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from policies.ai_agents import training_agents
from policies.evidence import Signal, unread_signal
from policies.origin import OriginEvidence, PolicyDocument, origin_of
from policies.signals import content_signal, content_usage
from policies.signals.c2pa import c2pa_signal
from policies.signals.embedded import epub_signals, xmp_signals
from policies.signals.html_meta import meta_from_tree, parse_html, unread_html
from policies.signals.licence import link_header_signals, rights_from_tree
from policies.signals.robots import RobotsTxt
from policies.signals.tdmrep import policy_signals, tdm_reservation_signals
from policies.signals.tdmrep_file import WELL_KNOWN_PATH, TdmrepFile
from policies.signals.x_robots_tag import noai_signals

Reading = Literal["reserved", "not_reserved", "unknown"]


@dataclass(frozen=True, slots=True)
class Assessment:
    url: str
    verdict: Reading
    findings: tuple[Signal, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.reason for s in self.findings if s.reason and s.in_force))


def reading(signal: Signal) -> Reading:
    if signal.verdict in ("reserved", "disallowed"):
        return "reserved"
    if signal.verdict == "not_reserved":
        return "not_reserved"
    return "unknown"


def combine(findings: Iterable[Signal]) -> Reading:
    readings = {reading(s) for s in findings if s.in_force}
    if "reserved" in readings:
        return "reserved"
    if "not_reserved" in readings:
        return "not_reserved"
    return "unknown"


DEFAULT_AGENT = "rightscrawl"
Body = str | bytes | bytearray | memoryview


def _text(value: Any, name: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    raise TypeError(f"{name} must be a str or bytes, not {type(value).__name__}")


def _body(value: Any, name: str) -> str | bytes | None:
    if value is None or isinstance(value, str | bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"{name} must be a str or bytes, not {type(value).__name__}")


def _status(value: Any, name: str) -> int | str | None:
    """An HTTP status as an int; "404" and 404.0 read as 404; other text ("network-error") kept."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an HTTP status or 'network-error', not a bool")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    text = _text(value, name).strip()
    return int(text) if text.isascii() and text.isdigit() else text or None


def _headers(headers: Any) -> list[tuple[str, str]]:
    """Header pairs from a sequence of pairs or a mapping (values may be lists); str or bytes."""
    if headers is None:
        return []
    if isinstance(headers, str | bytes):
        raise TypeError("headers must be (name, value) pairs or a mapping, not a string")
    items = headers.items() if isinstance(headers, Mapping) else headers
    pairs = []
    for item in items:
        try:
            name, values = item
        except (TypeError, ValueError):
            raise TypeError(f"headers: {item!r} is not a (name, value) pair") from None
        if not isinstance(values, list | tuple):
            values = [values]
        for value in values:
            pairs.append(tuple(_latin1(v) for v in (name, value)))
    return pairs


def _latin1(value: Any) -> str:
    # RFC 9110 §5.5: field values are octets; latin-1 maps each to one character, losslessly.
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def assess(
    url: str | bytes,
    *,
    user_agent: str | bytes | None = DEFAULT_AGENT,
    headers: Sequence[tuple[str, str]] | Mapping[str, Any] | None = (),
    html: Body | None = None,
    robots_txt: Body | None = None,
    robots_status: int | str | None = None,
    tdmrep_json: Body | list | dict | None = None,
    tdmrep_status: int | str | None = None,
    ai_txt: Body | None = None,
    ai_txt_status: int | str | None = None,
    rsl_xml: Body | None = None,
    rsl_status: int | str | None = None,
    xmp: Body | Mapping[str, str] | None = None,
    epub_opf: Body | None = None,
    c2pa_assertions: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
) -> Assessment:
    """Read what is given. `*_status` is an HTTP status or "network-error"; a body without a
    status was fetched with 200. `tdmrep_json` is the raw text of /.well-known/tdmrep.json (or
    its parsed JSON). str or bytes are accepted everywhere text is; `user_agent` None or empty
    means our own token. A value of a type that cannot be meant raises TypeError."""
    url = _text(url, "url")
    agent = _text(user_agent, "user_agent").strip() if user_agent is not None else ""
    agent = agent or DEFAULT_AGENT
    headers = _headers(headers)
    html, robots_txt, ai_txt, rsl_xml, epub_opf = (
        _body(value, name)
        for value, name in (
            (html, "html"),
            (robots_txt, "robots_txt"),
            (ai_txt, "ai_txt"),
            (rsl_xml, "rsl_xml"),
            (epub_opf, "epub_opf"),
        )
    )
    if not isinstance(xmp, Mapping):
        xmp = _body(xmp, "xmp")
    if not isinstance(tdmrep_json, list | dict):
        tdmrep_json = _body(tdmrep_json, "tdmrep_json")
    robots_status, tdmrep_status, ai_txt_status, rsl_status = (
        _status(value, name)
        for value, name in (
            (robots_status, "robots_status"),
            (tdmrep_status, "tdmrep_status"),
            (ai_txt_status, "ai_txt_status"),
            (rsl_status, "rsl_status"),
        )
    )
    if isinstance(c2pa_assertions, Mapping):
        c2pa_assertions = [c2pa_assertions]
    origin = origin_of(url)
    robots, robots_text = None, ""
    if robots_status is not None or robots_txt is not None:
        body = robots_txt.encode("utf-8") if isinstance(robots_txt, str) else robots_txt
        robots = RobotsTxt.from_fetch(
            f"{origin}/robots.txt", 200 if robots_status is None else robots_status, body
        )
        robots_text = (body or b"").decode("utf-8", "replace")
    tdmrep = None
    if tdmrep_json is not None or tdmrep_status is not None:
        status = 200 if tdmrep_status is None else tdmrep_status
        if isinstance(tdmrep_json, list | dict):
            tdmrep = TdmrepFile.from_data(f"{origin}{WELL_KNOWN_PATH}", status, tdmrep_json)
        else:
            tdmrep = TdmrepFile.parse(f"{origin}{WELL_KNOWN_PATH}", status, tdmrep_json)
    ai = None
    if ai_txt is not None or ai_txt_status is not None:
        body = ai_txt.encode("utf-8") if isinstance(ai_txt, str) else ai_txt
        ai = PolicyDocument(
            f"{origin}/ai.txt", 200 if ai_txt_status is None else ai_txt_status, body
        )
    rsl = ()
    if rsl_xml is not None or rsl_status is not None:
        body = rsl_xml.encode("utf-8") if isinstance(rsl_xml, str) else rsl_xml
        rsl = (PolicyDocument("rsl", 200 if rsl_status is None else rsl_status, body),)
    evidence = OriginEvidence(origin, robots, robots_text, tdmrep, ai, rsl)
    findings: list[Signal] = evidence.signals(url, agent, training_agents().tokens)
    html_root = parse_html(html) if html else None
    findings += response_signals(
        headers,
        html_root,
        user_agent=agent,
        file_signal=evidence.tdmrep_signal(url),
        xmp=xmp,
        epub_opf=epub_opf,
        c2pa_assertions=c2pa_assertions,
    )
    unread = unread_html(html_root, html) if html else None
    if unread:
        findings.append(unread_signal("html", "html", unread))
    return Assessment(url, combine(findings), tuple(findings))


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def response_signals(
    headers: Sequence[tuple[str, str]],
    html_root: Any,
    *,
    user_agent: str,
    file_signal: Signal | None = None,
    xmp: str | bytes | Mapping[str, str] | Sequence[bytes] | None = None,
    epub_opf: str | bytes | None = None,
    c2pa_assertions: Sequence[Mapping[str, Any]] | None = None,
    c2pa_validation: str | None = None,
    c2pa_codes: Sequence[str] = (),
    content_type: str | None = None,
) -> list[Signal]:
    """What one response says about itself: headers, HTML (an lxml tree), embedded metadata.

    TDMRep statements are combined in processing priority with the origin's tdmrep.json rule
    (`file_signal`), so a later valid value supersedes an earlier one. `content_type` is the
    response's media type (default: its Content-Type header); `noimageai` reserves only images.
    """
    meta = meta_from_tree(html_root)
    packets = xmp if isinstance(xmp, tuple | list) else () if xmp is None else (xmp,)
    # TDMRep does not say which of several XMP packets (the file's, its images') is in force:
    # most restrictive first (SIGNALS.md §11), so a reserving packet is placed last and wins.
    xmp_found = sorted(
        (signal for packet in packets for signal in xmp_signals(packet)),
        key=lambda signal: signal.verdict == "reserved",
    )
    document = [*xmp_found, *(epub_signals(epub_opf) if epub_opf else ())]
    tdm_document = [s for s in document if s.kind.startswith("tdm-")]
    found = tdm_reservation_signals(
        headers, meta, file_signal=file_signal, document_signals=tdm_document
    )
    found += [s for s in document if not s.kind.startswith("tdm-")]
    found += policy_signals(headers, meta)
    found += [
        s
        for s in (content_usage.header_signal(headers), content_signal.header_signal(headers))
        if s
    ]
    if content_type is None:
        content_type = next((v for n, v in headers if n.lower() == "content-type"), None)
    image = None if not content_type else _media_type(content_type).startswith("image/")
    found += noai_signals(headers, meta, token=user_agent, image=image)
    found += rights_from_tree(html_root).signals()
    found += link_header_signals(headers)
    signal = c2pa_signal(c2pa_assertions, validation=c2pa_validation, codes=c2pa_codes)
    found += [signal] if signal else []
    return found
