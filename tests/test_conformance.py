"""The public signal vectors (../shared/conformance) for the signals implemented so far.

Vectors of signals not implemented yet are skipped with the issue that brings them, so the count
of skips shows what is left to do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.assess import assess

VECTORS_FILE = (
    Path(__file__).resolve().parents[2] / "shared" / "conformance" / "signal_vectors.json"
)
IMPLEMENTED = {"robots-txt", "tdmrep-header", "tdmrep-html-meta", "x-robots-tag", "meta-robots"}


def _vectors() -> list:
    if not VECTORS_FILE.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{VECTORS_FILE} not present"))]
    params = []
    for vector in json.loads(VECTORS_FILE.read_text(encoding="utf-8")):
        marks = []
        if vector["signal"] not in IMPLEMENTED:
            marks.append(pytest.mark.skip(reason=f"{vector['signal']}: parser comes with issue #3"))
        params.append(pytest.param(vector, id=vector["id"], marks=marks))
    return params


def _inputs(vector: dict) -> dict:
    inputs = dict(vector["inputs"])
    size, offset = inputs.pop("robots_size_bytes", None), inputs.pop("rule_offset_bytes", None)
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
