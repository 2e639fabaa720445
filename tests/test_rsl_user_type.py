"""RSL 1.0 `type="user"` (issue #13 item 6): a licence is for some users only. One case per rule,
read by `rsl_signal` with the crawling party's user type (RSL_USER_TYPE, default `commercial`)."""

from __future__ import annotations

import pytest

from policies import reasons
from policies.signals.rsl import DEFAULT_USER_TYPE, USER_TYPES, rsl_signal

URL = "https://pub.example/article"


def _doc(*licences: str, server: str = "") -> str:
    attribute = f' server="{server}"' if server else ""
    body = "".join(f"<license>{licence}</license>" for licence in licences)
    return f'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"{attribute}>{body}</content></rsl>'


TRAIN = '<permits type="usage">train-ai</permits>'
NO_TRAIN = '<prohibits type="usage">ai-all</prohibits>'


def _user(kind: str, tokens: str) -> str:
    return f'<{kind} type="user">{tokens}</{kind}>'


# (id, document, user type, verdict, reason, value contains)
CASES = [
    ("no-user-terms-is-for-everyone", _doc(TRAIN), "commercial", "not_reserved", None, "train-ai"),
    ("permits-lists-our-type", _doc(TRAIN + _user("permits", "commercial")), "commercial",
     "not_reserved", None, "train-ai"),
    ("permits-without-our-type-is-not-ours",
     _doc(TRAIN + _user("permits", "non-commercial education")), "commercial",
     "reserved", reasons.RSL_RESERVED, "user type commercial"),
    ("permits-comma-list", _doc(TRAIN + _user("permits", "education,non-commercial")),
     "non-commercial", "not_reserved", None, "train-ai"),
    ("prohibits-lists-our-type", _doc(TRAIN + _user("prohibits", "commercial")), "commercial",
     "reserved", reasons.RSL_RESERVED, "user type commercial"),
    ("prohibits-another-type", _doc(TRAIN + _user("prohibits", "commercial")), "personal",
     "not_reserved", None, "train-ai"),
    ("empty-permits-permits-nobody", _doc(TRAIN + _user("permits", "")), "personal",
     "reserved", reasons.RSL_RESERVED, "user type personal"),
    ("tokens-are-case-insensitive", _doc(TRAIN + _user("prohibits", "Commercial")), "commercial",
     "reserved", reasons.RSL_RESERVED, "user type"),
    # Several licences: only those for us are read; their usage terms decide.
    ("the-licence-for-us-is-read",
     _doc(TRAIN + _user("permits", "non-commercial"), NO_TRAIN + _user("permits", "commercial")),
     "commercial", "reserved", reasons.RSL_RESERVED, "ai-all"),
    ("the-other-licence-is-not-read",
     _doc(TRAIN + _user("permits", "non-commercial"), NO_TRAIN + _user("permits", "commercial")),
     "non-commercial", "not_reserved", None, "train-ai"),
    ("no-licence-for-us-among-several",
     _doc(TRAIN + _user("permits", "education"), TRAIN + _user("permits", "government")),
     "commercial", "reserved", reasons.RSL_RESERVED, "user type commercial"),
    # A licence server for a licence that is not for us: nothing to obtain, reserved.
    ("server-and-not-for-us", _doc(_user("prohibits", "commercial"), server="https://l.example/"),
     "commercial", "reserved", reasons.RSL_RESERVED, "user type"),
    ("server-and-for-us", _doc(_user("permits", "commercial"), server="https://l.example/"),
     "commercial", "reserved", reasons.RSL_LICENSE_REQUIRED, "server="),
    # Other `type` values (geo …) are not user types.
    ("geo-is-not-a-user-type", _doc(TRAIN + '<prohibits type="geo">commercial</prohibits>'),
     "commercial", "not_reserved", None, "train-ai"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("document", "user_type", "verdict", "reason", "says"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_user_type_rule(document, user_type, verdict, reason, says):
    signal = rsl_signal(URL, document, user_type=user_type)
    assert (signal.verdict, signal.reason) == (verdict, reason)
    assert says in signal.value


def test_the_default_user_type_is_commercial():
    # A licence for non-commercial users only is no licence for a party that did not say it is one.
    assert DEFAULT_USER_TYPE == "commercial" and DEFAULT_USER_TYPE in USER_TYPES
    signal = rsl_signal(URL, _doc(TRAIN + _user("permits", "non-commercial")))
    assert signal.reason == reasons.RSL_RESERVED
