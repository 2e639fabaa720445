"""Withdraw captures: the complaint path (EU GPAI Code of Practice, measure 1.5).

Re-checks and re-crawls withdraw only for what `reserves` accepts (NOT_RESERVATIONS: outages and
errors never withdraw). A withdrawal never deletes anything: it is a new run (spider `withdraw`) whose decision rows say,
for each capture it covers, `excluded` with reason `withdrawn`, the complaint's reason and reference,
and the capture's record id. Exports and summaries leave withdrawn captures out.
"""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.contracts import __version__
from pipelines import models, schema
from policies import reasons
from policies.evidence import Decision

STAGE = "withdrawal"

# Exclusions that say nothing about the rights holder's choice: an earlier capture stays. Every
# other reason withdraws it (a new code withdraws until it is listed here: fail closed). The one
# rule of re-crawls (crawler/middlewares/recrawl.py) and `scrapy recheck`: an origin that is down,
# or a robots.txt that cannot be fetched, is not a reservation.
NOT_RESERVATIONS = frozenset(
    {
        reasons.HTTP_ERROR,
        reasons.FETCH_ERROR,
        reasons.REDIRECTED,
        reasons.TOO_LARGE,
        reasons.ORIGIN_STOPPED,
        reasons.ORIGIN_PAGE_CAP,
        reasons.ROBOTS_UNREACHABLE,  # fail closed for this run, but nothing was reserved
        reasons.POLICY_ERROR,
        reasons.PRIVATE_ADDRESS,
        reasons.UNSUPPORTED_SCHEME,
        reasons.THIRD_PARTY_MEDIA,  # a rendering setting, not the rights holder's choice
        # Access answers (often an anti-bot wall, or a page moving behind a login): the earlier
        # copy was obtained lawfully and nothing was reserved; 451 (a legal demand) withdraws.
        reasons.AUTH_REQUIRED,
        reasons.PAYMENT_REQUIRED,
        reasons.FORBIDDEN,
        reasons.PAYWALLED,
    }
)


def reserves(decision: Decision) -> bool:
    """Whether an exclusion found after a capture withdraws it: some reason is the rights
    holder's (a reservation, a legal demand), not an outage or a setting of this run."""
    return decision.outcome == "excluded" and bool(set(decision.reasons) - NOT_RESERVATIONS)


def withdrawal_of(decision: Decision, capture: dict[str, str], **detail: Any) -> Decision:
    """The decision withdrawing `capture` (record_id, warc_file, capture_run_id) because of
    `decision`, an exclusion found after it was made (re-check, re-crawl)."""
    return Decision(
        url=decision.url,
        outcome="excluded",
        # why it is withdrawn: the reservations, not an outage seen on the way (NOT_RESERVATIONS)
        reasons=(reasons.WITHDRAWN, *(r for r in decision.reasons if r not in NOT_RESERVATIONS)),
        stage=STAGE,
        policy=decision.policy,
        signals=decision.signals,
        detail={
            "withdraws": {k: capture[k] for k in ("record_id", "warc_file", "capture_run_id")},
            **detail,
        },
    )


@dataclass(frozen=True, slots=True)
class Selector:
    url: str | None = None
    domain: str | None = None
    prefix: str | None = None

    def covers(self, url: str) -> bool:
        if self.url is not None:
            return url == self.url
        if self.prefix is not None:
            return url.startswith(self.prefix)
        host = (urlsplit(url).hostname or "").lower()
        domain = (self.domain or "").lower().rstrip(".")
        return host == domain or host.endswith("." + domain)


def withdrawn_record_ids(session: Session) -> set[str]:
    """Record ids of every capture some withdrawal covers."""
    found = set()
    for detail in session.scalars(
        select(models.Decision.detail).where(models.Decision.stage == STAGE)
    ):
        detail = detail or {}
        withdraws = detail.get("withdraws") or (detail.get("detail") or {}).get("withdraws")
        if withdraws:
            found.add(withdraws["record_id"])
    return found


def withdrawn_captures(session: Session) -> set[str]:
    """Record ids of the captures that outputs leave out: the withdrawn ones
    (`withdrawn_record_ids`), and any revisit standing for a withdrawn response (a revisit's
    content is that response's payload)."""
    withdrawn = withdrawn_record_ids(session)
    if withdrawn:
        revisits = select(models.Capture.record_id, models.Capture.revisit_of).where(
            models.Capture.revisit_of.is_not(None)
        )
        withdrawn |= {rid for rid, of in session.execute(revisits) if of in withdrawn}
    return withdrawn


def withdraw(db_url: str, selector: Selector, *, reason: str, ref: str) -> list[models.Capture]:
    """Mark the matching, not yet withdrawn captures withdrawn; returns them."""
    engine = models.create_engine(db_url)
    now = datetime.now(UTC)
    run_id = str(uuid.uuid4())
    try:
        schema.upgrade(engine)
        with Session(engine, expire_on_commit=False) as session, session.begin():
            done = withdrawn_record_ids(session)
            matching = [
                capture
                for capture in session.scalars(select(models.Capture).order_by(models.Capture.id))
                if selector.covers(capture.url) and capture.record_id not in done
            ]
            session.add(
                models.Run(
                    id=run_id, spider="withdraw", started_at=now, finished_at=now, finish_reason="finished",
                    user_agent="", profile="", profile_sha256="", version=__version__,
                    hostname=socket.gethostname(),
                    settings={"selector": {k: v for k, v in vars_of(selector).items() if v}, "ref": ref},
                )
            )  # fmt: skip
            session.flush()  # the run row first: decisions refer to it
            for capture in matching:
                detail = {
                    "url": capture.url,
                    "decided_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "outcome": "excluded",
                    "reasons": [reasons.WITHDRAWN],
                    "stage": STAGE,
                    "withdraws": {
                        "record_id": capture.record_id,
                        "warc_file": capture.warc_file,
                        "capture_run_id": capture.run_id,
                    },  # fmt: skip
                    "complaint": {"reason": reason, "ref": ref},
                    "run_id": run_id,
                }
                session.add(
                    models.Decision(
                        run_id=run_id, url=capture.url, outcome="excluded", reasons=[reasons.WITHDRAWN],
                        stage=STAGE, decided_at=now, detail=detail,
                    )
                )  # fmt: skip
        return matching
    finally:
        engine.dispose()


def vars_of(selector: Selector) -> dict[str, str | None]:
    return {"url": selector.url, "domain": selector.domain, "prefix": selector.prefix}
