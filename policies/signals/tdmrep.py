"""W3C TDMRep `tdm-reservation` as an HTTP response field and as HTML meta.

Values are `1` (reserved) or `0` (not reserved); anything else is a protocol error and the property
is unset (TDMRep §"Protocol errors"). Processing priority: the HTML meta supersedes the header, and
the absence of a value never resets an earlier one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from policies import reasons
from policies.evidence import Signal
from policies.signals.html_meta import MetaTags

HEADER = "tdm-reservation"
META = "tdm-reservation"


def _read(kind: str, source: str, raw: str, reason: str) -> tuple[Signal, str | None]:
    value = raw.strip()
    if value == "1":
        return Signal(kind, source, value, "reserved", reason), "1"
    if value == "0":
        return Signal(kind, source, value, "not_reserved"), "0"
    problem = f"protocol error: {value!r} is not 0 or 1; treated as unset"
    return Signal(kind, source, value, "unknown", problems=(problem,)), None


def tdm_reservation_signals(
    headers: Iterable[tuple[str, str]], meta: MetaTags = ()
) -> list[Signal]:
    """Signals in processing order; only the value in force carries a reason code."""
    read: list[tuple[Signal, str | None]] = []
    # RFC 9110 §5.3: repeated field lines combine into one comma-joined value. "1, 0" is neither
    # 0 nor 1 (a protocol error: unset); the same value repeated ("1, 1") still says that value.
    values = [
        v.strip() for name, value in headers if name.lower() == HEADER for v in value.split(",")
    ]
    if values:
        combined = values[0] if len(set(values)) == 1 else ", ".join(values)
        signal, value = _read(
            "tdm-reservation-header", f"header:{HEADER}", combined, reasons.TDM_RESERVATION_HEADER
        )
        if len(values) > 1:
            signal = replace(
                signal, problems=(*signal.problems, f"field repeated: {', '.join(values)}")
            )
        read.append((signal, value))
    for name, content in meta:
        if name == META:
            read.append(
                _read(
                    "tdm-reservation-meta",
                    f"html:meta[name={name}]",
                    content,
                    reasons.TDM_RESERVATION_META,
                )
            )
    in_force = max((i for i, (_, value) in enumerate(read) if value is not None), default=None)
    signals = []
    for i, (signal, value) in enumerate(read):
        if value is not None and i != in_force:
            signal = Signal(
                signal.kind,
                signal.source,
                signal.value,
                signal.verdict,
                None,
                problems=("superseded by a later tdm-reservation (TDMRep processing priority)",),
            )
        signals.append(signal)
    return signals
