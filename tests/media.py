"""Media fixtures made by real libraries, never hand-written bytes: images by Pillow, XMP / IPTC
IIM / EXIF written by pyexiv2 (libexiv2), C2PA manifests signed by c2pa-python with an ES256
certificate chain made here by `cryptography` (a test CA and a signer it issued).

Each fixture carries a marker (a JPEG comment, a PNG text chunk) so a test can tell its bytes in
a WARC file without knowing them: signatures are randomised, so the bytes differ on every build."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from functools import cache
from typing import Any

DMI = "http://ns.useplus.org/ldf/vocab/"
TDM_NAMESPACE = "http://www.w3.org/ns/tdmrep/"


@dataclass(frozen=True)
class TestChain:
    signer_chain: bytes  # PEM: the signer's certificate, then the CA's
    private_key: bytes  # PEM, PKCS#8
    anchor: bytes  # PEM: the CA, a trust anchor for `valid`


@cache
def test_chain() -> TestChain:
    """A CA and an ES256 signing certificate it issued, with the extensions C2PA requires
    (C2PA 2.1 §14.5.1: not a CA, digitalSignature, an EKU such as emailProtection)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "rightscrawl tests"),
            ]
        )

    def usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=sign, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
            encipher_only=False, decipher_only=False,
        )  # fmt: skip

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def builder(subject: str, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )

    ca = (
        builder("rightscrawl test CA", name("rightscrawl test CA"), ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage(sign=False, ca=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    signer = (
        builder("rightscrawl test signer", ca.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return TestChain(
        signer.public_bytes(pem) + ca.public_bytes(pem),
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        ca.public_bytes(pem),
    )


def image(fmt: str = "JPEG", marker: str = "", size: tuple[int, int] = (24, 16)) -> bytes:
    """A small image made by Pillow, `marker` in a comment (JPEG) or a text chunk (PNG)."""
    from PIL import Image, PngImagePlugin

    out = io.BytesIO()
    picture = Image.new("RGB", size, (180, 40, 40))
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        if marker:
            info.add_text("Comment", marker)
        picture.save(out, "PNG", pnginfo=info)
    elif fmt == "JPEG":
        picture.save(out, "JPEG", comment=marker.encode())
    else:
        picture.save(out, fmt)
    return out.getvalue()


def with_metadata(
    data: bytes,
    *,
    xmp: dict[str, Any] | None = None,
    iptc: dict[str, str] | None = None,
    exif: dict[str, str] | None = None,
) -> bytes:
    """`data` with XMP / IPTC IIM / EXIF written by pyexiv2, keys in exiv2's names
    (`Xmp.plus.DataMining`, `Xmp.tdm.reservation`, `Iptc.Application2.Copyright`, …)."""
    import pyexiv2

    pyexiv2.registerNs(TDM_NAMESPACE, "tdm")
    with pyexiv2.ImageData(data) as metadata:
        if xmp:
            metadata.modify_xmp(xmp)
        if iptc:
            metadata.modify_iptc(iptc)
        if exif:
            metadata.modify_exif(exif)
        return metadata.get_bytes()


def training_mining(**uses: str) -> dict[str, Any]:
    """A CAWG 1.1 `cawg.training-mining` assertion: training_mining(ai_training="notAllowed")."""
    return {
        "label": "cawg.training-mining",
        "data": {"entries": {f"cawg.{key}": {"use": use} for key, use in uses.items()}},
    }


def signed(
    data: bytes, mime: str, *assertions: dict[str, Any], title: str = "rightscrawl test"
) -> bytes:
    """`data` with a C2PA manifest (a c2pa.created action and `assertions`) signed by the test
    chain; no timestamp authority, no thumbnail, nothing from the network."""
    import c2pa

    chain = test_chain()
    manifest = {
        "claim_generator_info": [{"name": "rightscrawl-tests", "version": "1"}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/"
                            "digitalsourcetype/digitalCreation",
                        }
                    ]
                },
            },
            *assertions,
        ],
    }
    info = c2pa.C2paSignerInfo(
        alg=b"es256", sign_cert=chain.signer_chain, private_key=chain.private_key, ta_url=None
    )
    settings = {"builder": {"thumbnail": {"enabled": False}}}
    out = io.BytesIO()
    with (
        c2pa.Context.from_dict(settings) as context,
        c2pa.Signer.from_info(info) as signer,
        c2pa.Builder(manifest, context) as builder,
    ):
        builder.sign(signer, mime, io.BytesIO(data), out)
    return out.getvalue()


def corrupt_manifest(data: bytes) -> bytes:
    """`data` with bytes inside its C2PA claim overwritten: the JUMBF boxes still frame a
    manifest, which c2pa-rs can no longer parse."""
    box = data.index(b"c2pa.actions")  # inside the manifest's assertion store
    return data[:box] + b"\x00" * 16 + data[box + 16 :]
