"""Works-level declared reservations (registry scopes owner, identifier, iscc): matched after
fetching against what a document says of itself, on any site; and `scrapy recheck` applying a
registry entry added after the crawl to the stored payloads, without refetching and without
withdrawing anything because an origin is down."""

from __future__ import annotations

import json

import pytest

from policies import content_code, identifiers, reasons
from policies.registry import RegistryError, parse_registry
from policies.works import Claim, WorkClaims, name_key
from tests.conftest import (
    LOOPBACK_SETTINGS,
    require_module,
    run_crawl,
    scrapy_command,
    site_process,
)
from tests.sites import works as site_module

HEADER = "scope,value,party,channel,source,date"
NOTICE = "VAFC,public notice by a CMO,https://notice.example/2026,2026-06-20"


# -- identifiers and names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("isbn:0-306-40615-2", "isbn:9780306406157"),  # ISBN-10 → 13, check digit again
        ("ISBN:978-0-306-40615-7", "isbn:9780306406157"),
        ("urn:isbn:9780306406157", "isbn:9780306406157"),
        ("isbn:0-306-40615-3", None),  # wrong check digit
        ("doi:10.1000/ABC.def", "doi:10.1000/abc.def"),
        ("https://doi.org/10.1000/ABC", "doi:10.1000/abc"),
        ("issn:0317-8471", "issn:03178471"),
        ("issn:0317-8472", None),
        ("isan:0000-0000-3A8D-0000-Z-0000-0000-6", "isan:000000003A8D0000"),
        ("isrc:US-S1Z-99-00001", "isrc:USS1Z9900001"),
        ("iswc:T-034.524.680-1", "iswc:T0345246801"),
        ("ark:/12148/x", None),
    ],
)
def test_identifier_normalisation(written, normal):
    assert identifiers.normalise(written) == normal


def test_owner_names_compare_without_case_width_or_punctuation_but_with_diacritics():
    assert name_key("  HÃNG   Phim, Ánh Sáng ") == name_key("hãng phim ánh sáng")
    assert name_key("ＳＴＵＤＩＯ") == name_key("studio")  # NFKC: full-width letters
    assert name_key("Hãng Phim") != name_key("Hang Phim")
    assert name_key("Hãng Phim Đông", fold_diacritics=True) == "hang phim dong"


def _registry(*rows: str, header: str = HEADER):
    from policies.registry import Registry

    return Registry(parse_registry("\n".join([header, *rows]), "test.csv"))


def test_owner_entry_matches_a_name_field_whole_and_a_rights_statement_by_its_words():
    registry = _registry(f"owner,Studio Example,{NOTICE}")
    whole = WorkClaims(owners=(Claim("json-ld:author", "studio  EXAMPLE"),))
    partial = WorkClaims(owners=(Claim("json-ld:author", "Studio Example Fan Club"),))
    statement = WorkClaims(
        owners=(Claim("exif:Copyright", "© 2026 Studio Example. All rights reserved.", True),)
    )
    assert [s.source for s in registry.work_signals(whole)] == ["test.csv:2"]
    assert registry.work_signals(partial) == []
    (signal,) = registry.work_signals(statement)
    assert signal.reason == reasons.DECLARED_RESERVATION
    assert "VAFC (public notice by a CMO, 2026-06-20): https://notice.example/2026" in signal.value
    assert "exif:Copyright" in signal.value


def test_diacritics_are_folded_only_where_the_entry_says_so():
    header = HEADER + ",match"
    plain = WorkClaims(owners=(Claim("meta:author", "Hang Phim Anh Sang"),))
    exact = _registry(f"owner,Hãng Phim Ánh Sáng,{NOTICE},", header=header)
    folded = _registry(f"owner,Hãng Phim Ánh Sáng,{NOTICE},fold-diacritics", header=header)
    assert exact.work_signals(plain) == []
    assert len(folded.work_signals(plain)) == 1


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"identifier,isbn:0-306-40615-3,{NOTICE}", "test.csv:2: an identifier is"),
        (f"identifier,0306406152,{NOTICE}", "test.csv:2: an identifier is"),
        (f"iscc,ISCC:KACYPXW445FTYNJ3,{NOTICE}", "test.csv:2: an iscc entry is"),
        (f"owner,--,{NOTICE}", "test.csv:2: an owner is a name"),
        (f"domain,films.example,{NOTICE},fold-diacritics", "test.csv:2: match=fold-diacritics"),
    ],
)
def test_malformed_works_entries_name_file_and_line(row, message):
    header = HEADER + (",match" if row.count(",") == 6 else "")
    with pytest.raises(RegistryError, match=message):
        parse_registry(f"{header}\n{row}", "test.csv")


