"""Read-side queries over the provenance database, shared by the commands."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from pipelines import models


@dataclass(frozen=True, slots=True)
class DecisionRow:
    url: str
    outcome: str
    reasons: tuple[str, ...]
    stage: str
    warc_file: str | None


def run_decisions(engine: Engine, run_id: str) -> list[DecisionRow]:
    query = (
        select(models.Decision, models.Capture.warc_file)
        .outerjoin(models.Capture, models.Capture.decision_id == models.Decision.id)
        .where(models.Decision.run_id == run_id)
        .order_by(models.Decision.outcome.desc(), models.Decision.url)
    )
    with Session(engine) as session:
        return [
            DecisionRow(d.url, d.outcome, tuple(d.reasons), d.stage, warc_file)
            for d, warc_file in session.execute(query)
        ]


def reason_counts(rows: list[DecisionRow]) -> Counter[str]:
    return Counter(reason for row in rows for reason in row.reasons)
