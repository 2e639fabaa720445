"""W3C TDMRep `/.well-known/tdmrep.json`: a JSON array of `{location, tdm-reservation[, tdm-policy]}`.

The first rule whose `location` matches the URL is the one in force ("the most specific match is
the first in sequence") — not the longest, unlike robots.txt. Values are type-strict: the integer
1 or 0 (JSON `true` or the string "1" are protocol errors: unset). A file that is not an array of
rules, or that cannot be fetched, means the origin does not use TDMRep (§"Failure to provide
access … implies that the origin server does not implement this protocol"); a fetch that failed
for a server error is flagged `unreachable`, which a profile may treat as failing closed.

The spec sets no size limit. A file that exists but is not read whole — larger than `MAX_BYTES`,
past the download cap, or nested deeper than the JSON parser goes — may hold a reservation for any
URL of the origin: every URL then gets `policy-error` (under every profile), never "not in use".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from policies import reasons
from policies.evidence import TOO_LARGE_STATUS, Signal, unread_signal
from policies.signals.path_pattern import compile_pattern, url_path

WELL_KNOWN_PATH = "/.well-known/tdmrep.json"
# Real files are a few hundred bytes (one rule per publication path); 4 MiB is ~10,000 times that,
# and bounds what json.loads builds (measured: up to ~25 bytes of objects per byte of input).
MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TdmRule:
    location: str
    reservation: Any
    policy: Any


@dataclass(frozen=True, slots=True)
class TdmrepFile:
    url: str
    status: int | str | None
    rules: tuple[TdmRule, ...] = ()
    in_use: bool = False
    unreachable: bool = False
    problems: tuple[str, ...] = ()
    record_id: str | None = None
    unread: str | None = None  # why a file that exists was not read whole: fail closed

    @classmethod
    def parse(
        cls,
        url: str,
        status: int | str | None,
        body: str | bytes | None,
        *,
        record_id: str | None = None,
    ) -> TdmrepFile:
        if status == TOO_LARGE_STATUS:
            return cls(url, status, record_id=record_id, unread="larger than the download cap")
        if status is not None and not (isinstance(status, int) and 200 <= status < 300):
            unreachable = not isinstance(status, int) or status >= 500 or status == 429
            problem = f"not fetched (status {status})" if unreachable else ()
            return cls(
                url,
                status,
                unreachable=unreachable,
                problems=(problem,) if problem else (),
                record_id=record_id,
            )
        if body is None:
            return cls(url, status, record_id=record_id)
        if len(body) > MAX_BYTES:
            return cls(url, status, record_id=record_id, unread=f"larger than {MAX_BYTES} bytes")
        try:
            data = json.loads(body)
        except RecursionError:
            return cls(url, status, record_id=record_id, unread="nested deeper than JSON is read")
        except ValueError as exc:
            # Often a soft-404 HTML page served with status 200: TDMRep is not in use.
            return cls(
                url,
                status,
                problems=(f"not JSON ({type(exc).__name__}): TDMRep not in use",),
                record_id=record_id,
            )
        return cls.from_data(url, status, data, record_id=record_id)

    @classmethod
    def from_data(
        cls, url: str, status: int | str | None, data: Any, *, record_id: str | None = None
    ) -> TdmrepFile:
        if not isinstance(data, list):
            return cls(
                url,
                status,
                problems=("not a JSON array of rules: TDMRep not in use",),
                record_id=record_id,
            )
        rules, problems = [], []
        for index, rule in enumerate(data):
            if not isinstance(rule, dict) or not isinstance(rule.get("location"), str):
                problems.append(f"rule {index}: no string 'location'; it cannot match")
                continue
            rules.append(
                TdmRule(rule["location"], rule.get("tdm-reservation"), rule.get("tdm-policy"))
            )
        return cls(url, status, tuple(rules), True, False, tuple(problems), record_id)

    def signal(self, url: str) -> Signal | None:
        """The rule in force for `url`, or None when the file says nothing about it."""
        if self.unread:
            return unread_signal("tdmrep.json", self.url, self.unread, record_id=self.record_id)
        if self.unreachable:
            return self._signal(f"status {self.status}", "unknown", unreachable=True)
        if not self.in_use:
            if not self.problems:
                return None  # no file (404 …): nothing to say
            # Fetched but not a TDMRep file (a soft-404 page …): not in use, and recorded.
            return self._signal(f"status {self.status}", "unknown")
        path = url_path(url)
        for rule in self.rules:
            if compile_pattern(rule.location).matches(path):
                value = rule.reservation
                stated = {"location": rule.location, "tdm-reservation": value}
                if isinstance(rule.policy, str) and rule.policy:
                    stated["tdm-policy"] = rule.policy  # the licensing contact, recorded
                raw = json.dumps(stated)
                if type(value) is int and value == 1:
                    return self._signal(raw, "reserved", reason=reasons.TDMREP_RESERVED)
                if type(value) is int and value == 0:
                    return self._signal(raw, "not_reserved")
                signal = self._signal(
                    raw,
                    "unknown",
                    problem=f"tdm-reservation {value!r} is not the integer 0 or 1: unset",
                )
                if value is True or value == "1" or (type(value) is float and value == 1):
                    signal = replace(signal, lenient_reason=reasons.TDMREP_RESERVED)
                return signal
        return None

    def _signal(
        self,
        value: str,
        verdict: str,
        *,
        reason: str | None = None,
        problem: str | None = None,
        unreachable: bool = False,
    ) -> Signal:
        problems = (*self.problems, problem) if problem else self.problems
        return Signal("tdmrep.json", self.url, value, verdict, reason, evidence_record=self.record_id,
                      problems=problems, unreachable=unreachable)  # fmt: skip
