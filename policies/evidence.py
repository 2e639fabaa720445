"""Typed values that carry evidence and decisions between the parsers, the engine and storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from policies.reasons import POLICY_ERROR

Outcome = Literal["kept", "excluded"]
Stage = Literal["before-fetch", "after-fetch"]
# "reserved"/"not_reserved"/"unknown" read a signal about use for AI training;
# "disallowed"/"allowed" read an access rule (robots.txt) for our own token.
Verdict = Literal["reserved", "not_reserved", "unknown", "disallowed", "allowed"]


@dataclass(frozen=True, slots=True)
class Signal:
    """One machine-readable statement seen for a URL, and how we read it."""

    kind: str  # e.g. "robots.txt", "tdm-reservation-header", "x-robots-tag", "meta-robots"
    source: str  # where it was seen: a document URL, or "header:<Name>" / "html:<meta name>"
    value: str  # the raw value as seen (trimmed)
    verdict: Verdict
    reason: str | None = None  # the reason code when this signal excludes the URL
    evidence_record: str | None = None  # WARC-Record-ID of the archived evidence document
    problems: tuple[str, ...] = ()
    unreachable: bool = False  # the document could not be fetched (a profile may fail closed)
    in_force: bool = True  # False when a later statement of the same protocol superseded it
    # A statement that does not conform to its spec (verdict "unknown") but is recognisably a
    # reservation (`Train-AI=n`, `ai-train=No`, a legacy AIPREF label): the reason code it would
    # carry. Only a profile with `lenient_reservations` reads it so (engine.profile_reasons).
    lenient_reason: str | None = None
    # C2PA: how the signature of the manifest the statement came from validated — "valid",
    # "untrusted" (verifies, signer on no trust list) or "invalid" (policies.signals.c2pa).
    validation: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "source": self.source,
            "value": self.value,
            "verdict": self.verdict,
            "evidence_record": self.evidence_record,
        }
        if self.reason:
            data["reason"] = self.reason
        if self.problems:
            data["problems"] = list(self.problems)
        if self.unreachable:
            data["unreachable"] = True
        if not self.in_force:
            data["in_force"] = False
        if self.lenient_reason:
            data["lenient_reason"] = self.lenient_reason
        if self.validation:
            data["validation"] = self.validation
        return data


# The status of a policy document whose body passed the download cap: it exists, but was not read.
TOO_LARGE_STATUS = "too-large"


def unread_signal(kind: str, source: str, problem: str, *, record_id: str | None = None) -> Signal:
    """A document that could not be read whole (past a size or depth limit, an unreadable
    container): what it says is unknown, so it excludes with `policy-error` under every profile —
    a reservation is never lost to a limit."""
    return Signal(kind, source, "", "unknown", POLICY_ERROR, evidence_record=record_id,
                  problems=(f"not read whole: {problem}",))  # fmt: skip


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """The profile a decision was made under, pinned by the sha256 of its file."""

    profile: str
    sha256: str


@dataclass(frozen=True, slots=True)
class AccessInfo:
    """How the bytes were obtained: the basis for lawful access."""

    status: int | str | None = None  # HTTP status, or None before fetching
    credentials_sent: bool = False
    paywall: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    url: str
    outcome: Outcome
    reasons: tuple[str, ...]
    stage: Stage
    policy: PolicyRef
    signals: tuple[Signal, ...] = ()
    access: AccessInfo = field(default_factory=AccessInfo)
    license: str | None = None
    decided_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    detail: dict[str, Any] = field(default_factory=dict)  # extra facts (redirect chain, error)

    @property
    def kept(self) -> bool:
        return self.outcome == "kept"

    def to_provenance(self, run_id: str) -> dict[str, Any]:
        """The provenance JSON of DESIGN.md: metadata record body and `decisions.detail`."""
        data: dict[str, Any] = {
            "url": self.url,
            "decided_at": self.decided_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "stage": self.stage,
            "policy": {"profile": self.policy.profile, "sha256": self.policy.sha256},
            "signals": [s.to_json() for s in self.signals],
            "access": {
                "status": self.access.status,
                "credentials_sent": self.access.credentials_sent,
                "paywall": self.access.paywall,
            },
            "license": self.license,
            "run_id": run_id,
        }
        if self.detail:
            data["detail"] = self.detail
        return data
