"""The decision: apply a profile to the signals seen for one URL. Pure and deterministic."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from policies.evidence import AccessInfo, Decision, Signal, Stage
from policies.profile import Profile


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
    Reasons keep their first-seen order and appear once.
    """
    signals = tuple(signals)
    found = [s.reason for s in signals if s.reason and profile.honours(s.reason)]
    found.extend(extra_reasons)
    reasons = tuple(dict.fromkeys(found))
    kwargs: dict[str, Any] = {}
    if decided_at is not None:
        kwargs["decided_at"] = decided_at
    return Decision(
        url=url,
        outcome="excluded" if reasons else "kept",
        reasons=reasons,
        stage=stage,
        policy=profile.ref,
        signals=signals,
        access=access or AccessInfo(),
        detail=detail or {},
        **kwargs,
    )
