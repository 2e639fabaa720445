"""The crawl's part of the EU AI Office's template for the public summary of training content
(Explanatory Notice and Template, Article 53(1)(d) AI Act, published 24 July 2025), field by field:

- 1.3 modalities, training data size per modality in the template's ranges (text: less than
  1 billion tokens / 1 billion to 10 trillion / more than 10 trillion; images: less than 1 million
  / 1 million to 1 billion / more than 1 billion; audio and video: less than 10,000 hours /
  10,000 to 1 million / more than 1 million hours), types of content, latest date of data
  collection (MM/YYYY), linguistic characteristics (languages, identified with `langid`, whose
  model ships in its wheel). Tokens are estimated as the kept text's characters / 4 (see
  TOKEN_ESTIMATE); images are counted; audio and video durations are not read, so their range
  is not given (null) — only their count;
- 2.3 data crawled and scraped from online sources: whether crawlers were used, (i) crawler
  names, (ii) purposes, (iii) general description of crawler behaviour (robots.txt, CAPTCHAs,
  password-protected content, paywalls), (iv) period of data collection MM/YYYY to MM/YYYY,
  (v) type of content and online sources, (vi) modality, (vii) the most relevant domain names:
  the top 10% of registrable domains (Public Suffix List) by size of content (SMEs: top 5% or
  1,000, whichever is lower);
- 3.1 respect of reservations of rights (TDM exception, art. 4(3) DSM Directive): signatory of
  the GPAI Code of Practice (the `SUMMARY_GPAI_SIGNATORY` setting) and every measure each profile
  honours with the URLs it excluded — also the measures that never fired;
- 3.2 removal of illegal content: the lists of infringing sites the profiles use.

Counting rules. A URL is counted once, by its latest decision: three crawls excluding one
reserved URL are one URL excluded; a capture withdrawn since (pipelines/withdraw.py) counts as
withdrawn, and is in no other figure (bytes, domains, languages, content types). Sizes are the
payload bytes of kept captures, each distinct payload (by digest) once per domain: a revisit,
or the same payload fetched again, adds nothing. Runs that collect nothing (`recheck`, `withdraw`)
are listed apart from the collection period.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator

from crawler.contracts import PRODUCT_TOKEN, registrable_domain
from pipelines import models
from pipelines.export import document_text, kind_of, media_type
from pipelines.warc_reader import READ_ERRORS, StoredCapture, read_capture
from pipelines.withdraw import STAGE as WITHDRAWAL
from pipelines.withdraw import withdrawn_captures
from policies import reasons
from policies.profile import ProfileError, load_profile

TEMPLATE = {
    "name": "Template for the Public Summary of Training Content for general-purpose AI models",
    "reference": "European Commission, Explanatory Notice and Template, Article 53(1)(d) AI Act, 24.7.2025",
    "sections": ["1.3", "2.3", "3.1", "3.2"],
}
# Runs that collect nothing: they decide again on what earlier runs collected.
NOT_COLLECTING = ("withdraw", "recheck")
MODALITY = {
    "html": "text",
    "document": "text",
    "image": "image",
    "audio": "audio",
    "video": "video",
}
# Template 1.3 "Training data size" ranges, per modality: (upper bound, label), the last unbounded.
# Checked against two independent transcriptions of the template (the Commission's PDF itself was
# not available to us); the labels are the template's wording.
SIZE_RANGES: dict[str, tuple[tuple[float | None, str], ...]] = {
    "text": (
        (1e9, "Less than 1 billion tokens"),
        (10e12, "1 billion to 10 trillion tokens"),
        (None, "More than 10 trillion tokens"),
    ),
    "image": (
        (1e6, "Less than 1 million images"),
        (1e9, "1 million to 1 billion images"),
        (None, "More than 1 billion images"),
    ),
    "hours": (
        (1e4, "Less than 10,000 hours"),
        (1e6, "10,000 to 1 million hours"),
        (None, "More than 1 million hours"),
    ),
}
CHARS_PER_TOKEN = 4
TOKEN_ESTIMATE = (
    "visible characters of the kept text (HTML without scripts and styles, whitespace collapsed; "
    "text extracted from PDF/EPUB), each distinct payload once, divided by 4, rounded"
)
LANGUAGE_MIN_CHARS = 40  # shorter text: its language is not identified (counted undetermined)
LANGUAGE_MAX_CHARS = 20_000  # enough to identify a language; a long book is not read whole

MEASURES = {
    "robots-disallowed": "robots.txt (RFC 9309) disallow for our crawler",
    "robots-unreachable": "robots.txt unreachable (5xx, 429, network error): treated as complete disallow",
    "robots-ai-agent-disallowed": "robots.txt disallow aimed at AI-training crawlers",
    "tdmrep-reserved": "W3C TDMRep (tdmrep.json, EPUB/PDF metadata)",
    "tdm-reservation-header": "W3C TDMRep tdm-reservation HTTP header",
    "tdm-reservation-meta": "W3C TDMRep HTML meta tag",
    "content-usage-reserved": "IETF AIPREF Content-Usage (robots.txt and HTTP header)",
    "content-signal-reserved": "Cloudflare Content Signals (ai-train=no)",
    "noai-header": "X-Robots-Tag noai/noimageai",
    "noai-meta": "robots meta tag noai/noimageai",
    "ai-txt-reserved": "Spawning ai.txt",
    "rsl-reserved": "RSL licence prohibiting AI training",
    "rsl-license-required": "RSL licence required",
    "c2pa-reserved": "C2PA/CAWG training-mining assertion",
    "iptc-reserved": "IPTC data-mining metadata",
    "natural-language-reservation": "reservations written in the site's terms pages (natural language)",
    "declared-reservation": "rights holders' and collective management organisations' public notices",
    "blocklisted": "lists of sites recognised as infringing",
    "paywalled": "paywall markup (content behind a paywall is not collected)",
    "auth-required": "authentication walls (401/407) not passed",
    "payment-required": "payment walls (402) not passed",
    "forbidden": "access refused (403) respected",
    "unavailable-for-legal-reasons": "HTTP 451 respected",
}

BEHAVIOUR = {
    "robots_txt": f"RFC 9309 for the product token '{PRODUCT_TOKEN}'; a robots.txt that cannot be "
    "fetched (5xx, 429, network error) means complete disallow",
    "captchas": "avoided: the crawler runs no CAPTCHA solver and submits no form; a challenge "
    "page is decided like any answer (403 and 429 are excluded, never retried around)",
    "password_protected": "avoided: no credentials, cookies or tokens are sent; 401/407 answers "
    "are excluded (auth-required)",
    "paywalls": "not circumvented: 402 answers and paywall markup are excluded; no subscription "
    "or login is used",
}


class SummaryError(ValueError):
    """The summary cannot be made from what was given (a WARC file missing from --warc-dir)."""


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def month(value: datetime | None) -> str | None:
    """MM/YYYY, as the template asks for dates."""
    return _utc(value).strftime("%m/%Y") if value is not None else None


def url_domain(url: str) -> str:
    """The registrable domain of `url` (crawler.contracts.registrable_domain: the Public Suffix
    List snapshot publicsuffixlist ships, private section included; no network)."""
    return registrable_domain(urlsplit(url).hostname or "")


def top_domains(bytes_by_domain: Counter[str], *, sme: bool) -> list[dict[str, Any]]:
    """Template 2.3(vii): the top 10% of domains by size of content (SMEs: top 5% or 1,000,
    whichever is lower); at least one when there is any."""
    ranked = sorted(bytes_by_domain.items(), key=lambda item: (-item[1], item[0]))
    if sme:
        count = min(math.ceil(len(ranked) * 0.05), 1000)
    else:
        count = math.ceil(len(ranked) * 0.10)
    return [
        {"domain": domain, "bytes": size}
        for domain, size in ranked[: max(count, 1 if ranked else 0)]
    ]


def payload_size(path: Path, offset: int) -> int:
    """Bytes of the payload of the response record at `offset`, as received."""
    with open(path, "rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        size = 0
        while chunk := record.raw_stream.read(1024 * 1024):
            size += len(chunk)
        return size


def text_of(capture: models.Capture, stored: StoredCapture) -> str:
    """Visible text of a page (the rendered DOM if any) or a PDF/EPUB, for language
    identification; empty when there is none."""
    if kind_of(capture.content_type) == "document":
        try:
            return document_text(capture, stored) or ""
        except ImportError:  # pypdf (the export extra) missing: undetermined
            return ""
    from lxml import html as lxml_html
    from w3lib.encoding import html_to_unicode

    if stored.rendered_dom is not None:
        markup = stored.rendered_dom.decode("utf-8", "replace")
    else:
        _, markup = html_to_unicode(capture.content_type, stored.payload)
    try:
        root = lxml_html.fromstring(markup)
    except (ValueError, lxml_html.etree.ParserError):
        return ""
    for element in list(root.iter("script", "style", "noscript", "template")):
        if element.getparent() is not None:
            element.drop_tree()
    return " ".join(root.text_content().split())


def size_range(value: float, modality: str) -> str:
    """The template 1.3 range `value` falls in: "less than" its first bound, "more than" the
    last, the bounds themselves in the middle range ("1 billion to 10 trillion")."""
    ranges = SIZE_RANGES[modality]
    if value < ranges[0][0]:
        return ranges[0][1]
    for bound, label in ranges[1:]:
        if bound is None or value <= bound:
            return label
    raise AssertionError("the last range is unbounded")


def training_data_size(
    chars: int | None, counts: Counter[str], *, measured: bool
) -> dict[str, dict[str, Any]]:
    """Template 1.3 "Training data size" per modality, from the kept captures: `chars` of
    text (None when the payloads were not read), `counts` of distinct kept payloads by modality."""
    tokens = round(chars / CHARS_PER_TOKEN) if measured and chars is not None else None
    text = {
        "documents": counts["text"],
        "tokens_estimated": tokens,
        "range": size_range(tokens, "text") if tokens is not None else None,
        "estimate": TOKEN_ESTIMATE,
    }
    image = {"images": counts["image"], "range": size_range(counts["image"], "image")}
    timed = {
        kind: {"captures": counts[kind], "hours": None, "range": None}
        for kind in ("audio", "video")
    }  # durations are not read: no range is claimed
    return {"text": text, "image": image, **timed}


def identify_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language (langid), None for too little text."""
    if len(text) < LANGUAGE_MIN_CHARS:
        return None
    import langid

    return langid.classify(text[:LANGUAGE_MAX_CHARS])[0]


