"""Peer conformance suites for robots.txt: google/robotstxt, scrapy/protego and RFC 9309's
examples, every case that states an RFC 9309 access decision (tests/conformance/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.signals.robots import RobotsTxt

DATA = json.loads((Path(__file__).parent / "conformance" / "robots_cases.json").read_text("utf-8"))
CASES = DATA["cases"]
ROBOTS_URL = "https://www.example.com/robots.txt"


def test_every_case_is_here():
    # Regenerating the file with more (or fewer) cases must be a visible change.
    assert len(CASES) == DATA["case_count"] == 527
    assert len({case["id"] for case in CASES}) == len(CASES)
    origins = {case["id"].split("/", 1)[0] for case in CASES}
    assert origins == {"rfc9309", "google", "protego"}


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_access_decision(case):
    robots = RobotsTxt.from_fetch(
        ROBOTS_URL, case.get("status", 200), case["robots_txt"].encode("utf-8")
    )
    assert robots.allows(case["url"], case["user_agent"]) is case["allowed"], case["source"]
