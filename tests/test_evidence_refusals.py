"""Policy documents never carry reserved bytes into a WARC (issue #11 item 1.2).

robots.txt, tdmrep.json and ai.txt that redirect to (or are) responses reserving themselves, and a
robots.txt served from the loopback address a DNS answer pointed to after the guard's check: none
of their bytes is archived, each refusal is recorded as an `evidence` row, and the policy meaning
is the safe one (robots.txt obeyed in memory; the others as unreadable; loopback = unreachable).
"""

from __future__ import annotations

import pytest

from crawler.demo.server import SiteProcess
from pipelines.warc_writer import page_of
from tests.conftest import REPO, assert_consistent, run_crawl
from tests.sites import evidence as site

SECRETS = [
    site.ROBOTS_SECRET,
    site.TDMREP_SECRET,
    site.AI_TXT_SECRET,
    site.RSL_SECRET,
    site.LOOPBACK_SECRET,
]
REBINDING = {
    "ALLOW_PRIVATE_ADDRESSES": "false",
    "DNS_RESOLVER": "tests.rebinding.RebindingResolver",
}


@pytest.fixture(scope="module")
def evidence_site(tmp_path_factory):
    log = tmp_path_factory.mktemp("evidence-site") / "requests.jsonl"
    with SiteProcess("tests.sites.evidence", log_path=log, cwd=REPO) as served:
        yield served


def _paths(served, origin):
    return [r["path"] for r in served.requests() if r["origin"] == origin]


def _archived_bytes(result):
    return b"".join(body for *_, body in result.records())


def _assert_nothing_reserved_kept(result):
    archived = _archived_bytes(result)
    bodies = b"".join(body or b"" for (body,) in result.sql("SELECT body FROM evidence"))
    for secret in SECRETS:
        assert secret.encode() not in archived, secret
        assert secret.encode() not in bodies, secret


def _evidence(result, kind):
    return result.sql(
        "SELECT status, body, record_id, error FROM evidence WHERE kind = ? ORDER BY id", kind
    )


def test_a_robots_txt_that_reserves_itself_is_obeyed_but_not_archived(evidence_site, tmp_path):
    origin = evidence_site.origins["robots"]
    result = run_crawl(tmp_path, urls=[f"{origin}/"])
    assert result.returncode == 0, result.output
    assert result.decisions() == {
        f"{origin}/": ("kept", ()),
        f"{origin}/yes": ("kept", ()),
        f"{origin}/no": ("excluded", ("robots-disallowed",)),  # its rules, read in memory, apply
    }
    assert "/no" not in _paths(evidence_site, "robots")
    _assert_nothing_reserved_kept(result)
    ((status, body, record_id, error),) = _evidence(result, "robots.txt")
    assert (status, body, record_id) == ("200", None, None)
    assert "refused (noai-header)" in error and "/rules.txt reserves itself" in error
    assert "'policy/evidence/robots.txt/refused/noai-header': 1" in result.output
    targets = {
        page_of(h["WARC-Target-URI"]) for *_, h, _ in result.records() if "WARC-Target-URI" in h
    }
    assert not {f"{origin}/robots.txt", f"{origin}/rules.txt"} & targets
    assert_consistent(result.warc_dir, f"sqlite:///{result.db_path}")


@pytest.mark.parametrize(
    ("profile", "outcome"),
    [
        ("strict", ("excluded", ("policy-error",))),  # unreadable policy files fail closed
        ("us", ("kept", ())),  # this profile does not fail closed: the page's own signals decide
    ],
)
def test_tdmrep_json_ai_txt_and_licences_that_reserve_themselves_are_read_as_unreadable(
    evidence_site, tmp_path, profile, outcome
):
    origin = evidence_site.origins["files"]
    result = run_crawl(tmp_path, urls=[f"{origin}/"], settings={"POLICY_PROFILE": profile})
    # 3: the only seed was refused before fetching (no page fetched).
    assert result.returncode == (3 if outcome[0] == "excluded" else 0), result.output
    assert result.decisions() == {f"{origin}/": outcome}
    _assert_nothing_reserved_kept(result)
    ((status, body, record_id, error),) = _evidence(result, "tdmrep.json")
    assert (status, body, record_id) == ("200", None, None)
    assert "refused (tdm-reservation-meta)" in error and "/tdm-page reserves itself" in error
    ((status, body, record_id, error),) = _evidence(result, "rsl")
    assert (status, body, record_id) == ("200", None, None)
    assert "refused (noai-header)" in error and "/licence-page reserves itself" in error
    if profile == "strict":  # the only one of the two that reads ai.txt
        ((status, body, record_id, error),) = _evidence(result, "ai.txt")
        assert (status, body, record_id) == ("200", None, None)
        assert "refused (content-usage-reserved)" in error
    # robots.txt reserves nothing: archived as before.
    assert _evidence(result, "robots.txt")[0][2] is not None


def test_a_policy_document_from_a_private_connected_address_is_neither_archived_nor_used(
    evidence_site, tmp_path
):
    loopback_port = evidence_site.origins["loopback"].rsplit(":", 1)[1]
    hop_port = evidence_site.origins["hop"].rsplit(":", 1)[1]
    loopback = f"http://loopback.rebind.test:{loopback_port}"
    hop = f"http://hop.rebind.test:{hop_port}"
    result = run_crawl(tmp_path, urls=[f"{loopback}/", f"{hop}/"], settings=REBINDING)
    assert result.returncode == 3, result.output  # no page fetched
    # Unreachable robots.txt: RFC 9309 §2.3.1.4, complete disallow; the pages are never asked for.
    assert result.decisions() == {
        f"{loopback}/": ("excluded", ("robots-unreachable",)),
        f"{hop}/": ("excluded", ("robots-unreachable",)),
    }
    assert _paths(evidence_site, "loopback") == ["/robots.txt"]
    assert _paths(evidence_site, "hop") == ["/robots.txt"]  # the hop to 127.0.0.1 is not taken
    _assert_nothing_reserved_kept(result)
    assert not [h for *_, h, _ in result.records() if h.get("WARC-Type") == "response"]
    rows = {
        url: (status, body, record_id, error)
        for url, status, body, record_id, error in (
            result.sql("SELECT url, status, body, record_id, error FROM evidence")
        )
    }
    status, body, record_id, error = rows[f"{loopback}/robots.txt"]
    assert (status, body, record_id) == ("200", None, None)
    assert error.startswith("refused (private-address): connected to 127.0.0.1")
    status, body, record_id, error = rows[f"{hop}/robots.txt"]
    assert (status, body, record_id) == ("network-error", None, None)
    # The 302 itself came from 127.0.0.1: its Location is not followed at all.
    assert (
        error
        == f"refused (private-address): {hop}/robots.txt redirected from 127.0.0.1: not followed"
    )
    assert "'policy/evidence/robots.txt/refused/private-address': 2" in result.output
