"""Figures an auditor asks for, from the provenance database: runs, decisions by reason and by
domain, bytes kept, signals seen, profiles used. `audit(db_url)` returns plain JSON-ready data.

A withdrawn capture (pipelines/withdraw.py) is not counted as kept anywhere — not in the headline,
the runs, the domains, the bytes, the content types or the timeline: it is counted as withdrawn.
The withdrawal decisions themselves (stage `withdrawal`, made by `withdraw` and `recheck` runs)
are not exclusions of a fetch: they are counted as the withdrawals those runs made."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines import models
from pipelines.withdraw import STAGE as WITHDRAWAL
from pipelines.withdraw import withdrawn_captures


def _domain(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _when(value) -> str | None:
    """ISO 8601 in UTC (SQLite returns the stored UTC times without their zone)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def audit(db_url: str, *, run_id: str | None = None) -> dict[str, Any]:
    engine = models.create_engine(db_url)
    try:
        with Session(engine) as session:
            return _audit(session, run_id)
    finally:
        engine.dispose()


def _audit(session: Session, run_id: str | None) -> dict[str, Any]:
    runs_query = select(models.Run).order_by(models.Run.started_at)
    if run_id:
        # The audit shows runs by their first 8 characters: a prefix names a run too.
        runs_query = runs_query.where(models.Run.id.startswith(run_id, autoescape=True))
    runs = list(session.scalars(runs_query))
    if run_id and len(runs) != 1:
        exact = [run for run in runs if run.id == run_id]
        if not exact:
            found = "no run" if not runs else f"{len(runs)} runs"
            raise LookupError(f"{found} with an id starting {run_id!r}")
        runs = exact
    run_ids = [run.id for run in runs]
    withdrawn = withdrawn_captures(session)  # by any run, whichever runs are shown
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    signals: Counter[str] = Counter()
    signals_deciding: Counter[str] = Counter()
    domains: dict[str, Counter[str]] = defaultdict(Counter)
    per_run: dict[str, Counter[str]] = defaultdict(Counter)
    timeline: dict[str, Counter[str]] = defaultdict(Counter)
    decisions = (
        select(models.Decision.run_id, models.Decision.url, models.Decision.outcome,
               models.Decision.reasons, models.Decision.stage, models.Decision.detail,
               models.Decision.decided_at, models.Capture.record_id)
        .outerjoin(models.Capture, models.Capture.decision_id == models.Decision.id)
        .where(models.Decision.run_id.in_(run_ids))
    )  # fmt: skip
    for (
        decision_run,
        url,
        outcome,
        decision_reasons,
        stage,
        detail,
        decided_at,
        record_id,
    ) in session.execute(decisions):
        for signal in (detail or {}).get("signals", []):
            signals[signal.get("kind", "?")] += 1
            if signal.get("reason") and signal.get("reason") in (decision_reasons or []):
                signals_deciding[signal["kind"]] += 1
        if stage == WITHDRAWAL:  # not an exclusion: a capture taken back, counted with it
            per_run[decision_run]["withdrawals"] += 1
            continue
        if outcome == "kept" and record_id in withdrawn:
            outcome = "withdrawn"
        if decided_at is not None:
            timeline[decided_at.strftime("%Y-%m-%dT%H:%M")][outcome] += 1
        outcomes[outcome] += 1
        per_run[decision_run][outcome] += 1
        domains[_domain(url)][outcome] += 1
        if outcome == "excluded":
            reasons.update(decision_reasons or [])
    bytes_by_domain: Counter[str] = Counter()
    content_types: Counter[str] = Counter()
    for url, length, content_type, record_id in session.execute(
        select(
            models.Capture.url, models.Capture.warc_length, models.Capture.content_type,
            models.Capture.record_id,
        ).where(models.Capture.run_id.in_(run_ids))
    ):  # fmt: skip
        if record_id in withdrawn:
            continue
        bytes_by_domain[_domain(url)] += length
        content_types[(content_type or "unknown").split(";")[0].strip()] += 1
    return {
        "runs": [
            {
                "id": run.id,
                "spider": run.spider,
                "started_at": _when(run.started_at),
                "finished_at": _when(run.finished_at),
                "finish_reason": run.finish_reason,
                "profile": run.profile,
                "profile_sha256": run.profile_sha256,
                "user_agent": run.user_agent,
                "version": run.version,
                "kept": per_run[run.id]["kept"],
                "excluded": per_run[run.id]["excluded"],
                "withdrawn": per_run[run.id]["withdrawn"],  # of its captures, since
                "withdrawals": per_run[run.id]["withdrawals"],  # that it made
            }
            for run in runs
        ],
        "decisions": {
            "kept": outcomes["kept"],
            "excluded": outcomes["excluded"],
            "withdrawn": outcomes["withdrawn"],
        },
        "excluded_by_reason": dict(reasons.most_common()),
        "domains": [
            {
                "domain": domain,
                "kept": counts["kept"],
                "excluded": counts["excluded"],
                "withdrawn": counts["withdrawn"],
                "warc_bytes": bytes_by_domain[domain],
            }  # fmt: skip
            for domain, counts in sorted(
                domains.items(), key=lambda item: -bytes_by_domain[item[0]]
            )
        ],
        "warc_bytes": sum(bytes_by_domain.values()),
        "content_types": dict(content_types.most_common()),
        "signals_seen": dict(signals.most_common()),
        "signals_deciding": dict(signals_deciding.most_common()),
        "profiles": sorted({(run.profile, run.profile_sha256) for run in runs}),
        "timeline": [
            {
                "minute": minute,
                "kept": counts["kept"],
                "excluded": counts["excluded"],
                "withdrawn": counts["withdrawn"],
            }
            for minute, counts in sorted(timeline.items())
        ],
    }
