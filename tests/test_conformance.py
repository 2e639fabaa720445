"""The public signal vectors (../shared/conformance/signal_vectors.json), one test each: the
reading, and the reason code the decision would carry (none unless the vector says reserved)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies import reasons
from policies.assess import assess
from tests.conftest import require

VECTORS_FILE = (
    Path(__file__).resolve().parents[2] / "shared" / "conformance" / "signal_vectors.json"
)
VECTOR_COUNT = 110  # the README promises this many: a vector lost from the file is a failure

# The reason code a reserved vector of each signal implies (README, "Reservation signals").
# Vectors that combine signals ("combined", "tdmrep-precedence") name no single code.
REASON_OF_SIGNAL = {
    "tdmrep-wellknown": reasons.TDMREP_RESERVED,
    "tdmrep-header": reasons.TDM_RESERVATION_HEADER,
    "tdmrep-html-meta": reasons.TDM_RESERVATION_META,
    "x-robots-tag": reasons.NOAI_HEADER,
    "meta-robots": reasons.NOAI_META,
    "aipref-content-usage-header": reasons.CONTENT_USAGE_RESERVED,
    "aipref-content-usage-robots": reasons.CONTENT_USAGE_RESERVED,
    "cloudflare-content-signal": reasons.CONTENT_SIGNAL_RESERVED,
    "spawning-ai-txt": reasons.AI_TXT_RESERVED,
    "rsl": reasons.RSL_RESERVED,
    "iptc-data-mining": reasons.IPTC_RESERVED,
    "c2pa-training-mining": reasons.C2PA_RESERVED,
}
# Where a vector's own note names another code: ap-r-04's path is disallowed for us by robots.txt
# ("not crawlable"), which is what excludes it.
REASON_OF_VECTOR = {"ap-r-04": reasons.ROBOTS_DISALLOWED}
# Codes that exclude without being a reservation reading (the vectors read them as "unknown"): a
# robots.txt group for AI-training agents (a profile's choice, README) and paywall markup (lawful
# access).
NOT_RESERVATIONS = {reasons.ROBOTS_AI_AGENT_DISALLOWED, reasons.PAYWALLED}


def _load() -> list[dict]:
    if not VECTORS_FILE.is_file():
        return []
    return json.loads(VECTORS_FILE.read_text(encoding="utf-8"))


VECTORS = _load()


def test_every_vector_is_here():
    require(VECTORS_FILE.is_file(), f"{VECTORS_FILE} not present")
    assert len(VECTORS) == VECTOR_COUNT
    assert len({v["id"] for v in VECTORS}) == VECTOR_COUNT  # one test each: ids are unique


def _inputs(vector: dict) -> dict:
    inputs = dict(vector["inputs"])
    size, offset = inputs.pop("robots_size_bytes", None), inputs.pop("rule_offset_bytes", None)
    inputs.pop("tdmrep_redirects", None)  # how the file was reached: redirects are followed
    if "tdmrep_json" in inputs:  # the vectors give it parsed; assess() takes the body as fetched
        inputs["tdmrep_json"] = json.dumps(inputs["tdmrep_json"])
    if "tdmrep_body" in inputs:
        inputs["tdmrep_json"] = inputs.pop("tdmrep_body")
    if size is not None:
        # The vector describes a large file: rebuild it, with its last group at `offset`.
        head, _, tail = inputs["robots_txt"].partition("# ... 600 KiB of rules ...\n")
        filler_line = "# padding " + "x" * 60 + "\n"
        filler = filler_line * ((offset - len(head)) // len(filler_line) + 1)
        text = head + filler
        text += tail + "#" * max(0, size - len(text) - len(tail) - 1) + "\n"
        assert len(text.encode()) >= size - 1 and text.index(tail) >= offset
        inputs["robots_txt"] = text
    return inputs


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector):
    inputs = _inputs(vector)
    assessment = assess(inputs.pop("url"), **inputs)
    context = (vector.get("note"), assessment.findings)
    assert assessment.verdict == vector["expected"], context
    if vector["expected"] != "reserved":
        assert set(assessment.reasons) <= NOT_RESERVATIONS, context
    elif code := REASON_OF_VECTOR.get(vector["id"], REASON_OF_SIGNAL.get(vector["signal"])):
        assert code in assessment.reasons, context
    else:
        assert assessment.reasons, context  # reserved: some code must say why
