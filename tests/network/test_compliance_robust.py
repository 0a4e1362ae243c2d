"""Compliance on configs as real devices print them: it reads them all and never crashes."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from faellesdrift.estate import Estate
from faellesdrift.lab.devices.fleet import Fleet
from faellesdrift.network import Status, compliance, remediate
from faellesdrift.network.compliance import ConfigParseError, check, parse_config, prepare
from faellesdrift.network.configtext import decode_config, junos_set_form
from faellesdrift.network.intended import render
from faellesdrift.network.platforms import platform_spec
from tests.network.conftest import lab_settings

compliance_module = importlib.import_module("faellesdrift.network.compliance")
IOS, EOS, JUNOS = (platform_spec(p) for p in ("cisco_ios", "arista_eos", "juniper_junos"))


def _by_control(estate: Estate, host: str, running: str | bytes):
    h = estate.host(host)
    spec = platform_spec(h.spec.platform)
    return {c.control: c for c in check(spec, running, render(estate, h))}


def test_identical_siblings_are_kept_not_an_error() -> None:
    text = ("ip access-list extended A\n remark -- skoler --\n remark -- skoler --\n"
            " permit ip any any\n remark -- skoler --\n"
            "crypto pki certificate chain TP\n certificate ca 01\n  00000000 00000000\n"
            "  00000000 00000000\n  \tquit\n")
    tree = parse_config(IOS, text).config
    acl = tree.get_child(equals="ip access-list extended A")
    assert acl is not None and [c.text for c in acl.children] == ["10 permit ip any any"]
    cert = tree.get_child(equals="crypto pki certificate chain TP").children[0]
    assert [c.text for c in cert.children] == ["00000000 00000000"] * 2


def test_repeated_top_level_lines_are_one(estate: Estate) -> None:
    junos = ('set system tacplus-server 10.250.0.49 secret "$9$x"\n'
             "set system tacplus-server 10.250.0.49 source-address 10.0.0.1\n")
    assert parse_config(JUNOS, junos).config.get_child(
        equals="set system tacplus-server 10.250.0.49") is not None
    eos = ("tacacs-server host 10.250.0.49 vrf MGMT key 7 AAA\n"
           "tacacs-server host 10.250.0.49 vrf default key 7 BBB\n")
    assert parse_config(EOS, eos).config.get_child(startswith="tacacs-server host") is not None
    by = _by_control(estate, "aar-dist02", eos)
    assert by["net.aaa.tacacs"].compliant


def test_an_unterminated_banner_is_a_note_not_a_crash(estate: Estate) -> None:
    intended = render(estate, estate.host("aar-core01")).text
    cut = intended[:intended.index("banner motd")] + "banner motd ^C\nAuthorised acc"
    by = _by_control(estate, "aar-core01", cut)
    assert "not terminated" in by["net.banner.motd"].note
    assert by["net.ntp.servers"].compliant and by["net.syslog.siem"].compliant


def test_a_one_line_banner_equals_its_multi_line_form_and_hides_nothing(estate: Estate) -> None:
    intended = render(estate, estate.host("aar-core01")).text
    start = intended.index("banner motd")
    end = intended.index("^C\n", start + len("banner motd ^C")) + 3
    one_line = (intended[:start] + "banner motd ^CAuthorised access only - Faellesdrift Midt^C\n"
                "logging host 192.0.2.99\n" + intended[end:])
    by = _by_control(estate, "aar-core01", one_line)
    assert by["net.banner.motd"].compliant
    assert by["net.syslog.siem"].extra == ("logging host 192.0.2.99",)


def test_crlf_and_latin1_read_like_lf_and_utf8(estate: Estate) -> None:
    text = render(estate, estate.host("aar-core01")).text + "snmp-server location Rådhuset\n"
    as_device = text.replace("\n", "\r\n").encode("latin-1")
    assert _by_control(estate, "aar-core01", as_device) == _by_control(estate, "aar-core01", text)
    assert decode_config(as_device).count("Rådhuset") == text.count("Rådhuset")  # none dropped


def test_junos_brace_form_compares_like_set_form(estate: Estate) -> None:
    set_form = render(estate, estate.host("odd-fire04")).text
    brace = """system {
    host-name odd-fire04;
    name-server {
        10.250.0.53;
    }
    ntp {
        server 10.250.0.123;
        server 10.250.0.124;
    }
    syslog {
        host 10.250.0.14 {
            any any;
        }
    }
    tacplus-server {
        10.250.0.49 {
            secret "$9$abc"; ## SECRET-DATA
        }
    }
    login {
        message "Authorised access only - Faellesdrift Midt";
    }
}
snmp {
    community fw-vendor-ro {
        authorization read-only;
    }
}
"""
    assert all(c.compliant for c in _by_control(estate, "odd-fire04", brace).values())
    assert _by_control(estate, "odd-fire04", brace) == _by_control(estate, "odd-fire04", set_form)


def test_inactive_junos_statements_are_not_active_config() -> None:
    brace = "system {\n    syslog {\n        inactive: host 192.0.2.77 {\n            any any;\n" \
            "        }\n    }\n}\n"
    assert "deactivate system syslog host 192.0.2.77" in junos_set_form(brace)
    assert "192.0.2.77" not in prepare(JUNOS, brace).text


def test_a_parser_failure_is_a_reason_without_config_text(monkeypatch) -> None:
    def broken(*_args, **_kw):
        raise ValueError("Found a duplicate section: ('snmp-server community S3cr3t-9 RO',)")

    monkeypatch.setattr(compliance_module, "get_hconfig", broken)
    with pytest.raises(ConfigParseError) as caught:
        parse_config(IOS, "hostname x\n")
    message = str(caught.value)
    assert message.startswith("the config could not be parsed as cisco_ios: ValueError: "
                              "Found a duplicate section")
    assert "S3cr3t-9" not in message


def test_a_device_that_cannot_be_parsed_is_a_finding_and_the_run_goes_on(
        estate: Estate, odder_gear: Fleet, tmp_path: Path, monkeypatch) -> None:
    real = compliance_module.get_hconfig

    def picky(driver, text=""):
        if "community public" in text:  # only odd-dist02 has it
            raise ValueError("we are still in a banner for some reason")
        return real(driver, text)

    monkeypatch.setattr(compliance_module, "get_hconfig", picky)
    fleet = compliance(estate.subset(["odder"]), lab_settings(tmp_path, odder_gear))
    dist = fleet.host("odd-dist02")
    assert dist.status is Status.FAILED and dist.compliant is None
    assert "could not be parsed" in dist.reason and "banner" in dist.reason
    assert fleet.host("odd-fire04").status is Status.OK and fleet.host("odd-fire04").compliant
    planned = remediate(estate.subset(["odder"]), lab_settings(tmp_path, odder_gear))
    assert planned.host("odd-dist02").status is Status.FAILED  # nothing planned blind
    assert not planned.host("odd-dist02").pushed


class _Wire:
    """A session that prints given bytes, decoded the way netmiko decodes them."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def send_command(self, *_args, **_kw) -> str:
        from faellesdrift.network.runner import WIRE_ENCODING

        return self.data.decode(WIRE_ENCODING)


@pytest.mark.parametrize("data", [b"snmp-server location R\xc3\xa5dhuset\n",  # UTF-8
                                  b"snmp-server location R\xe5dhuset\n"])  # Latin-1
def test_bytes_read_from_a_device_are_never_dropped(data: bytes) -> None:
    from faellesdrift.network.runner import read_running, to_wire

    assert read_running(_Wire(data), IOS) == "snmp-server location Rådhuset\n"
    assert to_wire("banner Rådhuset").encode("latin-1") == "banner Rådhuset".encode()
