"""tdm-reservation and noai in headers and HTML meta (policies.signals)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from policies import reasons
from policies.signals.html_meta import extract_meta
from policies.signals.tdmrep import tdm_reservation_signals
from policies.signals.x_robots_tag import noai_signals


def _reasons(signals):
    return [s.reason for s in signals if s.reason]


def test_tdm_reservation_header_1_reserves():
    assert _reasons(tdm_reservation_signals([("TDM-Reservation", " 1 ")])) == [
        reasons.TDM_RESERVATION_HEADER
    ]


def test_tdm_reservation_invalid_value_is_unset_with_problem():
    (signal,) = tdm_reservation_signals([("tdm-reservation", "yes")])
    assert signal.verdict == "unknown" and signal.reason is None and signal.problems


def test_tdm_reservation_repeated_header_lines_combine_into_an_invalid_value():
    (signal,) = tdm_reservation_signals([("tdm-reservation", "1"), ("tdm-reservation", "0")])
    assert signal.value == "1, 0" and signal.verdict == "unknown"


def test_html_meta_supersedes_header():
    meta = extract_meta('<meta name="tdm-reservation" content="0">')
    signals = tdm_reservation_signals([("tdm-reservation", "1")], meta)
    assert _reasons(signals) == []
    assert signals[0].problems  # the superseded header says so


def test_absent_or_invalid_meta_does_not_reset_header():
    meta = extract_meta('<meta name="tdm-reservation" content="maybe">')
    assert _reasons(tdm_reservation_signals([("tdm-reservation", "1")], meta)) == [
        reasons.TDM_RESERVATION_HEADER
    ]


def test_meta_tdm_reservation_reserves():
    meta = extract_meta('<html><head><META NAME="TDM-Reservation" CONTENT="1"></head></html>')
    assert _reasons(tdm_reservation_signals([], meta)) == [reasons.TDM_RESERVATION_META]


def test_x_robots_tag_noai_in_a_comma_list_case_insensitive():
    signals = noai_signals([("X-Robots-Tag", "noindex, NoImageAI")], token="rightscrawl")
    assert _reasons(signals) == [reasons.NOAI_HEADER]


def test_x_robots_tag_scoped_to_another_agent_does_not_apply():
    assert noai_signals([("X-Robots-Tag", "otherbot: noindex, noai")], token="rightscrawl") == []


def test_x_robots_tag_scoped_to_us_applies():
    signals = noai_signals(
        [("x-robots-tag", "otherbot: all, RightsCrawl: noai")], token="rightscrawl"
    )
    assert _reasons(signals) == [reasons.NOAI_HEADER]


def test_x_robots_tag_valued_rule_is_not_a_scope():
    signals = noai_signals([("X-Robots-Tag", "max-snippet: 20, noai")], token="rightscrawl")
    assert _reasons(signals) == [reasons.NOAI_HEADER]


def test_meta_robots_and_meta_for_our_token():
    meta = extract_meta(
        '<meta name="robots" content="noindex"><meta name="gptbot" content="noai">'
        '<meta name="RightsCrawl" content="noimageai">'
    )
    signals = noai_signals([], meta, token="rightscrawl")
    assert [(s.source, s.reason) for s in signals] == [
        ("html:meta[name=rightscrawl]", reasons.NOAI_META)
    ]


def test_noindex_is_not_a_reservation():
    meta = extract_meta('<meta name="robots" content="noindex, nofollow, noarchive">')
    assert noai_signals([("X-Robots-Tag", "none")], meta, token="rightscrawl") == []


@given(st.text(max_size=500))
def test_meta_extraction_never_raises(markup):
    for name, _content in extract_meta(markup):
        assert name == name.lower()


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["X-Robots-Tag", "tdm-reservation", "Other"]), st.text(max_size=80)
        )
    )
)
def test_header_parsers_never_raise(headers):
    for signal in [*tdm_reservation_signals(headers), *noai_signals(headers, token="rightscrawl")]:
        assert signal.verdict in ("reserved", "not_reserved", "unknown")


def test_tdm_reservation_repeated_with_the_same_value_keeps_it():
    (signal,) = tdm_reservation_signals([("tdm-reservation", "1"), ("TDM-Reservation", "1")])
    assert signal.reason == reasons.TDM_RESERVATION_HEADER and signal.problems


def test_tdm_policy_is_recorded_as_the_licensing_contact():
    """TDMRep `tdm-policy` (field, meta, tdmrep.json rule): recorded, never a reservation."""
    from policies.assess import assess

    found = assess(
        "https://example.org/a",
        headers=[("tdm-policy", "https://example.org/h.json")],
        html='<meta name="tdm-policy" content="https://example.org/m.json"><p>x</p>',
        tdmrep_json='[{"location": "/", "tdm-reservation": 0,'
        ' "tdm-policy": "https://example.org/f.json"}]',
        tdmrep_status=200,
    )
    policies = {(f.source, f.value) for f in found.findings if f.kind == "tdm-policy"}
    assert policies == {
        ("header:tdm-policy", "https://example.org/h.json"),
        ("html:meta[name=tdm-policy]", "https://example.org/m.json"),
    }
    rule = next(f for f in found.findings if f.kind == "tdmrep.json")
    assert json.loads(rule.value)["tdm-policy"] == "https://example.org/f.json"
    assert found.verdict == "not_reserved"
