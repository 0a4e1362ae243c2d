"""Discovery's pure parts: parsing what devices print, targets, comparing with the file.

The device outputs in data/devices/ were read from the lab's emulated gear with netmiko
(`show version`, inventory and interfaces of each platform).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from faellesdrift.errors import ConfigError
from faellesdrift.importing import devicefacts
from faellesdrift.importing.discover import (
    Found,
    Target,
    compare,
    parse_target,
    targets_from_file,
    to_record,
    unique,
)

DEVICES = Path(__file__).parent / "data" / "devices"


def _outputs(platform: str) -> dict[str, str]:
    return {cmd: (DEVICES / f"{platform}__{cmd.replace(' ', '_')}.txt").read_text()
            for cmd in devicefacts.COMMANDS[platform]}


@pytest.mark.parametrize("platform", ["cisco_ios", "arista_eos", "juniper_junos"])
def test_each_platform_yields_every_fact(platform):
    outputs = _outputs(platform)
    f = devicefacts.facts(platform, outputs, prompt="labadmin@sam-x01>")
    assert f.hostname == "sam-x01"  # the prompt: the hostname as configured
    assert f.os_version and f.model and f.serial and f.interfaces, f
    assert set(f.parser) == set(devicefacts.COMMANDS[platform])
    assert devicefacts.detect(outputs["show version"]) == platform


def test_templates_first_patterns_for_what_they_leave_empty():
    ios = devicefacts.facts("cisco_ios", _outputs("cisco_ios"))
    assert ios.parser["show version"] == "ntc-templates"
    assert ios.os_version == "17.03.01a" and ios.model == "CSR1000V"
    junos = devicefacts.facts("juniper_junos", {
        "show version": "Hostname: odd-fw01\nModel: srx345\nJunos: 21.4R3.15\n"
                        "JUNOS OS Kernel 64-bit  [20230206.2]\n"})
    assert (junos.hostname, junos.model, junos.os_version) == ("odd-fw01", "srx345",
                                                               "21.4R3.15")


def test_an_unknown_show_version_detects_nothing():
    assert devicefacts.detect("% Invalid input detected at '^' marker.") is None
    assert devicefacts.detect("Cisco Nexus Operating System (NX-OS) Software") == "cisco_nxos"
    assert devicefacts.detect("Cisco IOS XE Software, Version 17.03.01a") == "cisco_ios"


def test_targets_say_what_they_are(tmp_path):
    assert parse_target("10.41.0.1 cisco_ios") == Target("10.41.0.1", "network_device",
                                                         "cisco_ios")
    assert parse_target("10.41.10.11 server").kind == "server"
    with pytest.raises(ConfigError, match="not an IPv4 address"):
        parse_target("10.41.0.300")
    with pytest.raises(ConfigError, match="neither server, network nor a platform"):
        parse_target("10.41.0.1 fortinet")
    listing = tmp_path / "targets.txt"
    listing.write_text("# core\n10.41.0.1 cisco_ios\n\n10.41.10.11 server  # file server\n"
                       "10.41.0.1\n")
    found = targets_from_file(listing)
    assert [t.ref for t in found] == ["targets.txt:2", "targets.txt:4", "targets.txt:5"]
    assert [t.address for t in unique(found)] == ["10.41.0.1", "10.41.10.11"]


def test_differences_are_identity_fields_only():
    device = Found(Target("10.41.0.1", "network_device", "cisco_ios", "sam-core01"), "found",
                   kind="network_device", hostname="sam-core01", platform="cisco_ios",
                   os_version="17.03.01a", model="CSR1000V", interfaces=16)
    entry = {"name": "sam-core01", "platform": "cisco_ios", "address": "10.41.0.1",
             "ports": 48, "os_version": "15.2(7)E3"}
    assert [(d.field, d.in_file, d.found) for d in compare(device, entry)] == [
        ("os_version", "15.2(7)E3", "17.03.01a")]  # 48 ports vs 16 interfaces: not a finding
    server = Found(Target("10.41.10.14", "server", None, "sam-db04", "debian11"), "found",
                   kind="server", hostname="SAM-DB04.samsoe.local", os="debian12", vcpu=2)
    assert [d.one_line() for d in compare(server, {"name": "sam-db04", "os": "debian11",
                                                   "vcpu": 8})] == [
        "sam-db04: os is 'debian11' in the file, 'debian12' live"]


def test_a_found_host_becomes_an_import_record():
    found = Found(Target("10.41.0.3"), "found", kind="network_device", hostname="sam-acce03",
                  platform="cisco_ios", os_version="17.03.01a", model="CSR1000V",
                  serial="9ESGOBARV9D", interfaces=16)
    r = to_record(found)
    assert r.values == {"name": "sam-acce03", "address": "10.41.0.3", "kind": "network device",
                        "model": "CSR1000V", "os_version": "17.03.01a",
                        "platform": "cisco_ios", "ports": "16", "serial": "9ESGOBARV9D"}


def test_the_hosts_of_an_asset_list_are_targets_with_what_the_rows_say(tmp_path):
    from faellesdrift.importing.discover import targets_from_records
    from faellesdrift.importing.mapping import Mapping
    from faellesdrift.importing.sources import read_csv

    sheet = tmp_path / "liste.csv"
    sheet.write_text("Værtsnavn;IP-adresse;Styresystem;Model\n"
                     "hed-dc01;10.66.10.5;Windows Server 2019;\n"
                     "hed-sw01;10.66.0.9;;Catalyst 9300\n"
                     "hed-x;n/a;;\n", encoding="utf-8")
    records, _ = read_csv(sheet, Mapping())
    targets = targets_from_records(records, Mapping())
    assert [(t.address, t.kind, t.platform, t.os) for t in targets] == [
        ("10.66.10.5", "server", None, "windows2019"),
        ("10.66.0.9", "network_device", "cisco_ios", None)]  # no address: the gap list's
