"""The public signal vectors (../shared/conformance/signal_vectors.json), every one of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.assess import assess

VECTORS_FILE = (
    Path(__file__).resolve().parents[2] / "shared" / "conformance" / "signal_vectors.json"
)


def _vectors() -> list:
    if not VECTORS_FILE.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{VECTORS_FILE} not present"))]
    params = []
    for vector in json.loads(VECTORS_FILE.read_text(encoding="utf-8")):
        params.append(pytest.param(vector, id=vector["id"]))
    return params


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


@pytest.mark.parametrize("vector", _vectors())
def test_vector(vector):
    inputs = _inputs(vector)
    assessment = assess(inputs.pop("url"), **inputs)
    assert assessment.verdict == vector["expected"], (vector.get("note"), assessment.findings)
