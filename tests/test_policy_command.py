"""`scrapy policy list | show | explain`, run as a user runs them."""

from __future__ import annotations

import subprocess

import pytest

from policies.profile import available_profiles
from tests.conftest import log_length, requests_since, scrapy_command


def _scrapy(*args: str) -> subprocess.CompletedProcess:
    return scrapy_command("policy", *args)


def _explain(tmp_path, url: str) -> subprocess.CompletedProcess:
    """`policy explain URL`, its corpus settings pointed into tmp_path: should it ever write
    something, that lands there (and is caught below), never in the working tree's data/."""
    return _scrapy(
        "explain", url, "-s", "ALLOW_PRIVATE_ADDRESSES=true",
        "-s", f"WARC_DIR={tmp_path / 'warc'}",
        "-s", f"PROVENANCE_DB_URL=sqlite:///{tmp_path / 'provenance.sqlite'}",
    )  # fmt: skip


def test_list_names_every_profile():
    result = _scrapy("list")
    assert result.returncode == 0, result.stderr
    for name in available_profiles():
        assert name in result.stdout


def test_show_states_legal_basis_and_rules():
    result = _scrapy("show", "eu-dsm-art3")
    assert result.returncode == 0, result.stderr
    assert "Directive (EU) 2019/790 art. 2(1), 2(3), 3 and 7(1)" in result.stdout
    assert "Excludes on: (no reservation signal)" in result.stdout
    assert _scrapy("show", "no-such").returncode == 1


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/reserved/noai-meta",
            [
                "meta-robots",
                "html:meta[name=robots]",
                "excludes: noai-meta",
                "EXCLUDED (noai-meta), after-fetch",
            ],
        ),
        (
            "/private/secret",
            ["excludes: robots-disallowed", "EXCLUDED (robots-disallowed), before-fetch"],
        ),
        ("/articles/1", ["robots.txt", "Decision: KEPT"]),
    ],
)
def test_explain_traces_the_decision(gate_site, tmp_path, path, expected):
    before = log_length(gate_site)
    result = _explain(tmp_path, f"{gate_site.origins['main']}{path}")
    assert result.returncode == 0, result.stdout + result.stderr
    for text in expected:
        assert text in result.stdout
    assert sorted(p.name for p in tmp_path.rglob("*")) == []  # "it writes nothing"
    requested = [r["path"] for r in requests_since(gate_site, before) if r["origin"] == "main"]
    if path == "/private/secret":
        assert path not in requested
    else:
        assert path in requested


def test_explain_rejects_a_bad_url():
    result = _scrapy("explain", "ftp://example.org/")
    assert result.returncode == 2
    assert "only http and https" in result.stderr
