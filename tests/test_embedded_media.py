"""Rights embedded in media files, read from fixtures real libraries wrote (tests/media.py):
C2PA manifests (c2pa-python), XMP / IPTC IIM / EXIF (pyexiv2 writes, Pillow reads), and
`noimageai` scoped to images. The crawl of the same files is tests/test_embedded_crawl.py."""

from __future__ import annotations

import io

import pytest

from policies import reasons
from policies.assess import assess, response_signals
from policies.engine import decide
from policies.profile import load_profile
from policies.signals.c2pa import read_c2pa
from policies.signals.embedded import document_metadata
from tests import media
from tests.conftest import require_module

STRICT = load_profile("strict")
RESEARCH = load_profile("eu-dsm-art3")  # reservations recorded, not honoured
NOT_ALLOWED = media.training_mining(ai_generative_training="notAllowed")
ALLOWED = media.training_mining(
    ai_training="allowed", ai_generative_training="allowed", data_mining="allowed"
)


@pytest.fixture(scope="module")
def pyexiv2():
    return require_module(
        "pyexiv2", "pyexiv2 writes the XMP/IPTC fixtures: pip install -e '.[test]'"
    )


def _pillow(fmt: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (24, 16), (10, 120, 30)).save(out, fmt)
    return out.getvalue()


def _found(content_type: str, body: bytes, headers=()) -> list:
    """What the response policy reads from a response of this type and body."""
    embedded = document_metadata(content_type, body)
    c2pa = embedded.c2pa
    found = response_signals(
        [("Content-Type", content_type), *headers],
        None,
        user_agent="rightscrawl",
        xmp=embedded.xmp,
        c2pa_assertions=c2pa.assertions if c2pa else None,
        c2pa_validation=c2pa.validation if c2pa else None,
        c2pa_codes=c2pa.codes if c2pa else (),
        content_type=content_type,
    )
    return [*found, *(c2pa.signals if c2pa else ()), *embedded.signals]


def _decide(found, profile=STRICT):
    return decide("https://example.com/x", found, profile=profile, stage="after-fetch")


# Every container c2pa-rs signs that Pillow can make: the manifest is found wherever the format
# keeps it (JPEG APP11, PNG caBX, WebP/AVIF boxes, a PDF embedded file).
FORMATS = [
    ("JPEG", "image/jpeg"),
    ("PNG", "image/png"),
    ("WEBP", "image/webp"),
    ("AVIF", "image/avif"),
    ("PDF", "application/pdf"),
]


@pytest.mark.parametrize(("fmt", "mime"), FORMATS, ids=[f for f, _ in FORMATS])
def test_cawg_not_allowed_reserves_in_every_container(fmt, mime):
    found = _found(mime, media.signed(_pillow(fmt), mime, NOT_ALLOWED))
    (c2pa,) = [s for s in found if s.kind == "c2pa-training-mining"]
    assert (c2pa.verdict, c2pa.reason) == ("reserved", reasons.C2PA_RESERVED)
    assert c2pa.value == "cawg.ai_generative_training=notAllowed"
    assert c2pa.validation == "untrusted"  # signed by a CA on no trust list
    assert "c2pa validation: signingCredential.untrusted" in c2pa.problems
    assert c2pa.to_json()["validation"] == "untrusted"
    assert _decide(found).reasons == (reasons.C2PA_RESERVED,)


def test_constrained_reads_as_not_allowed():
    signed = media.signed(
        _pillow("JPEG"), "image/jpeg", media.training_mining(data_mining="constrained")
    )
    assert _decide(_found("image/jpeg", signed)).reasons == (reasons.C2PA_RESERVED,)


def test_cawg_allowed_is_kept_with_its_reading():
    found = _found("image/png", media.signed(_pillow("PNG"), "image/png", ALLOWED))
    (c2pa,) = [s for s in found if s.kind == "c2pa-training-mining"]
    assert c2pa.verdict == "not_reserved" and c2pa.reason is None
    assert _decide(found).kept


def test_a_signer_chaining_to_a_trust_anchor_is_valid():
    signed = media.signed(_pillow("JPEG"), "image/jpeg", NOT_ALLOWED)
    reading = read_c2pa("image/jpeg", signed, trust_anchors=media.test_chain().anchor)
    assert (reading.validation, reading.codes) == ("valid", ())
    assert read_c2pa("image/jpeg", signed).validation == "untrusted"


