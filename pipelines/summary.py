"""The parts of the EU AI Office template for the public summary of training content that a crawl
can fill: section 2.3 (data crawled and scraped from online sources) and section 3.1 (measures to
respect reservations of rights from the TDM exception). Built from the provenance database only;
withdrawn captures are left out."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines import models
from pipelines.withdraw import withdrawn_record_ids
from policies.profile import ProfileError, load_profile

SIGNAL_MEASURES = {
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
    "declared-reservation": "rights holders' and collective management organisations' public notices",
    "blocklisted": "lists of sites recognised as infringing",
    "paywalled": "paywall markup (content behind a paywall is not collected)",
    "auth-required": "authentication walls (401/407) not passed",
    "payment-required": "payment walls (402) not passed",
    "forbidden": "access refused (403) respected",
    "unavailable-for-legal-reasons": "HTTP 451 respected",
    "withdrawn": "captures withdrawn after complaints",
}


def _utc(value) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def top_domains(bytes_by_domain: Counter[str], *, sme: bool) -> list[dict[str, Any]]:
    """Top 10% of domains by bytes (SMEs: top 5% or 1,000 domains, whichever is fewer)."""
    ranked = bytes_by_domain.most_common()
    if sme:
        count = min(math.ceil(len(ranked) * 0.05), 1000)
    else:
        count = math.ceil(len(ranked) * 0.10)
    return [
        {"domain": domain, "bytes": size}
        for domain, size in ranked[: max(count, 1 if ranked else 0)]
    ]


def summary(db_url: str, *, sme: bool = False) -> dict[str, Any]:
    engine = models.create_engine(db_url)
    try:
        with Session(engine) as session:
            runs = [
                r
                for r in session.scalars(select(models.Run).order_by(models.Run.started_at))
                if r.spider != "withdraw"
            ]
            withdrawn = withdrawn_record_ids(session)
            bytes_by_domain: Counter[str] = Counter()
            content_types: Counter[str] = Counter()
            for capture in session.scalars(select(models.Capture)):
                if capture.record_id in withdrawn:
                    continue
                bytes_by_domain[(urlsplit(capture.url).hostname or "").lower()] += (
                    capture.warc_length
                )
                if capture.revisit_of is None:  # a revisit adds no content: counted once
                    content_types[(capture.content_type or "unknown").split(";")[0].strip()] += 1
            reasons: Counter[str] = Counter()
            for (row_reasons,) in session.execute(
                select(models.Decision.reasons).where(models.Decision.outcome == "excluded")
            ):
                reasons.update(row_reasons or [])
    finally:
        engine.dispose()
    profiles = {}
    for run in runs:
        try:
            profile = load_profile(run.profile)
            purpose = profile.purpose
        except ProfileError:
            purpose = ""
        profiles[run.profile] = {"sha256": run.profile_sha256, "purpose": purpose}
    return {
        "template": "eu-ai-act public summary of training content (sections 2.3 and 3.1)",
        "section_2_3": {
            "crawler_names": sorted({"rightscrawl"}),
            "user_agents": sorted({run.user_agent for run in runs}),
            "purposes": sorted({p["purpose"] for p in profiles.values() if p["purpose"]}),
            "behaviour": {
                "robots_txt": "RFC 9309 for the product token 'rightscrawl'; a robots.txt that cannot be "
                "fetched (5xx, 429, network error) means complete disallow",
                "opt_out_signals": sorted(
                    {
                        SIGNAL_MEASURES[r]
                        for r in reasons
                        if r in SIGNAL_MEASURES and r != "withdrawn"
                    }
                ),
                "paywalls": "not circumvented: 401/402/403/407/451 and paywall markup are excluded; no credentials sent",
            },
            "collection_period": {
                "start": _utc(runs[0].started_at) if runs else None,
                "end": _utc(max((r.finished_at for r in runs if r.finished_at), default=None)),
            },
            "content_types": dict(content_types.most_common()),
            "top_domains": top_domains(bytes_by_domain, sme=sme),
            "domains_total": len(bytes_by_domain),
            "sme": sme,
        },
        "section_3_1": {
            "profiles": profiles,
            "measures": [
                {
                    "measure": SIGNAL_MEASURES.get(reason, reason),
                    "reason": reason,
                    "urls_excluded": count,
                }
                for reason, count in reasons.most_common()
                if reason in SIGNAL_MEASURES  # not failures (http-error) or redirects
            ],
        },
    }


def to_markdown(data: dict[str, Any]) -> str:
    s23, s31 = data["section_2_3"], data["section_3_1"]
    period = s23["collection_period"]
    lines = [
        "# Public summary of training content — crawled data",
        "",
        "## 2.3 Data crawled and scraped from online sources",
        "",
        f"- Crawler: {', '.join(s23['crawler_names'])}; user agent(s): {'; '.join(s23['user_agents'])}",
        f"- Purposes: {'; '.join(s23['purposes']) or 'not stated'}",
        f"- Collection period: {period['start']} to {period['end']}",
        f"- robots.txt: {s23['behaviour']['robots_txt']}",
        f"- Paywalls: {s23['behaviour']['paywalls']}",
        "- Opt-out signals honoured: "
        + ("; ".join(s23["behaviour"]["opt_out_signals"]) or "none met"),
        "- Content types: " + ", ".join(f"{k} ({v})" for k, v in s23["content_types"].items()),
        "",
        f"### Top domains by bytes collected ({'top 5% or 1,000, SME' if s23['sme'] else 'top 10%'} "
        f"of {s23['domains_total']})",
        "",
        "| domain | bytes |",
        "|---|---|",
        *(f"| {d['domain']} | {d['bytes']} |" for d in s23["top_domains"]),
        "",
        "## 3.1 Measures to respect reservations of rights",
        "",
        "| measure | reason code | URLs excluded |",
        "|---|---|---|",
        *(f"| {m['measure']} | `{m['reason']}` | {m['urls_excluded']} |" for m in s31["measures"]),
        "",
        "Profiles: "
        + "; ".join(f"{name} (sha256 {p['sha256'][:12]}…)" for name, p in s31["profiles"].items()),
        "",
    ]
    return "\n".join(lines)
