"""Intended configs and compliance on text: golden files, no device."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from faellesdrift.estate import Estate, ExceptionStatus, expired_note, load_estate
from faellesdrift.network.compliance import check, expired_for
from faellesdrift.network.errors import ControlValueError
from faellesdrift.network.intended import render
from faellesdrift.network.platforms import platform_spec
from faellesdrift.network.remediate import KeptLineRefused, kept_lines, plan
from faellesdrift.network.results import ControlResult
from tests.conftest import REPO, day_after_expiry
from tests.network.conftest import GOLDEN, golden

HOSTS = ["aar-core01", "aar-dist02", "aar-acce03", "odd-fire04", "odd-wan05"]


@pytest.mark.parametrize("name", HOSTS)
def test_intended_config_matches_golden(estate: Estate, name: str) -> None:
    golden(f"intended/{name}.cfg", render(estate, estate.host(name)).text)


def test_active_exception_value_replaces_the_standard(estate: Estate) -> None:
    text = render(estate, estate.host("aar-core01")).text
    assert "ntp server 10.51.0.123" in text
    assert "ntp server 10.250.0.123" not in text
    assert "kept by exception AAR-EX-001" in text


def test_expired_exception_no_longer_renders(estate: Estate) -> None:
    later = load_estate(REPO, day_after_expiry("ODD-EX-002"))
    assert "ODD-EX-002" in (expired_note(later) or "")
    assert {k.record.id: k.status for k in later.exceptions()}["ODD-EX-002"] \
        is ExceptionStatus.EXPIRED
    assert "fw-vendor-ro" in render(estate, estate.host("odd-fire04")).text
    assert "fw-vendor-ro" not in render(later, later.host("odd-fire04")).text


def test_rendering_is_deterministic(estate: Estate) -> None:
    host = estate.host("aar-dist02")
    assert render(estate, host).text == render(estate, host).text


@pytest.mark.parametrize("control,value,message", [
    ("net.ntp.servers", ["10.0.0.1; reload"], "not an IPv4 address"),
    ("net.snmp.communities", ["public RW"], "one word"),
    ("net.banner.motd", "hi ^ there", "one line of text"),
])
def test_unsafe_control_values_are_refused(estate: Estate, control, value, message) -> None:
    with pytest.raises(ControlValueError, match=message):
        render(estate, estate.host("aar-acce03"), overrides={control: value})


def _result(estate: Estate, name: str, running: str, when: Estate | None = None):
    e = when or estate
    host = e.host(name)
    spec = platform_spec(host.spec.platform)
    return spec, check(spec, running, render(e, host), expired_for(e, name))


@pytest.mark.parametrize("name", ["aar-core01", "aar-dist02", "odd-fire04"])
def test_compliance_matches_golden(estate: Estate, name: str) -> None:
    running = (GOLDEN / "running" / f"{name}.txt").read_text()
    _, controls = _result(estate, name, running)
    golden(f"compliance/{name}.json",
           json.dumps([c.to_dict() for c in controls], indent=2) + "\n")


def test_compliance_finds_missing_and_extra_lines(estate: Estate) -> None:
    running = (GOLDEN / "running" / "aar-core01.txt").read_text()
    _, controls = _result(estate, "aar-core01", running)
    by = {c.control: c for c in controls}
    assert by["net.ntp.servers"].extra == ("ntp server 10.250.0.123",)  # exception: local only
    assert by["net.syslog.siem"].extra == ("logging host 192.0.2.99",)
    assert by["net.snmp.communities"].extra == ("snmp-server community public RO",)
    assert by["net.banner.motd"].missing and by["net.banner.motd"].extra
    assert by["net.dns.servers"].compliant and by["net.aaa.tacacs"].compliant
    assert by["net.ntp.servers"].source == "AAR-EX-001"


def test_inline_tacacs_keys_are_not_drift(estate: Estate) -> None:
    running = (GOLDEN / "running" / "aar-dist02.txt").read_text()
    _, controls = _result(estate, "aar-dist02", running)
    assert {c.control: c for c in controls}["net.aaa.tacacs"].compliant


def test_expired_exception_lines_are_drift(estate: Estate) -> None:
    later = load_estate(REPO, day_after_expiry("ODD-EX-002"))
    running = (GOLDEN / "running" / "odd-fire04.txt").read_text()
    _, now = _result(estate, "odd-fire04", running)
    assert all(c.compliant for c in now)
    spec, then = _result(estate, "odd-fire04", running, later)
    snmp = {c.control: c for c in then}["net.snmp.communities"]
    assert snmp.extra == ("set snmp community fw-vendor-ro authorization read-only",)
    assert "ODD-EX-002 expired" in snmp.note
    assert plan(spec, then, kept_lines(later, later.host("odd-fire04"))) == [
        "delete snmp community fw-vendor-ro"]


def test_plan_adds_before_it_removes_and_replaces_banners(estate: Estate) -> None:
    running = (GOLDEN / "running" / "aar-core01.txt").read_text()
    spec, controls = _result(estate, "aar-core01", running)
    lines = plan(spec, controls, kept_lines(estate, estate.host("aar-core01")))
    assert lines == [
        "banner motd ^Authorised access only - Faellesdrift Midt^",
        "no ntp server 10.250.0.123",
        "no logging host 192.0.2.99",
        "no snmp-server community public RO",
    ]


def test_plan_never_removes_a_line_an_active_exception_keeps(estate: Estate) -> None:
    host = estate.host("aar-core01")
    spec = platform_spec("cisco_ios")
    kept = kept_lines(estate, host)
    assert kept == {"net.ntp.servers": {"ntp server 10.51.0.123": "AAR-EX-001"}}
    bad = ControlResult("net.ntp.servers", "standard", extra=("ntp server 10.51.0.123",))
    with pytest.raises(KeptLineRefused, match="AAR-EX-001"):
        plan(spec, (bad,), kept)
    assert plan(spec, (replace(bad, extra=("ntp server 10.9.9.9",)),), kept) == [
        "no ntp server 10.9.9.9"]


def test_eos_banner_is_pushed_as_lines_ending_in_eof(estate: Estate) -> None:
    spec, controls = _result(estate, "aar-dist02", "hostname aar-dist02\n")
    lines = plan(spec, controls)
    i = lines.index("banner motd")
    assert lines[i:i + 3] == ["banner motd", "Authorised access only - Faellesdrift Midt", "EOF"]
