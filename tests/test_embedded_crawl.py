"""A crawl of media whose rights are embedded in the files (tests/sites/media.py): C2PA manifests,
XMP / IPTC / EXIF, noimageai. Exact decision set, reserved bytes never in a WARC file, and
`scrapy verify` passes. The files are seeds (link following for media is the collect setting's)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from policies import reasons
from tests.conftest import http_payload, read_records, require_module, run_crawl, scrapy_command
from tests.sites.media import LICENCE, files, marker

RESERVED = {
    "/c2pa-reserved.jpg": reasons.C2PA_RESERVED,
    "/c2pa-reserved.pdf": reasons.C2PA_RESERVED,
    "/c2pa-corrupt.jpg": reasons.POLICY_ERROR,
    "/iptc-reserved.jpg": reasons.IPTC_RESERVED,
    "/tdm-reserved.png": reasons.TDMREP_RESERVED,
    "/noimageai.jpg": reasons.NOAI_HEADER,
}
KEPT_FILES = ["/c2pa-allowed.png", "/credited.jpg"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_module("pyexiv2", "pyexiv2 writes the XMP/IPTC fixtures: pip install -e '.[test]'")
    from tests.conftest import site_process

    with site_process("tests.sites.media", tmp_path_factory.mktemp("media")) as process:
        yield process


@pytest.fixture(scope="module")
def crawl(site, tmp_path_factory):
    base = site.origins["media"]
    seeds = [f"{base}/", *(f"{base}{path}" for path in files())]
    result = run_crawl(tmp_path_factory.mktemp("crawl"), urls=seeds)
    assert result.returncode == 0, result.output
    return result


def test_each_file_is_decided_on_its_own_embedded_rights(crawl, site):
    base = site.origins["media"]
    expected = {
        f"{base}/": ("kept", ()),
        f"{base}/page-noimageai": ("kept", ()),  # noimageai reserves images, not pages
        f"{base}/noai-page": ("excluded", (reasons.NOAI_HEADER,)),
        **{f"{base}{path}": ("kept", ()) for path in KEPT_FILES},
        **{f"{base}{path}": ("excluded", (reason,)) for path, reason in RESERVED.items()},
    }
    assert crawl.decisions() == expected


def _detail(crawl, url: str) -> dict:
    (row,) = crawl.sql("SELECT detail FROM decisions WHERE url = ?", url)
    return json.loads(row[0])


def test_findings_carry_validation_problems_and_licence(crawl, site):
    base = site.origins["media"]
    reserved = _detail(crawl, f"{base}/c2pa-reserved.jpg")
    (c2pa,) = [s for s in reserved["signals"] if s["kind"] == "c2pa-training-mining"]
    assert c2pa["validation"] == "untrusted" and c2pa["reason"] == reasons.C2PA_RESERVED
    corrupt = _detail(crawl, f"{base}/c2pa-corrupt.jpg")
    (unread,) = [s for s in corrupt["signals"] if s["kind"] == "c2pa"]
    assert unread["problems"][0].startswith("not read whole: c2pa-rs: ")
    credited = _detail(crawl, f"{base}/credited.jpg")
    assert credited["license"] == LICENCE
    licences = {s["source"] for s in credited["signals"] if s["kind"] == "license"}
    assert licences == {"xmp:xmpRights:WebStatement", "iptc-iim:2:116", "exif:Copyright"}
    page = _detail(crawl, f"{base}/page-noimageai")
    assert {
        s["verdict"] for s in page["signals"] if s["kind"] in ("x-robots-tag", "meta-robots")
    } == {"unknown"}


def test_reserved_bytes_never_reach_a_warc_file_and_kept_ones_are_as_served(crawl, site):
    base = site.origins["media"]
    stored = b"".join(body for *_, body in crawl.records())
    for path in [*RESERVED, "/noai-page"]:
        assert marker(path) not in stored, path
    responses = {
        headers["WARC-Target-URI"]: http_payload(block)
        for _, _, headers, block in read_records(crawl.warc_files(), blocks=True)
        if headers["WARC-Type"] == "response"
    }
    for path in KEPT_FILES:
        with urllib.request.urlopen(f"{base}{path}", timeout=10) as answer:
            served = answer.read()
        assert marker(path) in served  # the marker is there to be found
        assert responses[f"{base}{path}"] == served


def test_verify_passes(crawl):
    result = scrapy_command(
        "verify", "--warc-dir", str(crawl.warc_dir), "--db", f"sqlite:///{crawl.db_path}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