@dataclass
class _Section:
    """What the runs of one profile did, each URL by its latest decision among them."""

    name: str
    sha256s: set[str] = field(default_factory=set)
    runs: int = 0
    latest: dict[str, tuple[Any, str, list[str]]] = field(default_factory=dict)


def _latest(table: dict, url: str, when: Any, status: str, why: list[str]) -> None:
    if url not in table or when >= table[url][0]:
        table[url] = (when, status, why)


def summary(
    db_url: str, warc_dir: str | Path | None = None, *, sme: bool = False, signatory: bool = False
) -> dict[str, Any]:
    engine = models.create_engine(db_url)
    try:
        with Session(engine) as session:
            return _summary(session, Path(warc_dir) if warc_dir else None, sme, signatory)
    finally:
        engine.dispose()


def _summary(session: Session, warc_dir: Path | None, sme: bool, signatory: bool) -> dict:
    runs = list(session.scalars(select(models.Run).order_by(models.Run.started_at)))
    crawls = [r for r in runs if r.spider not in NOT_COLLECTING]
    run_by_id = {r.id: r for r in runs}
    withdrawn = withdrawn_captures(session)

    # Each URL by its latest decision: overall, and per profile (a withdrawal counts for the
    # profile of the run that made the capture).
    overall: dict[str, tuple[Any, str, list[str]]] = {}
    sections: dict[str, _Section] = {}
    for run in crawls:
        section = sections.setdefault(run.profile, _Section(run.profile))
        section.sha256s.add(run.profile_sha256)
        section.runs += 1
    query = select(
        models.Decision.id, models.Decision.run_id, models.Decision.url, models.Decision.outcome,
        models.Decision.reasons, models.Decision.stage, models.Decision.detail,
    ).order_by(models.Decision.decided_at, models.Decision.id)  # fmt: skip
    credentials_sent = 0
    for order, (_, run_id, url, outcome, why, stage, detail) in enumerate(session.execute(query)):
        detail = detail or {}
        why = list(why or [])
        if (detail.get("access") or {}).get("credentials_sent"):
            credentials_sent += 1
        if stage == WITHDRAWAL:
            withdraws = detail.get("withdraws") or (detail.get("detail") or {}).get("withdraws")
            capture_run = run_by_id.get((withdraws or {}).get("capture_run_id"))
            status, profile = "withdrawn", capture_run.profile if capture_run else None
        else:
            run = run_by_id.get(run_id)
            if run is None or run.spider in NOT_COLLECTING:
                continue
            status, profile = outcome, run.profile
        _latest(overall, url, order, status, why)
        if profile in sections:
            _latest(sections[profile].latest, url, order, status, why)

    # Kept captures: the latest kept, not withdrawn capture of each URL kept at its latest
    # decision; sizes by distinct payload per registrable domain.
    kept_urls = {url for url, (_, status, _) in overall.items() if status == "kept"}
    latest_capture: dict[str, models.Capture] = {}
    payloads: dict[str, dict[str, models.Capture]] = defaultdict(dict)  # domain: digest: capture
    for capture in session.scalars(select(models.Capture).order_by(models.Capture.id)):
        if capture.record_id in withdrawn or capture.url not in kept_urls:
            continue
        if capture.revisit_of is None:
            latest_capture[capture.url] = capture
            digest = capture.payload_digest or capture.record_id
            payloads[url_domain(capture.url)].setdefault(digest, capture)
    bytes_by_domain: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    undetermined = 0
    text_chars = 0
    text_payloads: set[str] = set()  # a payload kept under two URLs is counted once
    if warc_dir is not None:
        for domain, by_digest in payloads.items():
            for capture in by_digest.values():
                bytes_by_domain[domain] += payload_size(
                    _file(warc_dir, capture), capture.warc_offset
                )
        for capture in latest_capture.values():
            if MODALITY.get(kind_of(capture.content_type)) != "text":
                continue
            path = _file(warc_dir, capture)
            try:
                stored = read_capture(path, capture.warc_offset)
            except READ_ERRORS as exc:
                raise SummaryError(f"cannot read {capture.url} from {path}: {exc}") from exc
            text = text_of(capture, stored)
            digest = capture.payload_digest or capture.record_id
            if digest not in text_payloads:
                text_payloads.add(digest)
                text_chars += len(text)
            language = identify_language(text)
            if language is None:
                undetermined += 1
            else:
                languages[language] += 1
    content_types = Counter(
        media_type(c.content_type) or "unknown" for c in latest_capture.values()
    )
    kinds = Counter(kind_of(c.content_type) for c in latest_capture.values())
    modalities = sorted({MODALITY.get(kind, "other") for kind in kinds})
    distinct = {c.payload_digest or c.record_id: c for c in latest_capture.values()}
    by_modality = Counter(MODALITY.get(kind_of(c.content_type), "other") for c in distinct.values())
    status_counts = Counter(status for _, status, _ in overall.values())
    start = min((_utc(r.started_at) for r in crawls), default=None)
    end = max((_utc(r.finished_at) for r in crawls if r.finished_at), default=None)
    profiles = [_profile_section(s) for s in sections.values()]
    blocklists = sorted({b for p in profiles for b in p.pop("_blocklists")})
    return {
        "template": TEMPLATE,
        "section_1_3": {
            "modalities": modalities,
            "training_data_size": training_data_size(
                text_chars, by_modality, measured=warc_dir is not None
            ),
            "content_kinds": dict(sorted(kinds.items())),
            "content_types": dict(content_types.most_common()),
            "latest_collection": month(end),
            "languages": dict(sorted(languages.items(), key=lambda item: (-item[1], item[0]))),
            "languages_undetermined": undetermined,
            "language_identification": "langid (model bundled with the package), per kept page or document",
        },
        "section_2_3": {
            "crawlers_used": bool(crawls),
            "crawler_names": [PRODUCT_TOKEN] if crawls else [],
            "user_agents": sorted({r.user_agent for r in crawls}),
            "purposes": sorted({p["purpose"] for p in profiles if p["purpose"]}),
            "behaviour": {
                **BEHAVIOUR,
                "credentials_sent": credentials_sent,  # decisions whose request carried any
                "opt_out_signals": sorted(
                    {MEASURES[m["reason"]] for p in profiles for m in p["measures"]}
                ),
            },
            "collection_period": {"start": month(start), "end": month(end), "runs": len(crawls)},
            "runs_outside_collection": [
                {"spider": r.spider, "run_id": r.id, "date": month(r.started_at)}
                for r in runs
                if r.spider in NOT_COLLECTING
            ],
            "content_and_sources": "publicly accessible web pages and documents of the seed "
            "sites, fetched over HTTP(S) and kept only where no reservation, access control or "
            "blocklist applies",
            "modalities": modalities,
            "urls": {
                "kept": status_counts["kept"],
                "excluded": status_counts["excluded"],
                "withdrawn": status_counts["withdrawn"],
            },
            "top_domains": top_domains(bytes_by_domain, sme=sme),
            "domains_total": len(payloads),
            "size_measured": warc_dir is not None,
            "sme": sme,
        },
        "section_3_1": {
            "gpai_code_signatory": signatory,
            "profiles": profiles,
            "urls_withdrawn": status_counts["withdrawn"],
        },
        "section_3_2": {
            "blocklists": blocklists,
            "urls_blocklisted": sum(
                1 for _, _, why in overall.values() if reasons.BLOCKLISTED in why
            ),
        },
    }