def _tampered(signed: bytes) -> bytes:
    """The image's scan data changed after signing: the manifest's data hash no longer matches."""
    return signed[:-10] + bytes(b ^ 0xFF for b in signed[-10:-2]) + signed[-2:]


def test_a_reservation_in_an_invalid_manifest_still_counts():
    found = _found(
        "image/jpeg", _tampered(media.signed(_pillow("JPEG"), "image/jpeg", NOT_ALLOWED))
    )
    (c2pa,) = [s for s in found if s.kind == "c2pa-training-mining"]
    assert (
        c2pa.validation == "invalid"
        and "c2pa validation: assertion.dataHash.mismatch" in c2pa.problems
    )
    assert _decide(found).reasons == (reasons.C2PA_RESERVED,)


def test_a_permission_in_an_invalid_manifest_is_not_authoritative():
    found = _found("image/jpeg", _tampered(media.signed(_pillow("JPEG"), "image/jpeg", ALLOWED)))
    (c2pa,) = [s for s in found if s.kind == "c2pa-training-mining"]
    assert (c2pa.verdict, c2pa.validation) == ("unknown", "invalid")


@pytest.mark.parametrize("profile", [STRICT, RESEARCH], ids=["strict", "eu-dsm-art3"])
def test_a_corrupt_manifest_is_unread_and_fails_closed(profile):
    corrupt = media.corrupt_manifest(media.signed(_pillow("JPEG"), "image/jpeg", ALLOWED))
    found = _found("image/jpeg", corrupt)
    (unread,) = [s for s in found if s.kind == "c2pa"]
    assert unread.reason == reasons.POLICY_ERROR
    assert unread.problems[0].startswith("not read whole: c2pa-rs: ")
    assert _decide(found, profile).reasons == (reasons.POLICY_ERROR,)


def test_an_image_without_a_manifest_says_nothing():
    assert read_c2pa("image/jpeg", _pillow("JPEG")).assertions == ()
    assert _decide(_found("image/jpeg", _pillow("JPEG"))).kept


def test_a_container_c2pa_rs_cannot_parse_without_a_manifest_is_noted_not_excluded():
    truncated = _pillow("PNG")[:40]
    found = _found("image/png", truncated)
    (noted,) = [s for s in found if s.kind == "c2pa"]
    assert noted.reason is None and "could not be parsed" in noted.problems[0]
    assert _decide(found).kept


def test_html_and_text_are_not_handed_to_c2pa():
    assert read_c2pa("text/html; charset=utf-8", b"<p>c2pa</p>") is None
    assert read_c2pa("application/octet-stream", b"c2pa") is None


# --- XMP, IPTC IIM, EXIF -------------------------------------------------------------------------


def test_iptc_data_mining_in_xmp_written_by_exiv2(pyexiv2):
    jpeg = media.with_metadata(
        _pillow("JPEG"), xmp={"Xmp.plus.DataMining": media.DMI + "DMI-PROHIBITED-AIMLTRAINING"}
    )
    assert _decide(_found("image/jpeg", jpeg)).reasons == (reasons.IPTC_RESERVED,)
    assert _decide(_found("image/jpeg", jpeg), RESEARCH).kept  # recorded, not honoured


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_xmp_is_read_where_each_format_keeps_it(pyexiv2, fmt, mime):
    data = media.with_metadata(_pillow(fmt), xmp={"Xmp.tdm.reservation": "1"})
    found = _found(mime, data)
    (tdm,) = [s for s in found if s.kind == "tdm-reservation-xmp"]
    assert tdm.reason == reasons.TDMREP_RESERVED
    assert _decide(found).reasons == (reasons.TDMREP_RESERVED,)


def test_dmi_allowed_is_a_permission(pyexiv2):
    jpeg = media.with_metadata(
        _pillow("JPEG"), xmp={"Xmp.plus.DataMining": media.DMI + "DMI-ALLOWED"}
    )
    (iptc,) = [s for s in _found("image/jpeg", jpeg) if s.kind == "iptc-data-mining"]
    assert iptc.verdict == "not_reserved"


