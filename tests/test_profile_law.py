"""What the profiles say of the law, and the start-up warning when a profile that expects a list
of infringing sites runs with only the example list."""

from __future__ import annotations

import pytest

from policies.profile import load_profile
from tests.conftest import run_crawl

WARNING = "expects a list of infringing sites to exclude, but names only the example list"


@pytest.mark.parametrize(
    ("profile", "warns"),
    [("eu-dsm-art4", True), ("vn-decree-134-2026", True), ("strict", False), ("us", False)],
)
def test_a_profile_expecting_a_blocklist_warns_when_it_has_only_the_example(
    gate_site, tmp_path, profile, warns
):
    crawl = run_crawl(
        tmp_path,
        urls=[f"{gate_site.origins['open']}/about"],
        settings={"POLICY_PROFILE": profile, "LOG_LEVEL": "INFO"},
    )
    assert crawl.returncode == 0, crawl.output
    assert (WARNING in crawl.output) is warns


def test_a_profile_file_with_a_real_blocklist_does_not_warn(tmp_path):
    listing = tmp_path / "watch-list.csv"
    listing.write_text("scope,value,party,channel,source,date\n")
    source = load_profile("eu-dsm-art4").path.read_text()
    own = tmp_path / "eu-own.toml"
    own.write_text(source.replace('blocklists = ["example.csv"]', f'blocklists = ["{listing}"]'))
    assert load_profile("eu-dsm-art4").lacks_a_blocklist
    assert not load_profile(str(own)).lacks_a_blocklist


def test_the_profiles_cite_the_current_texts():
    vn = load_profile("vn-decree-134-2026")
    basis = " ".join(vn.legal_basis)
    assert "131/2025/QH15" in basis and "art. 7(5)" in basis
    assert "1 April 2026" in basis and "9 April 2026" in basis  # sources disagree: both cited
    assert "cannot decide" in vn.description
    assert "GB/T 45654-2025" in " ".join(load_profile("cn-genai").legal_basis)
    jp = load_profile("jp-art-30-4")
    assert "likely" not in jp.description and "may unreasonably prejudice" in jp.description
    assert jp.honours("rsl-license-required") and jp.honours("rsl-reserved")
    assert "pre-publication" in " ".join(load_profile("us").legal_basis)
