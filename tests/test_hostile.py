"""The hostile corpus: each bad tenant file fails with its own rule id, one clear line, no traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from faellesdrift.cli import app
from faellesdrift.estate import validate
from tests.conftest import TODAY

HOSTILE = Path(__file__).parent / "hostile"
CASES = sorted(HOSTILE.glob("*.yaml"))


def expected_rule(path: Path) -> str:
    match = re.search(r"-> expect (\S+)", path.read_text(encoding="utf-8", errors="replace"))
    assert match, f"{path.name} must say which rule it expects"
    return match.group(1)


def test_corpus_is_complete():
    rules = {expected_rule(p) for p in CASES}
    assert len(CASES) >= 25
    assert {"yaml.syntax", "yaml.duplicate-key", "yaml.alias-bomb", "schema.unknown-field",
            "schema.type", "community.duplicate-hostname", "community.duplicate-address",
            "net.prefix-overlap",
            "net.address-outside-prefix", "exception.mandatory-control",
            "exception.foreign-host", "exception.expired", "text.control-chars",
            "text.template-syntax", "name.unsafe"} <= rules


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_hostile_file_fails_with_its_rule(case: Path, community_copy: Path):
    target = community_copy / "tenants" / "samsoe.yaml"
    shutil.copy(case, target)
    result = CliRunner().invoke(app, ["validate", "--root", str(community_copy),
                                      "--output", "json"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    report = json.loads(result.stdout)
    hits = [f for f in report["findings"] if f["rule"] == expected_rule(case)]
    assert hits, report["findings"]
    hit = hits[0]
    assert hit["file"] == "tenants/samsoe.yaml"
    assert hit["field"] or hit["line"], "a finding must point at a field or a line"
    assert hit["fix"]


def test_file_over_5_mb_is_refused_unread(community_copy: Path):
    target = community_copy / "tenants" / "samsoe.yaml"
    target.write_bytes(b"# padding\n" * (600 * 1024))
    result = validate(community_copy, TODAY)
    assert [f.rule for f in result.findings if f.severity == "error"] == ["file.too-large"]


def test_alias_bomb_fails_with_bounded_memory(community_copy: Path):
    shutil.copy(HOSTILE / "alias_bomb.yaml", community_copy / "tenants" / "samsoe.yaml")
    tracemalloc.start()
    result = validate(community_copy, TODAY)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert any(f.rule == "yaml.alias-bomb" for f in result.findings)
    assert peak < 50 * 1024 * 1024


def test_human_output_is_one_line_per_finding(community_copy: Path):
    shutil.copy(HOSTILE / "newline_in_text.yaml", community_copy / "tenants" / "samsoe.yaml")
    result = validate(community_copy, TODAY)
    for f in result.findings:
        assert "\n" not in f.one_line()


def _errors(root: Path) -> list[tuple[str, str]]:
    result = validate(root, TODAY)
    return [(f.rule, f.file) for f in result.findings if f.severity == "error"]


@pytest.mark.parametrize("kind", ["fifo", "directory", "dev-zero", "unreadable"])
def test_only_regular_files_are_read(community_copy: Path, kind: str):
    target = community_copy / "tenants" / "extra.yaml"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    elif kind == "dev-zero":
        target.symlink_to("/dev/zero")
    else:
        target.write_text("code: 101\n")
        target.chmod(0)
        if os.access(target, os.R_OK):  # root reads anything: make it a dangling link instead
            target.unlink()
            target.symlink_to(community_copy / "nowhere.yaml")
    rule = "file.unreadable" if kind == "unreadable" else "file.not-regular"
    assert (rule, "tenants/extra.yaml") in _errors(community_copy)


def test_a_bom_is_not_an_unknown_field(community_copy: Path):
    path = community_copy / "tenants" / "odder.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert not [e for e in _errors(community_copy) if e[1] == "tenants/odder.yaml"]


@pytest.mark.parametrize("empty", ["no files", "no directory"])
def test_a_community_without_tenants_is_an_error(community_copy: Path, empty: str):
    shutil.rmtree(community_copy / "tenants")
    if empty == "no files":
        (community_copy / "tenants").mkdir()
    assert ("community.no-tenants", "tenants/") in _errors(community_copy)
    result = CliRunner().invoke(app, ["validate", "--root", str(community_copy), "-o", "json"])
    assert result.exit_code == 1
    (finding,) = json.loads(result.stdout)["findings"]
    assert "faellesdrift tenant new" in finding["fix"]


def test_tenant_new_never_writes_through_a_link(community_copy: Path,
                                                tmp_path_factory: pytest.TempPathFactory):
    tmp_path = tmp_path_factory.mktemp("outside")
    std = community_copy / "community.yaml"
    std.write_text(std.read_text().replace("  samsoe: 10.41.0.0/16",
                                           "  samsoe: 10.41.0.0/16\n  hedensted: 10.66.0.0/16"))
    outside = tmp_path / "outside.yaml"
    (community_copy / "tenants" / "hedensted.yaml").symlink_to(outside)  # dangling
    result = CliRunner().invoke(app, ["tenant", "new", "766", "--population", "47000",
                                      "--root", str(community_copy)])
    assert result.exit_code == 1 and "already exists" in result.output
    assert not outside.exists()
    (community_copy / "tenants" / "hedensted.yaml").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(community_copy / "tenants")
    (community_copy / "tenants").symlink_to(elsewhere)
    result = CliRunner().invoke(app, ["tenant", "new", "766", "--population", "47000",
                                      "--root", str(community_copy)])
    assert result.exit_code == 1 and "outside the repository" in result.output
    assert list(elsewhere.iterdir()) == []


def test_a_wrong_exception_value_names_the_expected_type(community_copy: Path):
    shutil.copy(HOSTILE / "exception_value_wrong_type.yaml",
                community_copy / "tenants" / "samsoe.yaml")
    (hit,) = [f for f in validate(community_copy, TODAY).findings if f.rule == "exception.value-type"]
    assert hit.field == "exceptions[0].value" and hit.line
    assert "'not-an-ip' is not an IPv4 address" in hit.message
    assert "a list of at most 4 IPv4 addresses" in hit.message


def test_a_secret_value_is_never_echoed(community_copy: Path):
    path = community_copy / "tenants" / "odder.yaml"
    path.write_text(path.read_text().replace("value: [fw-vendor-ro]",
                                             "value: [fw-vendor-ro, 'two words']"))
    result = CliRunner().invoke(app, ["validate", "--root", str(community_copy), "-o", "json"])
    assert "exception.value-type" in result.stdout and "two words" not in result.stdout
    path.write_text(path.read_text().replace(", 'two words'", ""))
    listed = CliRunner().invoke(app, ["exceptions", "--root", str(community_copy), "-o", "json"])
    assert listed.exit_code == 0 and "fw-vendor-ro" not in listed.stdout
    assert {"control": "net.snmp.communities", "value": ["<secret>"]}.items() <= next(
        r for r in json.loads(listed.stdout) if r["id"] == "ODD-EX-002").items()