def test_copyright_and_licence_statements_are_licence_evidence_not_reservations(pyexiv2):
    jpeg = media.with_metadata(
        _pillow("JPEG"),
        xmp={
            "Xmp.xmpRights.WebStatement": "https://example.com/licence",
            "Xmp.dc.rights": "All rights reserved",
        },
        iptc={"Iptc.Application2.Copyright": "(c) Jane Doe"},
        exif={"Exif.Image.Copyright": "Jane Doe 2024"},
    )
    found = _found("image/jpeg", jpeg)
    licences = {(s.source, s.value) for s in found if s.kind == "license"}
    assert licences == {
        ("xmp:xmpRights:WebStatement", "https://example.com/licence"),
        ("xmp:dc:rights", "All rights reserved"),
        ("iptc-iim:2:116", "(c) Jane Doe"),
        ("exif:Copyright", "Jane Doe 2024"),
    }
    assert all(s.verdict == "unknown" and s.reason is None for s in found if s.kind == "license")
    decision = _decide(found)
    assert decision.kept and decision.license == "https://example.com/licence"


def test_a_lang_alt_dc_rights_gives_its_first_entry(pyexiv2):
    jpeg = media.with_metadata(
        _pillow("JPEG"),
        xmp={"Xmp.dc.rights": {'lang="x-default"': "Reserved", 'lang="de-DE"': "Vorbehalten"}},
    )
    licences = [s.value for s in _found("image/jpeg", jpeg) if s.kind == "license"]
    assert licences == ["Reserved"]


def test_a_decompression_bomb_is_not_opened_and_its_xmp_still_read(pyexiv2, monkeypatch):
    from PIL import Image

    jpeg = media.with_metadata(
        _pillow("JPEG"), xmp={"Xmp.plus.DataMining": media.DMI + "DMI-PROHIBITED"}
    )
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # 24x16 is past twice the limit
    assert _decide(_found("image/jpeg", jpeg)).reasons == (reasons.IPTC_RESERVED,)


def test_a_truncated_xmp_packet_fails_closed(pyexiv2):
    jpeg = media.with_metadata(_pillow("JPEG"), xmp={"Xmp.tdm.reservation": "1"})
    cut = jpeg[: jpeg.index(b"</x:xmpmeta>")]  # the file ends inside its packet
    found = _found("image/jpeg", cut)
    # Pillow cannot open the file; the byte scan takes the packet to the end and lxml reads it
    # leniently: the reservation is not lost.
    assert _decide(found).reasons == (reasons.TDMREP_RESERVED,)


# --- noai / noimageai -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "value", "expected"),
    [
        ("image/jpeg", "noimageai", (reasons.NOAI_HEADER,)),
        ("text/html", "noimageai", ()),
        ("application/pdf", "noimageai", ()),
        ("text/html", "noai", (reasons.NOAI_HEADER,)),
        ("image/png", "noai", (reasons.NOAI_HEADER,)),
        ("text/html", "noimageai, noai", (reasons.NOAI_HEADER,)),
    ],
)
def test_noimageai_excludes_images_and_noai_everything(content_type, value, expected):
    found = response_signals(
        [("Content-Type", content_type), ("X-Robots-Tag", value)],
        None,
        user_agent="rightscrawl",
        content_type=content_type,
    )
    assert _decide(found).reasons == expected
    (signal,) = found
    assert signal.kind == "x-robots-tag"  # recorded either way
    if not expected:
        assert signal.problems == ("noimageai reserves images; this response is not one",)


def test_meta_noimageai_does_not_exclude_its_page():
    result = assess(
        "https://example.com/a.html",
        headers=[("Content-Type", "text/html")],
        html='<meta name="robots" content="noimageai">',
    )
    assert result.verdict == "unknown" and result.reasons == ()
    # Without a media type the reading stays the conservative one (vector mr-03).
    untyped = assess("https://example.com/a", html='<meta name="robots" content="noimageai">')
    assert untyped.verdict == "reserved"


def test_a_training_entry_stated_twice_keeps_the_reservation():
    """`notAllowed` then `allowed` for one entry (two assertions of one manifest): a later
    permission does not undo the reservation, in either order, and the repeat is recorded."""
    from policies.signals.c2pa import c2pa_signal

    for first, second in (("notAllowed", "allowed"), ("allowed", "notAllowed")):
        assertions = [
            {"label": "cawg.training-mining", "data": {"entries": {"cawg.ai_training": {"use": u}}}}
            for u in (first, second)
        ]
        signal = c2pa_signal(assertions, validation="untrusted")
        assert signal.verdict == "reserved", (first, second)
        assert any("stated twice" in p for p in signal.problems)