def test_iscc_entry_matches_within_the_documented_distance_only():
    original = content_code.image_code(site_module.still())
    assert original is not None
    registry = _registry(f"iscc,{original},{NOTICE}")
    copy = content_code.image_code(site_module.reencoded())
    other = content_code.image_code(site_module.other_image())
    assert len(registry.work_signals(WorkClaims(), copy)) == 1
    assert registry.work_signals(WorkClaims(), other) == []
    # one bit past the distance misses; at the distance matches
    import iscc_core

    kind, bits = content_code.parse(original)

    def flipped(count: int) -> str:
        value = bits ^ ((1 << count) - 1)
        return "ISCC:" + iscc_core.encode_component(
            iscc_core.MT.CONTENT, iscc_core.ST_CC.IMAGE, 0, 64, value.to_bytes(8, "big")
        )

    assert registry.code_entry(flipped(content_code.MAX_DISTANCE))[1] == content_code.MAX_DISTANCE
    assert registry.code_entry(flipped(content_code.MAX_DISTANCE + 1)) is None


# -- crawls ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_module("pyexiv2", "pyexiv2 writes the XMP fixtures: pip install -e '.[test]'")
    require_module("ebooklib", "ebooklib writes the EPUB fixture: pip install -e '.[test]'")
    require_module("fpdf", "fpdf2 writes the PDF fixture: pip install -e '.[test]'")
    with site_process("tests.sites.works", tmp_path_factory.mktemp("works")) as process:
        yield process


def seeds(site) -> list[str]:
    o = site.origins
    return [
        f"{o['fansite']}/still", f"{o['fansite']}/still.jpg", f"{o['fansite']}/about",
        f"{o['fansite']}/other.jpg", f"{o['mirror']}/copy.jpg", f"{o['bookshop']}/river",
        f"{o['bookshop']}/river.epub", f"{o['bookshop']}/notes.pdf", f"{o['bookshop']}/other",
    ]  # fmt: skip


def works_registry(path) -> None:
    """The notices: the studio by name, the book by its ISBN-10, the still by its ISCC."""
    still = content_code.image_code(site_module.still())
    path.write_text(
        "\n".join([
            HEADER,
            f"owner,{site_module.STUDIO},{NOTICE}",
            f"identifier,isbn:{site_module.ISBN_10},{NOTICE}",
            f"iscc,{still},{NOTICE}",
        ]) + "\n",
        encoding="utf-8",
    )  # fmt: skip


def _declared(crawl, url: str) -> list[dict]:
    rows = crawl.sql("SELECT detail FROM decisions WHERE url = ? AND stage != 'withdrawal'", url)
    signals = json.loads(rows[-1][0])["signals"]
    return [s for s in signals if s["kind"] == "declared-reservation"]