def _file(warc_dir: Path, capture: models.Capture) -> Path:
    path = warc_dir / capture.warc_file
    if not path.is_file():
        raise SummaryError(f"WARC file {capture.warc_file} is not in {warc_dir} (--warc-dir)")
    return path


def _profile_section(section: _Section) -> dict[str, Any]:
    """Template 3.1 for one profile: every measure it honours, with the URLs whose latest
    decision under it was an exclusion (or a withdrawal) for that reason; zero included."""
    try:
        profile = load_profile(section.name)
        title, purpose = profile.title, profile.purpose
        honoured = [reason for reason in MEASURES if profile.honours(reason)]
        blocklists = [p.name for p in profile.blocklists]
    except ProfileError:  # a profile file no longer there: what its decisions show
        profile, title, purpose, blocklists = None, section.name, "", []
        honoured = sorted(
            {r for _, _, why in section.latest.values() for r in why if r in MEASURES}
        )
    counts: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for _, status, why in section.latest.values():
        statuses[status] += 1
        if status != "kept":
            counts.update(set(why) & set(MEASURES))
    return {
        "name": section.name,
        "title": title,
        "purpose": purpose,
        "sha256": sorted(section.sha256s),
        "runs": section.runs,
        "urls": {k: statuses[k] for k in ("kept", "excluded", "withdrawn")},
        "measures": [
            {"reason": reason, "measure": MEASURES[reason], "urls_excluded": counts[reason]}
            for reason in honoured
        ],
        "_blocklists": blocklists,
    }


