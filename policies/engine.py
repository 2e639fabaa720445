"""The decision: apply a profile to the signals seen for one URL. Pure and deterministic."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from policies import reasons
from policies.evidence import AccessInfo, Decision, Signal, Stage
from policies.profile import Profile


def profile_reasons(signals: Iterable[Signal], profile: Profile) -> list[str]:
    """Reason codes the profile draws from the signals, in the order seen."""
    found = []
    for signal in signals:
        if signal.reason and signal.in_force and profile.honours(signal.reason):
            found.append(signal.reason)
        elif signal.unreachable and profile.policy_files_fail_closed:
            found.append(reasons.POLICY_ERROR)  # a policy file that could not be fetched
        elif read_leniently(signal, profile):
            assert signal.lenient_reason is not None
            found.append(signal.lenient_reason)
    return found


def read_leniently(signal: Signal, profile: Profile) -> bool:
    """A non-conforming but recognisable reservation the profile reads as one (SIGNALS.md)."""
    return bool(
        signal.lenient_reason
        and signal.in_force
        and profile.lenient_reservations
        and profile.honours(signal.lenient_reason)
    )


def decide(
    url: str,
    signals: Iterable[Signal],
    *,
    profile: Profile,
    stage: Stage,
    access: AccessInfo | None = None,
    extra_reasons: Iterable[str] = (),
    decided_at: datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> Decision:
    """Kept unless a signal the profile honours, or a non-signal reason (a failed fetch), excludes.

    `extra_reasons` carries refusals that are facts rather than signals (an HTTP 403, a fetch error).
    Reasons keep their first-seen order and appear once. Signals are all recorded, deciding or not.
    """
    signals = tuple(signals)
    found = profile_reasons(signals, profile)
    found.extend(extra_reasons)
    reason_codes = tuple(dict.fromkeys(found))
    lenient = [
        {"kind": s.kind, "source": s.source, "value": s.value, "reason": s.lenient_reason}
        for s in signals
        if read_leniently(s, profile)
    ]
    if lenient:  # recorded: these reasons come from the profile's reading, not the spec's
        detail = {**(detail or {}), "lenient_reservations": lenient}
    review = [
        {"reason": s.reason, "kind": s.kind, "source": s.source, "value": s.value,
         "evidence_record": s.evidence_record}
        for s in signals
        if s.reason in profile.review and s.in_force
    ]  # fmt: skip
    if review:  # kept, for a person to judge (Profile.review)
        detail = {**(detail or {}), "review": review}
    kwargs: dict[str, Any] = {}
    # The content's licence, when the page states one (rel=license, schema.org license).
    licence = next((s.value for s in signals if s.kind == "license" and s.value), None)
    if licence is not None:
        kwargs["license"] = licence
    if decided_at is not None:
        kwargs["decided_at"] = decided_at
    return Decision(
        url=url,
        outcome="excluded" if reason_codes else "kept",
        reasons=reason_codes,
        stage=stage,
        policy=profile.ref,
        signals=signals,
        access=access or AccessInfo(),
        detail=detail or {},
        **kwargs,
    )
