"""Profiles load from TOML and pin their sha256; decide() applies them."""

from __future__ import annotations

import hashlib

import pytest

from policies import reasons
from policies.engine import decide
from policies.evidence import Signal
from policies.profile import PROFILES_DIR, ProfileError, available_profiles, load_profile

RESERVED = Signal(
    "tdm-reservation-header",
    "header:tdm-reservation",
    "1",
    "reserved",
    reasons.TDM_RESERVATION_HEADER,
)
ALLOWED = Signal("robots.txt", "https://example.org/robots.txt", "status 200; parsed", "allowed")


def test_strict_is_bundled_and_pinned_by_sha256():
    profile = load_profile("strict")
    assert "strict" in available_profiles()
    assert profile.sha256 == hashlib.sha256((PROFILES_DIR / "strict.toml").read_bytes()).hexdigest()
    assert profile.ref.profile == "strict"


def test_unknown_profile_names_the_available_ones():
    with pytest.raises(ProfileError, match="Unknown policy profile 'nope'.*strict"):
        load_profile("nope")


def test_profile_from_path(tmp_path):
    path = tmp_path / "lenient.toml"
    path.write_text('name = "lenient"\n[reservations]\nnoai-meta = false\n')
    profile = load_profile(str(path))
    assert profile.name == "lenient"
    assert not profile.honours(reasons.NOAI_META)
    assert profile.honours(reasons.ROBOTS_DISALLOWED)  # never optional


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name = ", "not valid TOML"),
        ('title = "no name"', "'name' must be"),
        ('name = "x"\ncolour = "red"', "unknown keys"),
        (
            'name = "x"\n[reservations]\nrobots-disallowed = false',
            "not a reason a profile can switch",
        ),
        ('name = "x"\n[reservations]\nnoai-meta = "yes"', "must be true or false"),
    ],
)
def test_invalid_profile_file_is_an_error_naming_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ProfileError, match=message):
        load_profile(str(path))


def test_missing_profile_file(tmp_path):
    with pytest.raises(ProfileError, match="Cannot read"):
        load_profile(str(tmp_path / "absent.toml"))


def test_decide_keeps_when_nothing_reserves():
    decision = decide(
        "https://example.org/", [ALLOWED], profile=load_profile("strict"), stage="after-fetch"
    )
    assert decision.kept and decision.reasons == ()
    assert decision.to_provenance("run")["signals"][0]["kind"] == "robots.txt"


def test_decide_excludes_on_an_honoured_signal_and_dedupes_reasons():
    decision = decide(
        "https://example.org/",
        [ALLOWED, RESERVED, RESERVED],
        profile=load_profile("strict"),
        stage="after-fetch",
        extra_reasons=[reasons.HTTP_ERROR],
    )
    assert decision.outcome == "excluded"
    assert decision.reasons == (reasons.TDM_RESERVATION_HEADER, reasons.HTTP_ERROR)


def test_decide_ignores_a_signal_the_profile_does_not_honour(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('name = "p"\n[reservations]\ntdm-reservation-header = false\n')
    decision = decide(
        "https://example.org/", [RESERVED], profile=load_profile(str(path)), stage="after-fetch"
    )
    assert decision.kept
    assert decision.signals == (RESERVED,)  # still recorded


def test_provenance_json_has_the_documented_fields():
    decision = decide(
        "https://example.org/", [RESERVED], profile=load_profile("strict"), stage="after-fetch"
    )
    data = decision.to_provenance("run-1")
    assert set(data) >= {
        "url",
        "decided_at",
        "outcome",
        "reasons",
        "policy",
        "signals",
        "access",
        "license",
        "run_id",
    }
    assert data["policy"] == {"profile": "strict", "sha256": load_profile("strict").sha256}
    assert data["decided_at"].endswith("Z")


def test_lenient_reservations_is_set_where_the_issue_asks_and_must_be_a_boolean(tmp_path):
    lenient = {name for name in available_profiles() if load_profile(name).lenient_reservations}
    assert lenient == {"strict", "eu-dsm-art4", "vn-decree-134-2026", "cn-genai"}
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\nlenient_reservations = "yes"\n')
    with pytest.raises(ProfileError, match="lenient_reservations"):
        load_profile(str(path))


def test_a_lenient_reading_excludes_only_under_a_lenient_profile_and_is_recorded():
    lax = Signal(
        "content-usage-header",
        "header:content-usage",
        "Train-AI=n",
        "unknown",
        problems=("not a structured-field dictionary",),
        lenient_reason=reasons.CONTENT_USAGE_RESERVED,
    )
    strict = decide("https://e.org/", [lax], profile=load_profile("strict"), stage="after-fetch")
    us = decide("https://e.org/", [lax], profile=load_profile("us"), stage="after-fetch")
    assert strict.reasons == (reasons.CONTENT_USAGE_RESERVED,) and us.reasons == ()
    assert strict.detail["lenient_reservations"] == [
        {
            "kind": "content-usage-header",
            "source": "header:content-usage",
            "value": "Train-AI=n",
            "reason": reasons.CONTENT_USAGE_RESERVED,
        }
    ]
    assert "lenient_reservations" not in us.detail