def _size_lines(size: dict[str, dict[str, Any]]) -> list[str]:
    text, image = size["text"], size["image"]
    tokens = (
        f"{text['range']} (estimated {text['tokens_estimated']} tokens in {text['documents']} "
        f"document(s): {text['estimate']})"
        if text["range"] is not None
        else "not measured (give --warc-dir)"
    )
    lines = [
        "- Training data size:",
        f"  - text: {tokens}",
        f"  - images: {image['range']} ({image['images']} image(s))",
    ]
    for kind in ("audio", "video"):
        if size[kind]["captures"]:
            lines.append(
                f"  - {kind}: {size[kind]['captures']} file(s); duration not measured, "
                "no range given"
            )
    return lines


def to_markdown(data: dict[str, Any]) -> str:
    s13, s23, s31, s32 = (
        data[k] for k in ("section_1_3", "section_2_3", "section_3_1", "section_3_2")
    )
    period, urls = s23["collection_period"], s23["urls"]
    yes = {True: "yes", False: "no"}
    lines = [
        "# Public summary of training content — crawled data",
        "",
        f"Template: {data['template']['name']} ({data['template']['reference']}).",
        "",
        "## 1.3 Modalities, types of content and other characteristics",
        "",
        f"- Modalities: {', '.join(s13['modalities']) or 'none'}",
        *_size_lines(s13["training_data_size"]),
        "- Types of content: "
        + (", ".join(f"{k} ({v})" for k, v in s13["content_types"].items()) or "none"),
        f"- Latest date of data collection: {s13['latest_collection'] or 'none'}",
        "- Languages: "
        + (", ".join(f"{k} ({v})" for k, v in s13["languages"].items()) or "none identified")
        + f"; undetermined: {s13['languages_undetermined']} ({s13['language_identification']})",
        "",
        "## 2.3 Data crawled and scraped from online sources",
        "",
        f"- Crawlers used: {yes[s23['crawlers_used']]}",
        f"- (i) Crawler: {', '.join(s23['crawler_names']) or 'none'}; user agent(s): "
        f"{'; '.join(s23['user_agents']) or 'none'}",
        f"- (ii) Purposes: {'; '.join(s23['purposes']) or 'not stated'}",
        f"- (iii) robots.txt: {s23['behaviour']['robots_txt']}",
        f"- (iii) CAPTCHAs: {s23['behaviour']['captchas']}",
        f"- (iii) Password-protected content: {s23['behaviour']['password_protected']} "
        f"(requests with credentials: {s23['behaviour']['credentials_sent']})",
        f"- (iii) Paywalls: {s23['behaviour']['paywalls']}",
        f"- (iv) Period of data collection: {period['start'] or '—'} to {period['end'] or '—'} "
        f"({period['runs']} run(s))",
        *(
            f"  - not collecting: `{r['spider']}` run {r['run_id'][:8]} ({r['date']})"
            for r in s23["runs_outside_collection"]
        ),
        f"- (v) Content and sources: {s23['content_and_sources']}; URLs, each by its latest "
        f"decision: {urls['kept']} kept, {urls['excluded']} excluded, {urls['withdrawn']} withdrawn",
        f"- (vi) Modalities: {', '.join(s23['modalities']) or 'none'}",
        "",
        f"### (vii) Most relevant domain names ({'top 5% or 1,000, SME' if s23['sme'] else 'top 10%'} "
        f"of {s23['domains_total']} registrable domains, by unique payload bytes kept)",
        "",
        "| domain | bytes |",
        "|---|---|",
        *(f"| {d['domain']} | {d['bytes']} |" for d in s23["top_domains"]),
        "",
        "## 3.1 Respect of reservation of rights from the TDM exception",
        "",
        f"- Signatory of the General-Purpose AI Code of Practice: {yes[s31['gpai_code_signatory']]}",
        f"- Captures withdrawn after complaints or re-checks: {s31['urls_withdrawn']} URL(s)",
    ]
    for profile in s31["profiles"]:
        counts = profile["urls"]
        lines += [
            "",
            f"### Profile {profile['name']} — {profile['title']}",
            "",
            f"{profile['runs']} run(s); sha256 {', '.join(s[:12] + '…' for s in profile['sha256'])}; "
            f"URLs: {counts['kept']} kept, {counts['excluded']} excluded, {counts['withdrawn']} withdrawn.",
            "",
            "| measure | reason code | URLs excluded |",
            "|---|---|---|",
            *(
                f"| {m['measure']} | `{m['reason']}` | {m['urls_excluded']} |"
                for m in profile["measures"]
            ),
        ]
    lines += [
        "",
        "## 3.2 Removal of illegal content",
        "",
        f"- Lists of sites recognised as infringing: {', '.join(s32['blocklists']) or 'none'}; "
        f"URLs never requested for it: {s32['urls_blocklisted']}",
        "",
    ]
    return "\n".join(lines)
