"""`tenant import` on a realistic spreadsheet, a NetBox export, merges and bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from faellesdrift.cli import app
from faellesdrift.estate import validate
from tests.conftest import TODAY

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def _import(root: Path, *args: str):
    return runner.invoke(app, ["tenant", "import", *args, "--root", str(root), "-o", "json"])


def _errors(root: Path, file: str) -> list[str]:
    return [f.one_line() for f in validate(root, TODAY).findings
            if f.severity == "error" and f.file in (file, "community.yaml")]


def test_spreadsheet_imports_into_a_valid_file_and_names_every_gap(community_copy):
    before = (community_copy / "community.yaml").read_text()
    result = _import(community_copy, "766", "--from", str(DATA / "hedensted_assets.xlsx"),
                     "--population", "47000")
    assert result.exit_code == 0, result.output  # written and valid; the skips are listed
    report = json.loads(result.stdout)
    assert report["written"] and report["pool_allocated"] == "10.66.0.0/16"
    assert _errors(community_copy, "tenants/hedensted.yaml") == []
    after = (community_copy / "community.yaml").read_text()
    assert after.replace("  hedensted: 10.66.0.0/16  # allocated by `faellesdrift tenant`\n",
                         "") == before  # one line added, every comment kept
    skipped = {g["ref"]: g["message"] for g in report["gaps"] if g["action"] == "skipped"}
    assert "duplicate of row 2" in skipped["row 315"]
    assert "'10.66.10.300' is not an IPv4 address" in skipped["row 316"]
    assert "'n/a'" in skipped["row 317"]
    assert "odd-file01 of tenant odder" in skipped["row 318"]
    assert "OpenVMS" in skipped["row 319"] and "windows2019" in skipped["row 319"]
    assert "no host name" in skipped["row 320"]
    kept_out = {g["ref"]: g["message"] for g in report["gaps"] if g["action"] == "inventory"}
    assert "other_assets" in kept_out["row 134"] and "cisco_ios" in kept_out["row 134"]
    assert any("2 blank row(s)" in m for m in skipped.values())
    # every data row is in the file, counted, or in the gap list
    text = (community_copy / "tenants" / "hedensted.yaml").read_text()
    counts = report["counts"]
    assert counts["servers"] == 60 and counts["network_devices"] == 70
    assert counts["endpoints"] == 180 and "count: 180" in text
    assert counts["records"] == (counts["servers"] + counts["network_devices"]
                                 + counts["other_assets"] + 180 + 6)
    assert counts["skipped"] == 6 and len(skipped) == 7  # six rows, and the blank ones
    assert "{name: hed-fw-forti, kind: network_device, platform: FortiGate 100F" in text
    assert "os: windows2019" in text and "name: hed-srv001," in text
    inventory = [g for g in report["gaps"] if g["action"] == "inventory"]
    assert len(inventory) == text.count("os: windows") + 1
    assert all("not under the shared" in g["message"] for g in inventory)


def test_tenant_new_allocates_a_pool_and_validates_without_editing(community_copy):
    result = runner.invoke(app, ["tenant", "new", "766", "--population", "47000",
                                 "--root", str(community_copy)])
    assert result.exit_code == 0, result.output
    assert "  hedensted: 10.0.0.0/16" in (community_copy / "community.yaml").read_text()
    assert _errors(community_copy, "tenants/hedensted.yaml") == []


def test_dry_run_writes_nothing(community_copy):
    before = (community_copy / "community.yaml").read_text()
    result = _import(community_copy, "766", "--from", str(DATA / "hedensted_assets.xlsx"),
                     "--population", "47000", "--dry-run")
    report = json.loads(result.stdout)
    assert not report["written"] and "+  - {name: hed-srv001" in report["diff"]
    assert not (community_copy / "tenants" / "hedensted.yaml").exists()
    assert (community_copy / "community.yaml").read_text() == before


def test_merge_keeps_comments_order_and_the_files_values(community_copy, tmp_path):
    path = community_copy / "tenants" / "odder.yaml"
    before = path.read_text()
    sheet = tmp_path / "odder.csv"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Hostname", "IP address", "Operating system", "Role", "vCPU", "RAM", "Disk"])
        w.writerow(["odd-file01", "10.27.10.11", "Debian 12", "something else", 64, 64, 64])
        w.writerow(["ODD-DC13", "10.27.10.23", "Windows Server 2019", "dc", 2, 8, 100])
        w.writerow(["odd-new14", "10.27.30.5", "Debian 12", "app", "", "", ""])
    result = _import(community_copy, "727", "--from", str(sheet))
    assert result.exit_code == 0, result.output
    after = path.read_text()
    assert after.startswith(before.split("servers:")[0])  # header, comments, networks kept
    assert "# approximate" in after and after.index("odd-dc12") < after.index("odd-dc13")
    assert "{name: odd-file01, address: 10.27.10.11, os: debian12, role: fileserver, vcpu: 4" \
        in after  # the file's entry is kept, not overwritten
    assert "prefix: 10.27.30.0/24" in after
    report = json.loads(result.stdout)
    assert any("missing vcpu=2" in g["message"] for g in report["gaps"])
    assert _errors(community_copy, "tenants/odder.yaml") == []


def test_netbox_export_maps_tenants_prefixes_vlans_devices_and_vms(community_copy):
    result = _import(community_copy, "615", "--from", str(DATA / "horsens_netbox.json"))
    assert result.exit_code == 0, result.output
    text = (community_copy / "tenants" / "horsens.yaml").read_text()
    assert "{name: net-mgmt, vlan: 300, prefix: 10.15.200.0/24}" in text
    assert "{name: srv, vlan: 310, prefix: 10.15.210.0/24}" in text
    assert "{name: hor-core-a, platform: cisco_ios, address: 10.15.200.1, role: core" in text
    assert "platform: arista_eos" in text and "ports: 48" in text
    assert "{name: hor-fw-a, platform: juniper_junos" in text
    assert "{name: hor-dc-a, address: 10.15.210.10, os: windows2019, role: dc, vcpu: 2, " \
           "memory_gb: 8, disk_gb: 100}" in text
    assert "skb-sw" not in text
    report = json.loads(result.stdout)
    assert any("other tenants" in g["message"] for g in report["gaps"])
    assert _errors(community_copy, "tenants/horsens.yaml") == []


def _files(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in [root / "community.yaml", *(root / "tenants").iterdir()]}


def test_bad_input_changes_nothing(community_copy, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("inputs")
    before = _files(community_copy)
    bad_map = tmp_path / "map.yaml"
    bad_map.write_text("platforms: {Zyxel: zyxel_os}\n")
    result = _import(community_copy, "766", "--from", str(DATA / "hedensted_assets.xlsx"),
                     "--population", "1", "--map", str(bad_map))
    assert result.exit_code == 1 and "map.yaml" in result.output
    assert "supported platforms are cisco_ios" in result.output
    no_name = tmp_path / "list.csv"
    no_name.write_text("Foo,Bar\n1,2\n")
    result = _import(community_copy, "766", "--from", str(no_name), "--population", "1")
    assert result.exit_code == 1 and "list.csv" in result.output and "Værtsnavn" in result.output
    result = _import(community_copy, "766", "--from", str(tmp_path / "x.pdf"))
    assert result.exit_code == 2 and "unknown file type" in result.output
    assert _files(community_copy) == before


def test_a_result_that_would_not_validate_is_not_written(community_copy, tmp_path):
    sheet = tmp_path / "big.csv"
    sheet.write_text("Værtsnavn,IP-adresse,Styresystem,vCPU\n"
                     + "".join(f"hed-big{i},10.66.10.{i + 10},Debian 12,100\n" for i in range(5)))
    before = (community_copy / "community.yaml").read_text()
    result = _import(community_copy, "766", "--from", str(sheet), "--population", "47000")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert not report["written"]
    assert {f["rule"] for f in report["findings"]} == {"quota.compute-exceeded"}
    assert not (community_copy / "tenants" / "hedensted.yaml").exists()
    assert (community_copy / "community.yaml").read_text() == before


def test_no_adapter_imports_the_importer():
    src = Path(__file__).resolve().parents[2] / "src" / "faellesdrift"
    for adapter in ("lab", "platform", "network", "servers", "metering", "reports", "onboarding"):
        for path in (src / adapter).rglob("*.py"):
            assert "faellesdrift.importing" not in path.read_text(), path


def test_fixture_data_is_what_the_generator_writes(tmp_path, monkeypatch):
    from tests.importing import make_data

    monkeypatch.setattr(make_data, "DATA", tmp_path)
    make_data.main()
    assert (tmp_path / "horsens_netbox.json").read_text() == \
        (DATA / "horsens_netbox.json").read_text()


def test_mapping_file_names_columns_and_values(community_copy, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inputs")
    sheet = tmp / "liste.csv"
    sheet.write_text("Maskine;Adr;OS-navn;Udstyr\n"
                     "hed-a1;10.66.10.5;W2K19;\n"
                     "hed-b1;10.66.0.9;;Zyxel GS1900\n"
                     "hed-c1;10.66.0.10;;Catalyst 2960\n", encoding="utf-8")
    mapping = tmp / "mapping.yaml"
    mapping.write_text("columns: {name: Maskine, address: Adr, os: OS-navn, model: Udstyr}\n")
    result = _import(community_copy, "766", "--from", str(sheet), "--population", "47000",
                     "--map", str(mapping))
    assert result.exit_code == 0  # the Zyxel switch is unknown: skipped, with what to do
    report = json.loads(result.stdout)
    skipped = [g for g in report["gaps"] if g["action"] == "skipped"]
    assert [g["ref"] for g in skipped] == ["row 3"]
    assert "unknown platform/OS 'Zyxel GS1900'" in skipped[0]["message"]
    assert "cisco_ios, arista_eos" in skipped[0]["message"] and "--map" in skipped[0]["message"]
    text = (community_copy / "tenants" / "hedensted.yaml").read_text()
    assert "{name: hed-a1, address: 10.66.10.5, os: windows2019" in text
    assert "{name: hed-c1, platform: cisco_ios" in text
    strict = _import(community_copy, "766", "--from", str(sheet), "--map", str(mapping),
                     "--strict", "--dry-run")
    assert strict.exit_code == 1  # a script that needs every row says --strict
    mapping.write_text(mapping.read_text() + "platforms: {Zyxel GS1900: cisco_ios}\n")
    again = _import(community_copy, "766", "--from", str(sheet), "--map", str(mapping))
    assert again.exit_code == 0, again.output
    assert "{name: hed-b1, platform: cisco_ios" in \
        (community_copy / "tenants" / "hedensted.yaml").read_text()


def test_other_assets_are_inventory_that_guardrails_still_check(community_copy):
    path = community_copy / "tenants" / "odder.yaml"
    text = path.read_text().replace("endpoints: {count: 2666", (
        "other_assets:\n"
        "  - {name: odd-forti01, kind: network_device, platform: FortiGate 60F, "
        "address: 10.27.0.9, reason: Local vendor runs it}\n"
        "  - {name: hor-core01, kind: appliance, platform: Ruckus, reason: Not ours}\n"
        "endpoints: {count: 2666"))
    path.write_text(text.replace("covers: [odd-fire04]", "covers: [odd-fire04, odd-forti01]"))
    findings = [f for f in validate(community_copy, TODAY).findings if f.severity == "error"
                and f.file == "tenants/odder.yaml"]
    assert [(f.rule, f.field) for f in findings] == [
        ("community.duplicate-hostname", "other_assets[1].name")]


def test_a_merge_with_nothing_new_leaves_every_sample_file_byte_for_byte():
    from faellesdrift.importing.build import ImportPlan
    from faellesdrift.importing.run import _merge

    for path in sorted((Path(__file__).resolve().parents[2] / "tenants").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert _merge(text, ImportPlan()) == text, path.name


def test_what_the_community_already_had_does_not_block_an_import(community_copy,
                                                                  tmp_path_factory):
    sheet = tmp_path_factory.mktemp("inputs") / "samsoe.csv"
    sheet.write_text("Hostname,IP,OS\nsam-new01,10.41.10.99,Debian 12\n")
    result = _import(community_copy, "741", "--from", str(sheet))
    assert result.exit_code == 0, result.output  # samsoe's expired exception is not the import's
    assert json.loads(result.stdout)["findings"] == []
    assert "sam-new01" in (community_copy / "tenants" / "samsoe.yaml").read_text()
