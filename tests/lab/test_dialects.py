"""The emulator's stateful config layer, driven line by line (no SSH, no root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faellesdrift.lab.devices import ios, junos
from faellesdrift.lab.devices.dialects import STOP, IosDialect, JunosDialect, for_store
from faellesdrift.lab.devices.store import DeviceStore, seed_lines


def store(tmp_path: Path, platform: str, lines: list[str]) -> DeviceStore:
    path = tmp_path / "dev.cfg"
    path.write_text("\n".join(lines) + "\n")
    return DeviceStore.open("dev1", platform, path, "labadmin")


def type_lines(dialect: IosDialect | JunosDialect, *lines: str) -> list[object]:
    return [dialect.handle(line.strip(), line) for line in lines]


IOS_START = ["hostname dev1", "ntp server 10.250.0.123", "snmp-server community public RO",
             "interface GigabitEthernet1/0/1", " description uplink"]


def test_ios_needs_enable_and_configure_terminal(tmp_path: Path) -> None:
    d = IosDialect(store(tmp_path, "cisco_ios", IOS_START))
    assert d.prompt() == "dev1>"
    assert "Invalid input" in str(d.handle("show running-config", ""))
    type_lines(d, "enable", "configure terminal")
    assert d.prompt() == "dev1(config)#"
    type_lines(d, "interface GigabitEthernet1/0/2")
    assert d.prompt() == "dev1(config-if)#"
    type_lines(d, "end")
    assert d.prompt() == "dev1#"
    assert d.handle("exit", "exit") is STOP


def test_ios_lines_add_remove_and_replace(tmp_path: Path) -> None:
    s = store(tmp_path, "cisco_ios", IOS_START)
    d = IosDialect(s)
    type_lines(d, "enable", "configure terminal", "ntp server 10.250.0.124",
               "no snmp-server community public", "hostname dev1-new",
               "interface GigabitEthernet1/0/1", " description core uplink", " shutdown",
               "logging host 10.250.0.14", "end")
    running = str(d.handle("show running-config", ""))
    assert "ntp server 10.250.0.123\nntp server 10.250.0.124" in running  # next to its kin
    assert "snmp-server community" not in running
    assert "hostname dev1-new" in running and "hostname dev1\n" not in running
    assert "interface GigabitEthernet1/0/1\n description core uplink\n shutdown" in running
    assert "logging host 10.250.0.14" in running  # a global line leaves the interface
    assert running.rstrip().endswith("end")
    assert "ntp server 10.250.0.124" in s.path.read_text()  # saved on every change


def test_ios_no_removes_a_whole_block_and_no_shutdown_is_hidden(tmp_path: Path) -> None:
    d = IosDialect(store(tmp_path, "cisco_ios", IOS_START))
    type_lines(d, "enable", "conf t", "interface GigabitEthernet1/0/1", "shutdown",
               "no shutdown", "exit", "no ip domain-lookup", "end")
    running = str(d.handle("show running-config", ""))
    assert " shutdown" not in running and "no shutdown" not in running
    assert "no ip domain-lookup" in running
    type_lines(d, "conf t", "no interface GigabitEthernet1/0/1", "end")
    assert "GigabitEthernet1/0/1" not in str(d.handle("show running-config", ""))


@pytest.mark.parametrize("platform,push,shown", [
    ("cisco_ios", ["banner motd ^Authorised only^"], "banner motd ^C\nAuthorised only\n^C"),
    ("cisco_ios", ["banner motd #", "line one", "line two#"], "banner motd ^C\nline one\nline two\n^C"),
    ("arista_eos", ["banner motd", "Authorised only", "EOF"], "banner motd\nAuthorised only\nEOF"),
])
def test_banners(tmp_path: Path, platform: str, push: list[str], shown: str) -> None:
    d = IosDialect(store(tmp_path, platform, ["hostname dev1"]))
    type_lines(d, "enable", "configure terminal", *push)
    assert d.prompt().endswith("(config)#")
    type_lines(d, "end")
    assert shown in str(d.handle("show running-config", ""))
    type_lines(d, "configure terminal", "no banner motd", "end")
    assert "banner" not in str(d.handle("show running-config", ""))


def test_pipes_on_show_running_config(tmp_path: Path) -> None:
    d = IosDialect(store(tmp_path, "cisco_ios", IOS_START))
    type_lines(d, "enable")
    assert d.handle("show running-config | include ntp", "") == "ntp server 10.250.0.123"
    section = str(d.handle("show run | section interface", ""))
    assert section == "interface GigabitEthernet1/0/1\n description uplink"


def test_eos_indents_three_and_allows_show_in_config_mode(tmp_path: Path) -> None:
    d = for_store(store(tmp_path, "arista_eos", ["hostname dev1"]))
    type_lines(d, "enable", "configure terminal", "interface Ethernet1", "description up")
    assert "interface Ethernet1\n   description up" in str(d.handle("show running-config", ""))


JUNOS_START = ["system host-name dev1", "system ntp server 10.250.0.123",
               "snmp community public authorization read-only"]


def test_junos_candidate_commit_and_display_set(tmp_path: Path) -> None:
    s = store(tmp_path, "juniper_junos", JUNOS_START)
    d = JunosDialect(s)
    assert d.prompt() == "labadmin@dev1> "
    assert d.handle("configure", "") == "Entering configuration mode"
    assert d.prompt().endswith("[edit]\nlabadmin@dev1# ")
    type_lines(d, "set system ntp server 10.250.0.124", "delete snmp community public")
    assert "10.250.0.124" not in s.path.read_text()  # not before commit
    assert "+ set system ntp server 10.250.0.124" in str(d.handle("show | compare", ""))
    assert d.handle("commit", "") == "commit complete"
    assert "10.250.0.124" in s.path.read_text()
    d.handle("exit configuration-mode", "")
    shown = str(d.handle("show configuration | display set", ""))
    assert shown.splitlines() == ["set system host-name dev1", "set system ntp server 10.250.0.123",
                                  "set system ntp server 10.250.0.124"]
    assert "ntp {\n        server 10.250.0.123;" in str(d.handle("show configuration", ""))


def test_junos_exit_with_uncommitted_changes_asks_and_discards(tmp_path: Path) -> None:
    s = store(tmp_path, "juniper_junos", JUNOS_START)
    d = JunosDialect(s)
    type_lines(d, "configure", "set system ntp server 10.9.9.9")
    assert "not committed" in str(d.handle("exit configuration-mode", ""))
    assert d.prompt().startswith("Exit with uncommitted changes?")
    assert d.handle("yes", "") == "Exiting configuration mode"
    assert d.mode == "op" and "10.9.9.9" not in s.path.read_text()


def test_junos_edit_paths_and_single_valued_leaves(tmp_path: Path) -> None:
    d = JunosDialect(store(tmp_path, "juniper_junos", JUNOS_START))
    type_lines(d, "configure", "edit system", "set host-name dev2", "top", "commit")
    assert junos.display_set(d.active()).splitlines()[0] == "set system ntp server 10.250.0.123"
    assert "set system host-name dev2" in junos.display_set(d.active())
    assert "set system host-name dev1" not in junos.display_set(d.active())


def test_ios_config_file_round_trip() -> None:
    lines = ["hostname x", "interface Gi1", " description a", "banner motd ^C", "hello",
             "^C", "line vty 0 4", " transport input ssh"]
    assert ios.dump(ios.parse(lines)) == lines


@pytest.mark.parametrize("platform,banner", [
    ("cisco_nxos", ["banner motd #Authorised only#"]),
    ("aruba_aoscx", ["banner motd !", "Authorised only", "!"]),
])
def test_nxos_and_aoscx_log_in_privileged_and_keep_their_banner_form(
        tmp_path: Path, platform: str, banner: list[str]) -> None:
    d = for_store(store(tmp_path, platform, ["hostname dev1", "ntp server 10.250.0.123"]))
    assert d.prompt() == "dev1#"  # no `enable` on these platforms
    type_lines(d, "configure terminal", "ntp server 10.250.0.124", *banner,
               "no ntp server 10.250.0.123", "end")
    running = str(d.handle("show running-config", ""))
    delimiter = ios.STYLES[platform].banner_end
    assert f"banner motd {delimiter}\nAuthorised only\n{delimiter}" in running
    assert "ntp server 10.250.0.124" in running and "10.250.0.123" not in running
    assert ("!Command: show running-config" in running) == (platform == "cisco_nxos")


FORTI_START = ["config system ntp", "    set ntpsync enable", "    config ntpserver",
               "        edit 1", '            set server "10.250.0.123"', "        next",
               "    end", "end"]


def test_fortios_blocks_set_unset_and_delete(tmp_path: Path) -> None:
    s = store(tmp_path, "fortinet", FORTI_START)
    d = for_store(s)
    assert d.prompt() == "dev1 # "
    assert "Virtual domain configuration: disable" == d.handle(
        "get system status | grep Virtual", "")
    type_lines(d, "config system ntp", "config ntpserver", "edit 2")
    assert d.prompt() == "dev1 (2) # "
    type_lines(d, 'set server "10.250.0.124"', "next", "delete 1", "end", "unset ntpsync",
               "end", "config system dns", "set primary 10.250.0.53", "end")
    assert d.prompt() == "dev1 # "
    shown = str(d.handle("show", ""))
    assert '        edit 2\n            set server "10.250.0.124"\n        next' in shown
    assert "10.250.0.123" not in shown and "ntpsync" not in shown
    assert str(d.handle("show system dns", "")) == \
        "config system dns\n    set primary 10.250.0.53\nend"
    assert "Command fail" in str(d.handle("frobnicate", ""))
    assert d.handle("exit", "exit") is STOP
    assert "10.250.0.124" in s.path.read_text()  # saved on every change


@pytest.mark.parametrize("platform,text,lines", [
    ("cisco_ios", "! note\nhostname r1\nbanner motd ^C\n! not a comment\n^C\nend\n",
     ("hostname r1", "banner motd ^C", "! not a comment", "^C")),
    ("juniper_junos", "# note\nset system host-name j1\n", ("system host-name j1",)),
    ("fortinet", "#config-version=x\nconfig system dns\n    set primary 10.0.0.1\nend\n",
     ("config system dns", "    set primary 10.0.0.1", "end")),
])
def test_seed_lines_are_what_the_device_loads(platform: str, text: str, lines) -> None:
    assert seed_lines(platform, text) == lines
