"""Redaction, filters, credentials, inventories and results: small tables, no device."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from faellesdrift.estate import Estate
from faellesdrift.lab_access import LabAccess, access_file, write_lab_access
from faellesdrift.network.connect import load_credentials
from faellesdrift.network.errors import NetworkError
from faellesdrift.network.filters import Filters
from faellesdrift.network.inventory import EstateInventory, build, build_files
from faellesdrift.network.redact import MARK, for_backup, redact
from faellesdrift.network.results import DeviceResult, FleetResult, Status
from faellesdrift.network.settings import NetworkSettings
from faellesdrift.settings import Settings
from tests.conftest import REPO

# one row per kind of secret: (config line, the secret that must not survive)
SECRETS = [
    ("enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0", "$1$mERr"),
    ("enable password cisco123", "cisco123"),
    ("username admin privilege 15 secret 5 $1$aBcD$0123", "$1$aBcD"),
    ("username ops role network-admin secret sha512 $6$abc$def", "$6$abc"),
    ("snmp-server community public RO", "public"),
    ("snmp-server community fw-vendor-ro ro", "fw-vendor-ro"),
    ("tacacs-server key 7 0822455D0A16", "0822455D0A16"),
    ("tacacs-server host 10.250.0.49 key 7 070C285F4D06", "070C285F4D06"),
    ("radius-server key s3cr3t", "s3cr3t"),
    (" key 7 094F471A1A0A", "094F471A1A0A"),
    (" password 7 02050D480809", "02050D480809"),
    (" ip ospf authentication-key 7 1511021F0725", "1511021F0725"),
    ("snmp-server user mon grp v3 auth sha Auth123 priv aes 128 Priv456", "Auth123"),
    ("snmp-server user mon grp v3 auth sha Auth123 priv aes 128 Priv456", "Priv456"),
    ('set system root-authentication encrypted-password "$6$abcdef$ghijkl"', "$6$abcdef"),
    ('set system tacplus-server 10.250.0.49 secret "$9$xyz"', "$9$xyz"),
    ("set snmp community fw-vendor-ro authorization read-only", "fw-vendor-ro"),
    ("    community public {", "public"),
    ('        encrypted-password "$6$q$w"; ## SECRET-DATA', "$6$q$w"),
]


@pytest.mark.parametrize("line,secret", SECRETS)
def test_secrets_are_redacted(line: str, secret: str) -> None:
    out = redact(line)
    assert secret not in out and MARK in out


@pytest.mark.parametrize("line", ["ntp server 10.250.0.123", "logging host 10.250.0.14",
                                  "set system ntp server 10.250.0.123", "hostname aar-core01",
                                  "tacacs-server host 10.250.0.49"])
def test_ordinary_lines_are_kept(line: str) -> None:
    assert redact(line) == line


def test_backup_text_drops_volatile_lines_and_is_stable() -> None:
    raw = ("Building configuration...\n\nCurrent configuration : 99 bytes\n!\n"
           "! Last configuration change at 10:11:12 UTC\n!\nhostname x\nend\n")
    assert for_backup(raw) == "hostname x\nend\n"
    assert for_backup(for_backup(raw)) == for_backup(raw)


@pytest.mark.parametrize("filters,expected", [
    (Filters.of(tenant="odder"), 5),
    (Filters.of(tenant=["odder", "samsoe"]), 9),
    (Filters.of(platform="juniper_junos", tenant="odder"), 2),
    (Filters.of(role="core"), 18),
    (Filters.of(site="Rådhuset", role="core"), 18),
    (Filters.of(site="Skolen Nord"), 15),
    (Filters.of(site="skolen_nord"), 15),
    (Filters.of(host="aar-core01"), 1),
    (Filters(), 89),
])
def test_filters_select(estate: Estate, filters: Filters, expected: int) -> None:
    assert len(filters.select(estate)) == expected


@pytest.mark.parametrize("option,value", [("tenant", "odderr"), ("site", "Raadhuset"),
                                          ("role", "router"), ("platform", "cisco_xr")])
def test_unknown_filter_values_are_errors_that_list_what_exists(estate, option, value) -> None:
    with pytest.raises(NetworkError, match=f"--{option} '{value}' matches no network device"):
        Filters.of(**{option: value}).select(estate)


def _net(tmp_path: Path, **kw) -> NetworkSettings:
    return NetworkSettings.from_settings(
        Settings(root=REPO, state_dir=tmp_path / "state", cache_dir=tmp_path / "c"), **kw)


def test_credentials_from_the_environment_win(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FAELLESDRIFT_DEVICE_USER", "ops")
    monkeypatch.setenv("FAELLESDRIFT_DEVICE_PASSWORD", "pw")
    creds = load_credentials(_net(tmp_path))
    assert (creds.username, creds.password) == ("ops", "pw")
    assert "pw" not in repr(creds)


def test_credentials_default_to_the_labs_file(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FAELLESDRIFT_DEVICE_USER", raising=False)
    monkeypatch.delenv("FAELLESDRIFT_DEVICE_CREDENTIALS", raising=False)
    login = tmp_path / "state" / "lab" / "credentials.json"
    login.parent.mkdir(parents=True)
    login.write_text(json.dumps({"devices": {"username": "labadmin", "password": "x"}}))
    write_lab_access(access_file(tmp_path / "state"), LabAccess(device_credentials=login))
    assert load_credentials(_net(tmp_path)).username == "labadmin"


def test_missing_credentials_say_how_to_provide_them(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FAELLESDRIFT_DEVICE_USER", raising=False)
    monkeypatch.delenv("FAELLESDRIFT_DEVICE_CREDENTIALS", raising=False)
    with pytest.raises(NetworkError, match="FAELLESDRIFT_DEVICE_USER.*lab up"):
        load_credentials(_net(tmp_path))


def test_a_secrets_file_inside_the_repository_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FAELLESDRIFT_DEVICE_USER", raising=False)
    monkeypatch.setenv("FAELLESDRIFT_DEVICE_CREDENTIALS", str(REPO / "tenants" / "creds.json"))
    with pytest.raises(NetworkError, match="inside the repository is refused"):
        load_credentials(_net(tmp_path))


def test_inventory_files_are_deterministic_and_hold_no_secrets(estate: Estate) -> None:
    first, second = build_files(estate), build_files(estate)
    assert first == second
    assert set(first) == {"inventory/nornir.yaml", "inventory/hosts.yaml",
                          "inventory/groups.yaml", "inventory/defaults.yaml",
                          "inventory/ansible.yaml"}
    text = "".join(first.values())
    assert "password" not in text and "fw-vendor-ro" not in text
    assert "site_raadhuset" in first["inventory/groups.yaml"]
    assert "ansible_network_os: junipernetworks.junos.junos" in first["inventory/ansible.yaml"]


def test_committed_inventory_is_up_to_date(estate: Estate, tmp_path: Path) -> None:
    result = build(estate, REPO, check=True)
    assert not result.differ, (
        f"inventory/ is out of date ({', '.join(result.differ)}): run "
        "`faellesdrift inventory build` and commit inventory/")


def test_inventory_check_reports_and_build_fixes(estate: Estate, tmp_path: Path) -> None:
    assert build(estate, tmp_path, check=True).differ
    assert len(build(estate, tmp_path).written) == 5
    assert not build(estate, tmp_path, check=True).differ
    (tmp_path / "inventory" / "hosts.yaml").write_text("changed by hand\n")
    assert build(estate, tmp_path, check=True).differ == ("inventory/hosts.yaml",)


def test_nornir_plugin_reads_the_estate(monkeypatch) -> None:
    monkeypatch.setenv("FAELLESDRIFT_ROOT", str(REPO))
    inv = EstateInventory(target="estate", tenants=["odder"]).load()
    assert sorted(inv.hosts) == ["odd-acce03", "odd-core01", "odd-dist02", "odd-fire04",
                                 "odd-wan05"]
    core = inv.hosts["odd-core01"]
    assert (core.hostname, core.port, core.platform) == ("10.27.0.1", 22, "cisco_ios")
    assert [g.name for g in core.groups] == ["tenant_odder", "platform_cisco_ios", "role_core",
                                             "site_raadhuset"]
    assert core.username is None  # credentials only when asked for, never from files


def test_nornir_plugin_is_registered_by_entry_point() -> None:
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="nornir.plugins.inventory")}
    assert names.get("faellesdrift.EstateInventory") == \
        "faellesdrift.network.inventory:EstateInventory", (
        "pyproject.toml lacks the entry point: [project.entry-points.\"nornir.plugins.inventory\"]"
        " \"faellesdrift.EstateInventory\" = \"faellesdrift.network.inventory:EstateInventory\" "
        "(then reinstall: pip install -e .)")


def _h(name: str, tenant: str, status: Status) -> DeviceResult:
    return DeviceResult(name, tenant, "cisco_ios", status)


def test_shard_results_merge_and_overlaps_are_refused() -> None:
    t = datetime(2026, 11, 27, tzinfo=UTC)
    a = FleetResult("network compliance", (_h("b1", "b", Status.OK),), t, t)
    b = FleetResult("network compliance", (_h("a1", "a", Status.UNREACHABLE),), t, t)
    merged = a.merge(b)
    assert [h.host for h in merged.hosts] == ["a1", "b1"] and not merged.ok
    with pytest.raises(ValueError, match="overlap"):
        merged.merge(a)


def test_init_nornir_loads_the_estate_through_the_plugin(monkeypatch) -> None:
    from nornir import InitNornir
    from nornir.core.plugins.inventory import InventoryPluginRegister

    monkeypatch.setenv("FAELLESDRIFT_ROOT", str(REPO))
    InventoryPluginRegister.register("faellesdrift.EstateInventory", EstateInventory)
    nr = InitNornir(inventory={"plugin": "faellesdrift.EstateInventory",
                               "options": {"tenants": ["samsoe"]}},
                    logging={"enabled": False})
    assert sorted(nr.inventory.hosts) == ["sam-acce03", "sam-core01", "sam-dist02",
                                          "sam-fire04"]
    assert len(nr.filter(platform="juniper_junos").inventory.hosts) == 1


def test_a_backup_run_keeps_each_devices_last_successful_backup() -> None:
    first = datetime(2026, 11, 27, 2, tzinfo=UTC)
    second = datetime(2026, 11, 28, 2, tzinfo=UTC)
    run1 = FleetResult("network backup", (_h("a1", "a", Status.CHANGED), _h("a2", "a", Status.OK)),
                       first, first, details={"commit": "c1"})
    saved = run1.backup_payload(None)
    assert [h["last_success"] for h in saved["tenants"]["a"]["hosts"]] == [first.isoformat()] * 2
    run2 = FleetResult("network backup", (_h("a1", "a", Status.UNREACHABLE),
                                          _h("a2", "a", Status.CHANGED),
                                          _h("b1", "b", Status.FAILED)),
                       second, second, details={"commit": "c2"})
    payload = run2.backup_payload(saved)
    hosts = {h["host"]: h for entry in payload["tenants"].values() for h in entry["hosts"]}
    assert hosts["a1"]["last_success"] == first.isoformat() and not hosts["a1"]["backed_up"]
    assert hosts["a2"]["last_success"] == second.isoformat() and hosts["a2"]["backed_up"]
    assert hosts["b1"]["last_success"] is None
    assert not payload["tenants"]["a"]["ok"] and payload["tenants"]["a"]["commit"] == "c2"
