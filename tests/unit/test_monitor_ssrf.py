"""The SSRF guard for monitors: which resolved addresses count as internal, and whether a target
may be checked with and without TOCSIN_MONITOR_ALLOW_PRIVATE, and where redirects lead (each
hop judged by its own host)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.domain.monitors import blocked_addresses, is_internal, target_allowed
from tocsin.domain.monitors.ssrf import redirect_url, same_origin, target_host, url_host


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("192.168.1.1", True),
        ("127.0.0.1", True),
        ("127.8.8.8", True),
        ("::1", True),
        ("169.254.169.254", True),  # cloud metadata
        ("fe80::1", True),
        ("fe80::1%eth0", True),
        ("fc00::1", True),
        ("224.0.0.1", True),
        ("ff02::1", True),
        ("0.0.0.0", True),  # noqa: S104 (an address to judge, not to bind)
        ("::", True),
        ("100.64.0.1", True),  # carrier-grade NAT
        ("240.0.0.1", True),  # reserved
        ("::ffff:127.0.0.1", True),  # IPv4-mapped loopback
        ("::ffff:10.1.2.3", True),
        ("::ffff:93.184.216.34", False),
        ("2002:0a00:0001::", True),  # 6to4 around 10.0.0.1
        ("[::1]", True),
        ("not-an-ip", True),
        ("", True),
    ],
)
def test_internal_addresses(address: str, internal: bool) -> None:
    """Private, loopback, link-local, multicast, reserved and unspecified addresses (also when
    wrapped in IPv6) are internal; anything that is not an address cannot be shown public."""
    assert is_internal(address) is internal


def test_one_internal_address_blocks_the_target() -> None:
    """A name resolving to a public and a private address is refused unless private targets
    are allowed; a name that resolved to nothing is never checked."""
    mixed = ["93.184.216.34", "10.0.0.7"]
    assert blocked_addresses(mixed) == ("10.0.0.7",)
    assert target_allowed(mixed) is False
    assert target_allowed(mixed, allow_private=True) is True
    assert target_allowed(["93.184.216.34"]) is True
    assert target_allowed([]) is False
    assert target_allowed([], allow_private=True) is False


@given(st.ip_addresses(v=4, network="10.0.0.0/8") | st.ip_addresses(v=6, network="fc00::/7"))
def test_private_ranges_are_always_blocked(address: ipaddress.IPv4Address) -> None:
    """Every address in 10/8 and fc00::/7 is internal."""
    assert target_allowed([str(address)]) is False


@pytest.mark.parametrize(
    ("current", "location", "leads_to"),
    [
        ("https://a.example/x", "/y", "https://a.example/y"),
        ("https://a.example/x/", "z", "https://a.example/x/z"),
        ("https://a.example/", "//b.example/p", "https://b.example/p"),
        ("https://a.example/", "http://127.0.0.1:8080/admin", "http://127.0.0.1:8080/admin"),
        ("https://a.example/", "file:///etc/passwd", None),
        ("https://a.example/", "gopher://b.example/", None),
        ("https://a.example/", "http://[::1/", None),
        ("https://a.example/", "http://b.example:port/", None),
        ("https://a.example/", "http:///nohost", None),
    ],
)
def test_a_redirect_leads_to_an_absolute_http_url_or_nowhere(
    current: str, location: str, leads_to: str | None
) -> None:
    """Relative and scheme-relative Locations resolve against the current URL; anything but
    an http(s) URL with a host and a valid port is not followed."""
    assert redirect_url(current, location) == leads_to


def test_each_hop_is_judged_by_its_own_host() -> None:
    """A chain is decided hop by hop: the host of every URL it reaches is looked up and judged
    by target_allowed, so one internal hop (a loopback literal, a name resolving privately)
    stops it even after public ones; ports and brackets do not hide the host."""
    resolved = {"a.example": ["93.184.216.34"], "b.example": ["93.184.216.35"],
                "sneaky.example": ["10.1.2.3"]}  # fmt: skip
    chain = ["https://a.example/", "/next", "https://b.example:8443/", "http://[::1]:80/",
             "http://sneaky.example/"]  # fmt: skip
    url, decisions = chain[0], []
    for location in [None, *chain[1:]]:
        url = url if location is None else redirect_url(url, location) or ""
        host = url_host(url)
        decisions.append((host, target_allowed(resolved.get(host, [host]))))
    assert decisions == [("a.example", True), ("a.example", True), ("b.example", True),
                         ("::1", False), ("sneaky.example", False)]  # fmt: skip
    assert target_host("[::1]:5432") == "::1"
    assert target_host("db.example:5432") == "db.example"


def test_headers_stay_with_their_origin() -> None:
    """Scheme, host and port together are the origin a monitor's headers are sent to."""
    assert same_origin("https://a.example/x", "https://A.example/y")
    assert not same_origin("https://a.example/", "http://a.example/")
    assert not same_origin("https://a.example/", "https://a.example:8443/")
    assert not same_origin("https://a.example/", "https://b.example/")
