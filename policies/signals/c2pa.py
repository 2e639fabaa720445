"""C2PA / CAWG training-and-data-mining assertions (SIGNALS.md §8), read from the asset itself.

Labels `c2pa.training-mining` (C2PA 1.x) and `cawg.training-mining` (CAWG 1.1); entries
`{c2pa|cawg}.{data_mining, ai_training, ai_generative_training, ai_inference}` with `use`
`allowed`, `notAllowed` or `constrained` — constrained, absent further information, is treated as
notAllowed. Inference is not training or mining, so it is recorded but does not decide. Custom
entry keys have no meaning for a generic consumer: recorded only.

Manifests are read with c2pa-python (the Content Authenticity Initiative's binding of c2pa-rs)
from the response body, with the MIME type the response declares; only the active manifest's
assertions count (earlier manifests describe ingredients, not this asset). The reader never goes
to the network: remote manifests and OCSP are not fetched (`_READER_SETTINGS`), so everything the
crawl reads passed its gate. The signature's validation is recorded with the finding:

    valid      the claim signature verifies and its certificate chains to a configured anchor
    untrusted  the signature verifies, the signer is not on a trust list (every real manifest,
               as no trust list is configured by default)
    invalid    a hash, the signature or the claim does not verify: the asset or manifest changed

A reservation counts whatever its validation (a tampered file does not lose its owner's wish); a
permission from an invalid manifest is not authoritative and reads as unknown.

A manifest c2pa-rs cannot parse (a corrupt JUMBF box, a broken claim) is unread: an
`unread_signal` (policy-error under every profile). A container c2pa-rs cannot parse that holds
no C2PA marker at all is recorded as a problem, not as an unread manifest: a broken PDF cross
reference table is not a rights statement. A manifest damaged so far that c2pa-rs no longer sees
one reads as absent, like a stripped one.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from policies import reasons
from policies.evidence import Signal, unread_signal

LABELS = frozenset({"c2pa.training-mining", "cawg.training-mining"})
DECIDING = frozenset({"data_mining", "ai_training", "ai_generative_training"})
VALIDATION = {"Trusted": "valid", "Valid": "untrusted", "Invalid": "invalid"}
# Nothing outside the gate: no remote manifest, no OCSP responder, no identity resolution.
_READER_SETTINGS = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    "core": {"decode_identity_assertions": False},
}
# Every C2PA manifest store is a JUMBF superbox labelled "c2pa" (C2PA 2.1 §11.1); in a PDF the
# embedded file's subtype is application/c2pa. Used only to tell a damaged manifest from a
# container c2pa-rs cannot parse that carries none.
_MARKER = b"c2pa"
# Types the response says it is that never carry a manifest (c2pa-rs lists none of them).
_TEXT_TYPES = ("text/", "application/xhtml+xml", "application/json", "application/xml")


@dataclass(frozen=True, slots=True)
class C2paReading:
    """The active manifest's assertions and how its signature validated."""

    assertions: tuple[Mapping[str, Any], ...] = ()
    validation: str | None = None  # valid / untrusted / invalid
    codes: tuple[str, ...] = ()  # the validation failure codes of the active manifest
    signals: tuple[Signal, ...] = ()  # the reading itself: unread, or a problem recorded


@cache
def supported_types() -> frozenset[str]:
    import c2pa

    return frozenset(t for t in c2pa.Reader.get_supported_mime_types() if "/" in t)


def _context(trust_anchors: bytes | None):
    import c2pa

    settings: dict[str, Any] = json.loads(json.dumps(_READER_SETTINGS))
    if trust_anchors:
        settings["trust"] = {"user_anchors": trust_anchors.decode("ascii")}
    return c2pa.Context.from_dict(settings)


def read_c2pa(
    content_type: str, body: bytes, *, trust_anchors: bytes | None = None
) -> C2paReading | None:
    """The C2PA manifest embedded in `body`, if its type can carry one; None when it cannot.

    `trust_anchors` (PEM) are the certificates a signature must chain to for `valid`."""
    content_type = content_type.split(";", 1)[0].strip().lower()
    if not body or content_type.startswith(_TEXT_TYPES) or content_type not in supported_types():
        return None
    import c2pa

    try:
        with _context(trust_anchors) as context:
            reader = c2pa.Reader.try_create(content_type, io.BytesIO(body), context=context)
            if reader is None:
                return C2paReading()
            with reader:
                manifest = reader.get_active_manifest() or {}
                state = reader.get_validation_state()
                results = reader.get_validation_results() or {}
    except Exception as exc:  # noqa: BLE001 - c2pa-rs reports every parse failure as C2paError
        problem = f"c2pa-rs: {type(exc).__name__.lstrip('_')}: {exc}"
        if _MARKER in body:
            return C2paReading(signals=(unread_signal("c2pa", "c2pa:manifest", problem),))
        noted = Signal("c2pa", "c2pa:manifest", "", "unknown", problems=(problem,))
        return C2paReading(signals=(noted,))
    failures = (results.get("activeManifest") or {}).get("failure") or ()
    codes = tuple(str(f.get("code")) for f in failures if isinstance(f, Mapping))
    assertions = tuple(a for a in manifest.get("assertions") or () if isinstance(a, Mapping))
    return C2paReading(assertions, VALIDATION.get(str(state), str(state).lower()), codes)


def c2pa_signal(
    assertions: Iterable[Mapping[str, Any]] | None,
    *,
    validation: str | None = None,
    codes: Iterable[str] = (),
) -> Signal | None:
    uses: dict[str, str] = {}
    codes = tuple(codes)
    problems = [f"c2pa validation: {code}" for code in codes]
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
            earlier = uses.get(str(key))
            if earlier is not None and earlier != use:
                problems.append(f"{key} stated twice ({earlier}, then {use}): the stricter holds")
            if earlier in ("notAllowed", "constrained"):
                continue  # a reservation stated once is not undone by a later permission
            uses[str(key)] = use
    if not uses and len(problems) == len(codes):
        return None  # no training-mining assertion: the manifest says nothing about training
    value = ", ".join(f"{k}={v}" for k, v in sorted(uses.items()))

    def signal(verdict, reason=None):
        return Signal(
            "c2pa-training-mining",
            "c2pa",
            value,
            verdict,
            reason,
            problems=tuple(problems),
            validation=validation,
        )

    if any(use in ("notAllowed", "constrained") for use in uses.values()):
        return signal("reserved", reasons.C2PA_RESERVED)
    if uses and validation != "invalid":
        return signal("not_reserved")
    if uses:
        problems.append("a permission from a manifest that does not validate is not authoritative")
    return signal("unknown")
