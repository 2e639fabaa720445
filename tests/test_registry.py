"""Declared-reservation registries: the bundled example, matching, and errors with file and line."""

from __future__ import annotations

import pytest

from policies.registry import DECLARED_DIR, RegistryError, load_registry, parse_registry

HEADER = "scope,value,party,channel,source,date\n"


def test_bundled_example_loads_and_matches_only_example_domains():
    registry = load_registry([str(DECLARED_DIR)])
    assert registry.entries
    signal = registry.signal("https://cdn.films.example/trailer.mp4")
    assert signal.reason == "declared-reservation"
    assert signal.source == "policies/registries/declared/example.csv:7"
    assert "2026-05-04" in signal.value and "https://cmo.example/" in signal.value
    assert registry.signal("https://archive.example/press/2026/a.html") is not None
    assert registry.signal("https://archive.example/pressroom") is None
    assert registry.signal("https://notfilms.example/") is None


def test_domain_scope_covers_subdomains_and_idn():
    (entry,) = parse_registry(
        HEADER + "domain,bücher.example,P,notice,https://p.example/n,2026-01-02\n", "r.csv"
    )
    assert entry.value == "xn--bcher-kva.example"
    assert entry.covers("https://shop.xn--bcher-kva.example/x")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("domain,films.example,P,notice,https://p.example/n\n", "r.csv:3: 5 fields, expected 6"),
        (
            "site,films.example,P,notice,https://p.example/n,2026-01-02\n",
            "r.csv:3: scope must be one of",
        ),
        (
            "domain,films.example,P,notice,ftp://p.example/n,2026-01-02\n",
            "r.csv:3: source must be an http(s) URL",
        ),
        (
            "domain,films.example,P,notice,https://p.example/n,4 May 2026\n",
            "r.csv:3: date must be YYYY-MM-DD",
        ),
        (
            "domain,https://films.example/,P,notice,https://p.example/n,2026-01-02\n",
            "r.csv:3: a domain is a host",
        ),
        (
            "prefix,/film/,P,notice,https://p.example/n,2026-01-02\n",
            "r.csv:3: a prefix is an http(s) URL",
        ),
        ("domain,films.example,,notice,https://p.example/n,2026-01-02\n", "r.csv:3: missing party"),
    ],
)
def test_malformed_entry_names_file_and_line(line, message):
    text = "# a comment\n" + HEADER + line
    with pytest.raises(RegistryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_registry(text, "r.csv")


def test_wrong_header_and_missing_file(tmp_path):
    with pytest.raises(RegistryError, match="r.csv:1: the header must be"):
        parse_registry("domain,value\n", "r.csv")
    with pytest.raises(RegistryError, match="no such registry file or folder"):
        load_registry([str(tmp_path / "absent.csv")])
