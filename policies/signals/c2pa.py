"""C2PA / CAWG training-and-data-mining assertions (SIGNALS.md §8).

Labels `c2pa.training-mining` (C2PA 1.x) and `cawg.training-mining` (CAWG 1.1); entries
`{c2pa|cawg}.{data_mining, ai_training, ai_generative_training, ai_inference}` with `use`
`allowed`, `notAllowed` or `constrained` — constrained, absent further information, is treated as
notAllowed. Inference is not training or mining, so it is recorded but does not decide. Custom
entry keys have no meaning for a generic consumer: recorded only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from policies import reasons
from policies.evidence import Signal

LABELS = frozenset({"c2pa.training-mining", "cawg.training-mining"})
DECIDING = frozenset({"data_mining", "ai_training", "ai_generative_training"})


def c2pa_signal(assertions: Iterable[Mapping[str, Any]] | None) -> Signal | None:
    uses: dict[str, str] = {}
    problems = []
    for assertion in assertions or ():
        label = assertion.get("label") if isinstance(assertion, Mapping) else None
        if not isinstance(label, str) or label not in LABELS:
            continue
        data = assertion.get("data") or {}
        entries = data.get("entries", data) if isinstance(data, Mapping) else {}
        if not isinstance(entries, Mapping):
            problems.append("entries is not a map")
            continue
        for key, entry in entries.items():
            prefix, _, name = str(key).partition(".")
            use = entry.get("use") if isinstance(entry, Mapping) else None
            if prefix not in ("c2pa", "cawg") or name not in DECIDING:
                problems.append(f"{key}: {use!r} recorded; not a training or mining entry")
                continue
            if use not in ("allowed", "notAllowed", "constrained"):
                problems.append(f"{key}: use {use!r} is not allowed/notAllowed/constrained")
                continue
            uses[str(key)] = use
    if not uses and not problems:
        return None
    value = ", ".join(f"{k}={v}" for k, v in sorted(uses.items()))
    if any(use in ("notAllowed", "constrained") for use in uses.values()):
        return Signal(
            "c2pa-training-mining",
            "c2pa",
            value,
            "reserved",
            reasons.C2PA_RESERVED,
            problems=tuple(problems),
        )
    if uses:
        return Signal(
            "c2pa-training-mining", "c2pa", value, "not_reserved", problems=tuple(problems)
        )
    return Signal("c2pa-training-mining", "c2pa", value, "unknown", problems=tuple(problems))
