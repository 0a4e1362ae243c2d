"""The platform stack on the real engine: the Pulumi CLI, a temp file backend, the policy pack.

Each test copies the project (Pulumi.yaml, Pulumi.lab.yaml, stacks/) into a temp directory,
so nothing in the repository changes, and runs it against a trimmed copy of the sample
community (odder and samsoe) with the record target. The CLI comes from PATH or
scripts/install-pulumi.sh's cache; without it the tests fail and say how to get it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from faellesdrift import audit, results
from faellesdrift.estate import load_estate
from faellesdrift.platform import engine
from faellesdrift.platform.engine import RunOptions, RunResult
from faellesdrift.platform.errors import PulumiMissing
from faellesdrift.settings import Settings
from tests.conftest import REPO
from tests.platform.conftest import add_exceptions, edit, trim

pytestmark = pytest.mark.pulumi

TENANTS = {"odder", "samsoe"}


@pytest.fixture(scope="session")
def cli() -> Path:
    try:
        return engine.find_cli(Settings.from_env(REPO))
    except PulumiMissing as exc:
        pytest.fail(f"the Pulumi engine tests need the CLI: {exc}", pytrace=False)


def copy_project(dest: Path, stack_files: dict[str, str] | None = None) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "Pulumi.lab.yaml"):
        shutil.copy(REPO / name, dest / name)
    shutil.copytree(REPO / "stacks", dest / "stacks",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in (stack_files or {}).items():
        (dest / name).write_text(text, encoding="utf-8")
    return dest


@pytest.fixture
def world(tmp_path: Path, community_copy: Path, cli: Path, monkeypatch: pytest.MonkeyPatch):
    """(settings, options) for stack `ci` (record target) of a two-tenant community."""
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    trim(community_copy)
    project = copy_project(tmp_path / "project", {
        "Pulumi.ci.yaml": "config:\n  faellesdrift:target: record\n"})
    settings = Settings(root=community_copy, state_dir=tmp_path / "state",
                        cache_dir=Settings.from_env(REPO).cache_dir)
    return settings, RunOptions(stack="ci", project_dir=project)


def run(op: engine.Op, settings: Settings, opts: RunOptions) -> RunResult:
    result = engine.run(op, settings, opts, known_tenants=TENANTS)
    engine.save(settings, result, sorted(TENANTS))
    return result


def changes(result: RunResult) -> dict[str, int]:
    return {slug: t.changes for slug, t in result.tenants.items() if t.changes}


def state_resources(settings: Settings, opts: RunOptions) -> list[dict]:
    stack, _, _ = engine._stack(settings, opts)
    return [r for r in stack.export_stack().deployment.get("resources") or []
            if r["type"].startswith("pulumi-python:dynamic/faellesdrift:")]


def test_preview_up_again_edit_protect_destroy(world):
    settings, opts = world

    plan = run("preview", settings, opts)
    assert plan.ok, plan.error
    assert plan.totals["create"] > 40 and plan.totals["same"] == 0
    assert set(changes(plan)) == {"odder", "samsoe", "community"}
    assert {e["message"].split(":")[0] for e in plan.exempted} == {  # SAM-EX-002 has expired
        "exempted by ODD-EX-001", "exempted by ODD-EX-002", "exempted by SAM-EX-001"}
    assert state_resources(settings, opts) == []  # a preview creates nothing

    up = run("up", settings, opts)
    assert up.ok, up.error
    assert up.totals["create"] == plan.totals["create"]
    outputs = json.loads(Path(up.outputs_file).read_text())
    assert Path(up.outputs_file) == settings.state_dir / "pulumi" / "outputs-ci.json"
    assert {m["tenant"] for m in outputs["metering"]} == TENANTS
    odder = outputs["tenants"]["odder"]
    assert odder["servers"]["odd-file01"]["address"] == "10.27.10.11/24"
    assert odder["exceptions"] == ["ODD-EX-001", "ODD-EX-002"]
    saved = results.load(settings, "pulumi.outputs")
    assert saved["tenants"]["odder"]["ok"] and saved["tenants"]["odder"]["outputs"]
    events = [e for e in audit.read(settings.audit_log) if e["target"] == "pulumi:ci"]
    assert {e["tenant"] for e in events} == TENANTS | {"community"} - {"community"}
    kept = {r["urn"].rpartition("::")[2]: r.get("protect", False)
            for r in state_resources(settings, opts)}
    assert kept["odder/device/odd-core01"] and not kept["odder/device/odd-dist02"]

    again = run("up", settings, opts)
    assert again.ok and changes(again) == {}, changes(again)

    edit(settings.root, "odder", "name: odd-dc02, address: 10.27.10.12, os: debian12, "
         "role: dc, vcpu: 2", "name: odd-dc02, address: 10.27.10.12, os: debian12, "
         "role: dc, vcpu: 4")
    plan = run("preview", settings, opts)
    assert plan.ok and changes(plan) == {"odder": 1}
    assert plan.tenants["odder"].update == 1
    assert run("up", settings, opts).ok

    # the kept device would be replaced (platform is part of its identity): protected
    edit(settings.root, "odder", "name: odd-core01, platform: cisco_ios",
         "name: odd-core01, platform: arista_eos")
    blocked = run("up", settings, opts)
    assert not blocked.ok
    assert "protect" in (blocked.error or "").lower() or any(
        "protect" in f for t in blocked.tenants.values() for f in t.failed), blocked.to_dict()
    platforms = {r["urn"].rpartition("::")[2]: r["inputs"].get("platform")
                 for r in state_resources(settings, opts)}
    assert platforms["odder/device/odd-core01"] == "cisco_ios"
    edit(settings.root, "odder", "name: odd-core01, platform: arista_eos",
         "name: odd-core01, platform: cisco_ios")

    gone = run("destroy", settings, opts)
    assert gone.ok, gone.error
    assert gone.totals["delete"] >= plan.totals["same"]
    assert state_resources(settings, opts) == []
    assert json.loads(Path(gone.outputs_file).read_text()) == {}


HOSTILE_PROGRAM = '''\
"""A program that breaks the guardrails on purpose: the pack must stop it."""
from faellesdrift.platform.providers import for_target
from faellesdrift.platform.providers.resources import AccessPolicy, ServerPlacement

p = for_target("record")
ServerPlacement("odder/server/odd-dc02", p.server, {
    "tenant": "odder", "name": "odd-dc02", "kind": "server", "exceptions": [],
    "tags": {"tenant": "odder"}, "vcpu": 900, "memory_gb": 8, "disk_gb": 100})
AccessPolicy("odder/access", p.access, {
    "tenant": "odder", "name": "access", "kind": "access", "exceptions": [],
    "tags": {"tenant": "odder", "tenant_code": "0727", "cost_center": "midt-0727",
             "community": "Midt", "meter": "platform.resource"},
    "default": "deny",
    "peers": [{"host": "odd-file01", "peer": "samsoe", "exception": None}]})
'''


def test_policy_violation_blocks_up(world, tmp_path):
    settings, _ = world
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    (hostile / "Pulumi.yaml").write_text("name: faellesdrift\nruntime: python\n")
    (hostile / "__main__.py").write_text(HOSTILE_PROGRAM)
    (hostile / "stacks").mkdir()
    shutil.copytree(REPO / "stacks" / "policy", hostile / "stacks" / "policy",
                    ignore=shutil.ignore_patterns("__pycache__"))
    opts = RunOptions(stack="hostile", project_dir=hostile)

    plan = run("preview", settings, opts)  # a preview judges every resource and the stack
    assert not plan.ok
    policies = {v["policy"] for v in plan.violations}
    assert {"metering-tags", "tenant-isolation", "compute-quota"} <= policies, plan.violations
    assert all(v["level"] == "mandatory" for v in plan.violations)
    isolation = next(v for v in plan.violations if v["policy"] == "tenant-isolation")
    assert isolation["tenant"] == "odder"
    assert "odd-file01 -> tenant samsoe: no active exception allows it" in isolation["message"]
    quota = next(v for v in plan.violations if v["policy"] == "compute-quota")
    assert quota["tenant"] == "odder" and "900 vcpu" in quota["message"]

    result = run("up", settings, opts)  # up stops at the first violation
    assert not result.ok
    assert "mandatory policy violation" in result.error
    assert result.violations
    assert state_resources(settings, opts) == []  # nothing was created


def test_exempted_resources_are_reported_as_exempted(world):
    settings, opts = world
    add_exceptions(settings.root)
    plan = run("preview", settings, opts)
    assert plan.ok, plan.error
    assert plan.violations == []
    # One exception can exempt several resources (the access policy and the server it names);
    # the order the engine reports them in is not fixed.
    by_ex003 = [e["resource"] for e in plan.exempted
                if e["message"].split(":")[0].removeprefix("exempted by ") == "ODD-EX-003"]
    assert {"odder/access", None} & set(by_ex003), by_ex003
    assert any("odd-file01 -> tenant samsoe allowed" in e["message"] for e in plan.exempted)
    assert any("odd-prin05 not enrolled in the shared monitoring" in e["message"]
               for e in plan.exempted)
    assert all(e["level"] == "advisory" for e in plan.exempted)
    assert {e["tenant"] for e in plan.exempted} == TENANTS


# ------------------------------------------------------------------ stack lab, real lab


@pytest.fixture
def lab_world(tmp_path: Path, community_copy: Path, cli: Path, monkeypatch: pytest.MonkeyPatch):
    """Stack lab of the repository (Pulumi.lab.yaml as committed) on a lab of its own."""
    from faellesdrift.lab import LabError, LabPaths, preflight
    from faellesdrift.platform.providers.lab import LabTarget

    for var in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FAELLESDRIFT_LAB_PREFIX", "fdpt")
    monkeypatch.setenv("FAELLESDRIFT_LAB_PORTS", "47500-47599")
    monkeypatch.setenv("FAELLESDRIFT_LAB_LOOPBACK", "127.52.0.0/16")
    trim(community_copy)
    settings = Settings(root=community_copy, state_dir=tmp_path / "state",
                        cache_dir=Settings.from_env(REPO).cache_dir)
    try:
        preflight(LabPaths.under(settings.state_dir, settings.cache_dir))
    except LabError as exc:
        pytest.fail(f"the lab stack tests need this machine to run the lab: {exc}",
                    pytrace=False)
    lab = LabTarget.from_env(settings.state_dir, settings.cache_dir).lab()
    lab.down()
    yield settings, RunOptions(stack="lab", project_dir=copy_project(tmp_path / "project")), lab
    lab.down()  # whatever a failed test left behind


@pytest.mark.lab
def test_lab_stack_creates_changes_nothing_and_destroys_lab_objects(lab_world):
    settings, opts, lab = lab_world
    up = run("up", settings, opts)
    assert up.ok, up.to_dict()

    status = lab.status()
    # labServersPerTenant 1: a server an active exception keeps values on goes first
    # (Samsø's SAM-EX-002 is on sam-citr08; Odder's exceptions are on devices only).
    assert {s.name for s in status.servers if s.running} == {"odd-file01", "sam-citr08"}
    devices = {d.name: d for d in status.devices if d.running}
    estate = load_estate(settings.root)
    estate_devices = {d.name for t in ("odder", "samsoe")
                      for d in estate.tenant(t).network_devices}
    assert set(devices) == estate_devices
    assert {s.name for s in status.segments} == {"odder", "samsoe", "shared"}

    outputs = json.loads(Path(up.outputs_file).read_text())
    odder = outputs["tenants"]["odder"]
    assert odder["devices"]["odd-core01"]["port"] == devices["odd-core01"].port
    assert odder["servers"]["odd-file01"]["ssh_host"] == next(
        s.ssh_host for s in status.servers if s.name == "odd-file01")
    assert odder["servers"]["odd-dc02"]["target"] == "record"  # labServersPerTenant: 1
    assert odder["segments"]["servers"]["gateway"] == "10.27.10.254"
    ssh = subprocess.run(["ssh", "-F", str(lab.paths.ssh_config), "-o", "BatchMode=yes",
                          "-o", "ConnectTimeout=10", "odd-file01", "hostname"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert ssh.stdout.strip() == "odd-file01", ssh.stderr

    again = run("up", settings, opts)
    assert again.ok and changes(again) == {}, changes(again)

    gone = run("destroy", settings, opts)
    assert gone.ok, gone.to_dict()
    after = lab.status()
    assert (after.servers, after.devices, after.segments) == ((), (), ())
    assert lab.leftovers().empty, lab.leftovers().describe()


def test_cli_plan_apply_json_and_exit_codes(world, monkeypatch):
    """The Typer commands on the engine: JSON for machines, 0 when done, 1 when blocked."""
    from typer.testing import CliRunner

    from faellesdrift.platform.cli import platform_app

    settings, opts = world
    for name in ("Pulumi.yaml", "Pulumi.ci.yaml", "stacks"):  # the community root is the project
        src = opts.project_dir / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, settings.root / name)
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(settings.state_dir))
    runner = CliRunner()
    base = ["--root", str(settings.root), "--stack", "ci", "-o", "json"]

    r = runner.invoke(platform_app, ["plan", "--tenant", "odder", *base])
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)
    assert plan["ok"] and plan["tenants"]["odder"]["create"] > 20
    assert "samsoe" not in plan["tenants"] or plan["tenants"]["samsoe"]["changes"] == 0

    r = runner.invoke(platform_app, ["apply", "--yes", *base])
    assert r.exit_code == 0, r.output
    applied = json.loads(r.stdout)
    assert applied["plan"]["ok"] and applied["apply"]["ok"]
    assert applied["apply"]["totals"]["create"] == applied["plan"]["totals"]["create"]

    edit(settings.root, "odder", "name: odd-core01, platform: cisco_ios",
         "name: odd-core01, platform: arista_eos")
    r = runner.invoke(platform_app, ["apply", "--yes", *base])
    assert r.exit_code == 1, r.output
    refused = json.loads(r.stdout)
    assert refused["apply"] is None  # the plan already shows the protected replacement
    assert not refused["plan"]["ok"] and "protect" in json.dumps(refused["plan"]).lower()
