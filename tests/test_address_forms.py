"""IPv6 spellings of IPv4 addresses (NAT64, IPv4-compatible, 6to4, Teredo) are judged by the IPv4
address they carry: a private one makes them private (issue #11 item 3.12)."""

from __future__ import annotations

import ipaddress

import pytest

from crawler.middlewares.access_guard import is_private_address, is_private_host
from tests.conftest import run_crawl

PRIVATE = [
    "64:ff9b::7f00:1",  # NAT64 well-known prefix (RFC 6052) → 127.0.0.1
    "64:ff9b::a00:1",  # → 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # → 169.254.169.254 (cloud metadata)
    "64:ff9b:1::808:808",  # RFC 8215 local-use NAT64 prefix: never global
    "::7f00:1",  # IPv4-compatible (RFC 4291 §2.5.5.1) → 127.0.0.1
    "::c0a8:1",  # → 192.168.0.1
    "::ffff:0:7f00:1",  # IPv4-translated (RFC 2765) → 127.0.0.1
    "::ffff:7f00:1",  # IPv4-mapped → 127.0.0.1
    "2002:7f00:1::",  # 6to4 (RFC 3056) → 127.0.0.1
    "2002:c0a8:101::1",  # → 192.168.1.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]
PUBLIC = [
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
    "::ffff:808:808",  # mapped 8.8.8.8
    "2606:4700:4700::1111",
    "8.8.8.8",
]


@pytest.mark.parametrize("address", PRIVATE)
def test_an_ipv6_form_of_a_private_ipv4_address_is_private(address):
    assert is_private_address(ipaddress.ip_address(address))
    assert is_private_host(f"[{address}]")


@pytest.mark.parametrize("address", PUBLIC)
def test_an_ipv6_form_of_a_public_ipv4_address_stays_public(address):
    assert not is_private_address(ipaddress.ip_address(address))


def test_seeds_spelled_as_nat64_compatible_or_6to4_are_refused_before_any_request(
    gate_site, tmp_path
):
    port = gate_site.origins["open"].rsplit(":", 1)[1]
    urls = [f"http://[{a}]:{port}/" for a in ("64:ff9b::7f00:1", "::7f00:1", "2002:7f00:1::1")]
    before = len(gate_site.requests())
    result = run_crawl(tmp_path, urls=urls, settings={"ALLOW_PRIVATE_ADDRESSES": "false"})
    assert result.returncode == 3, result.output  # no page fetched
    assert sorted(result.decisions().values()) == [("excluded", ("private-address",))] * 3
    assert len(gate_site.requests()) == before
    assert result.sql("SELECT count(*) FROM evidence") == [(0,)]  # not even robots.txt
