"""W3C TDMRep `tdm-reservation` as an HTTP response field, HTML meta, and combined in priority.

Values are `1` (reserved) or `0` (not reserved); anything else is a protocol error and the property
is unset (TDMRep §"Protocol errors"). Processing priority (TDMRep §"Processing priority"):
tdmrep.json < HTTP header < HTML meta < EPUB/PDF metadata; each later valid value supersedes the
earlier ones, and the absence of a value (or an unset one) never resets them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from policies import reasons
from policies.evidence import Signal
from policies.signals.html_meta import MetaTags

HEADER = "tdm-reservation"
_LENIENT_ONE = frozenset({"1", "true", "yes"})
META = "tdm-reservation"


def read_value(kind: str, source: str, raw: str, reason: str) -> Signal:
    value = raw.strip()
    if value == "1":
        return Signal(kind, source, value, "reserved", reason)
    if value == "0":
        return Signal(kind, source, value, "not_reserved")
    problem = f"protocol error: {value!r} is not 0 or 1; treated as unset"
    if value.strip("\"' ").lower() in _LENIENT_ONE:  # "true", "yes", '"1"': meant as 1
        return Signal(kind, source, value, "unknown", problems=(problem,), lenient_reason=reason)
    return Signal(kind, source, value, "unknown", problems=(problem,))


def header_signal(headers: Iterable[tuple[str, str]]) -> Signal | None:
    # RFC 9110 §5.3: repeated field lines combine into one comma-joined value. "1, 0" is neither
    # 0 nor 1 (a protocol error: unset); the same value repeated ("1, 1") still says that value.
    values = [
        v.strip() for name, value in headers if name.lower() == HEADER for v in value.split(",")
    ]
    if not values:
        return None
    combined = values[0] if len(set(values)) == 1 else ", ".join(values)
    signal = read_value(
        "tdm-reservation-header", f"header:{HEADER}", combined, reasons.TDM_RESERVATION_HEADER
    )
    if len(values) > 1:
        signal = replace(
            signal, problems=(*signal.problems, f"field repeated: {', '.join(values)}")
        )
    return signal


def meta_signals(meta: MetaTags) -> list[Signal]:
    return [
        read_value(
            "tdm-reservation-meta", f"html:meta[name={name}]", content, reasons.TDM_RESERVATION_META
        )
        for name, content in meta
        if name == META
    ]


POLICY = "tdm-policy"


def policy_signals(headers: Iterable[tuple[str, str]], meta: MetaTags = ()) -> list[Signal]:
    """`tdm-policy` (HTTP field or HTML meta): where the rights holder's TDM licence is offered —
    recorded as the licensing contact (kind `tdm-policy`), never a reservation by itself."""
    found = [
        Signal(POLICY, f"header:{POLICY}", value.strip(), "unknown")
        for name, value in headers
        if name.lower() == POLICY and value.strip()
    ]
    found += [
        Signal(POLICY, f"html:meta[name={name}]", content.strip(), "unknown")
        for name, content in meta
        if name == POLICY and content.strip()
    ]
    return found


def in_priority(signals: Sequence[Signal]) -> list[Signal]:
    """Mark every valid value but the last as superseded (no reason code, not in force)."""
    valid = [i for i, s in enumerate(signals) if s.verdict in ("reserved", "not_reserved")]
    in_force = valid[-1] if valid else None
    result = []
    for i, signal in enumerate(signals):
        if i in valid and i != in_force:
            signal = replace(
                signal,
                reason=None,
                in_force=False,
                problems=(
                    *signal.problems,
                    "superseded by a later tdm-reservation (TDMRep processing priority)",
                ),
            )
        result.append(signal)
    return result


def tdm_reservation_signals(
    headers: Iterable[tuple[str, str]],
    meta: MetaTags = (),
    *,
    file_signal: Signal | None = None,
    document_signals: Sequence[Signal] = (),
) -> list[Signal]:
    """All TDMRep statements about one resource, in processing order, the one in force marked."""
    ordered = [s for s in (file_signal, header_signal(headers)) if s is not None]
    ordered += meta_signals(meta)
    ordered += document_signals
    return in_priority(ordered)