def test_iscc_codes_read_as_iscc_core_decodes_them():
    """The registry reads the usual 64-bit unit directly (fast); every form must read as
    iscc-core's own decoder reads it: kind, body, and None for what is not a content code."""
    import random

    import iscc_core

    def decoded(code: str) -> tuple[str, int] | None:
        try:
            main, sub, _, _, body = iscc_core.iscc_decode(iscc_core.iscc_normalize(code.strip()))
        except Exception:  # noqa: BLE001
            return None
        kinds = {iscc_core.ST_CC.TEXT: "text", iscc_core.ST_CC.IMAGE: "image"}
        if main != iscc_core.MT.CONTENT or len(body) != 8 or sub not in kinds:
            return None
        return kinds[sub], int.from_bytes(body, "big")

    rng = random.Random(15)
    seen = set()
    for _ in range(400):
        main = rng.choice((iscc_core.MT.CONTENT, iscc_core.MT.META, iscc_core.MT.DATA))
        sub, bits = rng.choice((0, 1, 2, 3)), rng.choice((64, 64, 128))
        unit = iscc_core.encode_component(
            main, sub, 0, bits, rng.getrandbits(bits).to_bytes(bits // 8, "big")
        )
        for code in (f"ISCC:{unit}", f" ISCC:{unit}\n", f"iscc:{unit.lower()}", unit):
            assert content_code.parse(code) == decoded(code), code
            seen.add(decoded(code) and decoded(code)[0])
    assert seen == {None, "text", "image"}
    assert content_code.parse("ISCC:EAAQAAICAMCAKBQ") is None  # one character short


def test_works_entries_exclude_the_work_wherever_it_is_published(site, tmp_path):
    registry = tmp_path / "works.csv"
    works_registry(registry)
    crawl = run_crawl(
        tmp_path / "crawl",
        urls=seeds(site),
        settings={"POLICY_REGISTRIES": str(registry)},
    )
    assert crawl.returncode == 0, crawl.output
    o = site.origins
    declared = ("excluded", (reasons.DECLARED_RESERVATION,))
    expected = {
        f"{o['fansite']}/still": declared,  # JSON-LD copyrightHolder
        f"{o['fansite']}/still.jpg": declared,  # XMP xmpRights:Owner
        f"{o['mirror']}/copy.jpg": declared,  # ISCC of the re-encoded copy
        f"{o['bookshop']}/river": declared,  # citation_isbn, ISBN-13 against an ISBN-10 entry
        f"{o['bookshop']}/river.epub": declared,  # OPF dc:identifier
        f"{o['bookshop']}/notes.pdf": declared,  # PDF /Author
        f"{o['fansite']}/about": ("kept", ()),
        f"{o['fansite']}/other.jpg": ("kept", ()),
        f"{o['bookshop']}/other": ("kept", ()),
    }
    decisions = crawl.decisions()
    assert {url: decisions.get(url) for url in expected} == expected
    (still,) = _declared(crawl, f"{o['fansite']}/still")
    assert still["source"] == f"{registry}:2"
    assert "VAFC (public notice by a CMO" in still["value"]
    assert "json-ld:copyrightHolder" in still["value"]
    (copy,) = _declared(crawl, f"{o['mirror']}/copy.jpg")
    assert copy["source"] == f"{registry}:4" and "ISCC:" in copy["value"]
    (book,) = _declared(crawl, f"{o['bookshop']}/river.epub")
    assert book["source"] == f"{registry}:3" and "isbn:9780306406157" in book["value"]
    stored = {url for (url,) in crawl.sql("SELECT url FROM captures")}
    assert stored == {
        f"{o['fansite']}/about",
        f"{o['fansite']}/other.jpg",
        f"{o['bookshop']}/other",
    }


def _recheck(crawl, registry) -> object:
    command = ["recheck"]
    settings = {
        **LOOPBACK_SETTINGS,
        "WARC_DIR": str(crawl.warc_dir),
        "PROVENANCE_DB_URL": f"sqlite:///{crawl.db_path}",
        "POLICY_REGISTRIES": str(registry),
    }
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    return scrapy_command(*command)


def test_recheck_applies_a_new_entry_to_stored_payloads_and_never_withdraws_for_an_outage(
    tmp_path,
):
    require_module("pyexiv2", "pyexiv2 writes the XMP fixtures: pip install -e '.[test]'")
    require_module("ebooklib", "ebooklib writes the EPUB fixture: pip install -e '.[test]'")
    require_module("fpdf", "fpdf2 writes the PDF fixture: pip install -e '.[test]'")
    registry = tmp_path / "works.csv"
    registry.write_text(HEADER + "\n", encoding="utf-8")  # no notice yet
    with site_process("tests.sites.works", tmp_path) as site:
        urls = seeds(site)
        crawl = run_crawl(
            tmp_path / "crawl",
            urls=urls,
            settings={"POLICY_REGISTRIES": str(registry)},
        )
        assert crawl.returncode == 0, crawl.output
        o = site.origins
    # every origin is down from here on: robots.txt cannot be fetched
    assert crawl.sql("SELECT count(*) FROM captures")[0][0] == len(urls)

    down = _recheck(crawl, registry)
    assert down.returncode == 0, down.stdout + down.stderr
    assert f"{len(urls)} capture(s) re-checked, 0 withdrawn" in down.stdout

    works_registry(registry)  # the notices arrive after the crawl
    result = _recheck(crawl, registry)
    assert result.returncode == 0, result.stdout + result.stderr
    covered = {
        f"{o['fansite']}/still", f"{o['fansite']}/still.jpg", f"{o['mirror']}/copy.jpg",
        f"{o['bookshop']}/river", f"{o['bookshop']}/river.epub", f"{o['bookshop']}/notes.pdf",
    }  # fmt: skip
    assert f"{len(urls)} capture(s) re-checked, {len(covered)} withdrawn" in result.stdout
    rows = crawl.sql("SELECT url, reasons FROM decisions WHERE stage = 'withdrawal'")
    assert {url for url, _ in rows} == covered
    assert {r for _, r in rows} == {'["withdrawn", "declared-reservation"]'}

    require_module("trafilatura", "the export extra: pip install -e '.[export]'")
    exported = set()
    for modality in ("text", "image"):
        out = tmp_path / f"export-{modality}"
        export = scrapy_command(
            "export", "--format", "jsonl", "--modality", modality, "--out", str(out),
            "--warc-dir", str(crawl.warc_dir), "--db", f"sqlite:///{crawl.db_path}",
        )  # fmt: skip
        assert export.returncode == 0, export.stdout + export.stderr
        for path in out.glob("*.jsonl"):
            rows = [json.loads(line) for line in path.read_text().splitlines()]
            exported |= {row.get("url") or row["image_url"] for row in rows}
    kept = {f"{o['fansite']}/about", f"{o['fansite']}/other.jpg", f"{o['bookshop']}/other"}
    assert exported == kept


def test_image_metadata_opens_every_web_format_with_this_pillow():
    """Pillow 13 has no `MPO` opener: naming it in `formats` made every non-JPEG image fall back
    to the byte scan, losing its EXIF/IIM copyright evidence."""
    require_module("pyexiv2", "pyexiv2 writes the EXIF fixture: pip install -e '.[test]'")
    from policies.signals.image_metadata import read_image
    from tests import media

    png = media.with_metadata(media.image("PNG"), exif={"Exif.Image.Copyright": "Studio X"})
    reading = read_image(png)
    assert reading.opened, reading.problem
    assert [s.value for s in reading.licence] == ["Studio X"]
