"""The platform stacks on the real engine: the Pulumi CLI, a temp file backend, the policy pack.

Each test copies the project (Pulumi.yaml, Pulumi.lab.yaml, stacks/) into a temp directory,
so nothing in the repository changes, and runs it against a trimmed copy of the sample
community (odder and samsoe) with the record target: a shared stack and one stack per
tenant (fleet.py). The CLI comes from PATH or scripts/install-pulumi.sh's cache; without it
the tests fail and say how to get it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from faellesdrift import audit, platform_outputs, results
from faellesdrift.estate import load_estate
from faellesdrift.platform import engine, fleet
from faellesdrift.platform.engine import EngineRun, RunOptions
from faellesdrift.platform.fleet import FleetOptions, StacksResult
from faellesdrift.settings import Settings
from tests.conftest import REPO
from tests.platform.conftest import add_exceptions, copy_project, edit, trim

pytestmark = pytest.mark.pulumi

TENANTS = {"odder", "samsoe"}


def run(op: engine.Op, settings: Settings, opts: RunOptions) -> EngineRun:
    result = engine.run(op, settings, opts, known_tenants=TENANTS)
    engine.save(settings, result, sorted(TENANTS))
    return result


def fleet_run(op: engine.Op, settings: Settings, opts: FleetOptions,
              tenants: tuple[str, ...] = ("odder", "samsoe")) -> StacksResult:
    return fleet.run_fleet(op, settings, list(tenants), opts, known=TENANTS)


def changes(result: EngineRun | StacksResult) -> dict[str, int]:
    if isinstance(result, StacksResult):
        return {r.scope: r.summary().changes for r in result.runs if r.summary().changes}
    return {slug: t.changes for slug, t in result.tenants.items() if t.changes}


def state_resources(settings: Settings, opts: RunOptions | FleetOptions,
                    scope: str | None = None) -> list[dict]:
    if isinstance(opts, FleetOptions):
        opts = RunOptions(stack=opts.environment, project_dir=opts.project_dir, scope=scope)
    stack, _, _ = engine._stack(settings, opts)
    return [r for r in stack.export_stack().deployment.get("resources") or []
            if r["type"].startswith("pulumi-python:dynamic/faellesdrift:")]


def cli_commands(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every Pulumi CLI command run from now on: (command, outcome)."""
    from pulumi.automation import _cmd

    seen: list[tuple[str, str]] = []
    real = _cmd.PulumiCommand.run

    def spy(self, args, *rest, **kwargs):
        name = " ".join(a for a in args[:2] if not a.startswith("-"))
        try:
            out = real(self, args, *rest, **kwargs)
        except Exception:
            seen.append((name, "failed"))
            raise
        seen.append((name, "ok"))
        return out

    monkeypatch.setattr(_cmd.PulumiCommand, "run", spy)
    return seen


def test_per_tenant_stacks_preview_up_again_edit_protect_destroy(world, monkeypatch):
    settings, opts = world

    with monkeypatch.context() as patch:
        commands = cli_commands(patch)
        plan = fleet_run("preview", settings, opts)
    assert plan.ok, plan.to_dict()
    # a new backend: one listing, each stack created once, then previewed once
    assert sorted(commands) == sorted([("stack ls", "ok")] + [("stack init", "ok")] * 3
                                      + [("preview", "ok")] * 3), commands
    assert [r.scope for r in plan.runs] == ["shared", "odder", "samsoe"]
    assert [r.stack for r in plan.runs] == ["ci.shared", "ci.odder", "ci.samsoe"]
    assert all(r.summary().create > 0 and r.summary().same == 0 for r in plan.runs)
    assert {e["message"].split(":")[0] for r in plan.runs for e in r.result.exempted} == {
        "exempted by ODD-EX-001", "exempted by ODD-EX-002", "exempted by SAM-EX-001"}
    assert state_resources(settings, opts, "odder") == []  # a preview creates nothing

    up = fleet_run("up", settings, opts)
    assert up.ok, up.to_dict()
    assert up.changes == plan.changes
    out = platform_outputs.read(settings.state_dir, "ci")
    assert sorted(out.stacks) == ["ci.odder", "ci.samsoe", "ci.shared"]
    assert {m["tenant"] for _, samples in out.metering() for m in samples} == TENANTS
    odder = out.tenants["odder"]
    assert odder["servers"]["odd-file01"]["address"] == "10.27.10.11/24"
    assert odder["exceptions"] == ["ODD-EX-001", "ODD-EX-002"]
    assert out.community["shared"]["prefix"] == out.stacks["ci.odder"].outputs["shared"]["prefix"]
    saved = results.load(settings, "pulumi.outputs")
    assert saved["tenants"]["odder"]["ok"] and saved["tenants"]["odder"]["stack"] == "ci.odder"
    events = [e for e in audit.read(settings.audit_log) if e["target"].startswith("pulumi:ci.")]
    assert {e["tenant"] for e in events} == TENANTS
    # each tenant's stack holds only its own resources; the shared stack only the shared ones
    assert {r["inputs"]["tenant"] for r in state_resources(settings, opts, "odder")} == {"odder"}
    assert {r["inputs"]["tenant"] for r in state_resources(settings, opts, "shared")} == {
        "shared"}
    kept = {r["urn"].rpartition("::")[2]: r.get("protect", False)
            for r in state_resources(settings, opts, "odder")}
    assert kept["odder/device/odd-core01"] and not kept["odder/device/odd-dist02"]

    again = fleet_run("up", settings, opts)
    assert again.ok and changes(again) == {}, changes(again)

    edit(settings.root, "odder", "name: odd-dc02, address: 10.27.10.12, os: debian12, "
         "role: dc, vcpu: 2", "name: odd-dc02, address: 10.27.10.12, os: debian12, "
         "role: dc, vcpu: 4")
    plan = fleet_run("preview", settings, opts)
    assert plan.ok and changes(plan) == {"odder": 1}
    one = fleet.plan_tenant(settings, "odder", environment="ci", project_dir=opts.project_dir)
    assert one.ok and one.stack == "ci.odder" and one.summary().update == 1
    assert one.summary().changes == 1 and one.result.tenants.keys() <= {"odder", "community"}
    assert fleet_run("up", settings, opts, ("odder",)).ok

    # the kept device would be replaced (platform is part of its identity): protected; the
    # other tenant's stack goes on
    edit(settings.root, "odder", "name: odd-core01, platform: cisco_ios",
         "name: odd-core01, platform: arista_eos")
    edit(settings.root, "samsoe", "vcpu: 2", "vcpu: 3")
    blocked = fleet_run("up", settings, opts)
    assert not blocked.ok
    assert [r.scope for r in blocked.failed] == ["odder"]
    assert "protect" in json.dumps(blocked.run("odder").to_dict()).lower()
    assert blocked.run("samsoe").ok and blocked.run("samsoe").summary().update == 1
    platforms = {r["urn"].rpartition("::")[2]: r["inputs"].get("platform")
                 for r in state_resources(settings, opts, "odder")}
    assert platforms["odder/device/odd-core01"] == "cisco_ios"
    edit(settings.root, "odder", "name: odd-core01, platform: arista_eos",
         "name: odd-core01, platform: cisco_ios")

    gone = fleet_run("destroy", settings, opts)
    assert gone.ok, gone.to_dict()
    assert [r.scope for r in gone.runs] == ["odder", "samsoe", "shared"]  # shared last
    for scope in ("odder", "samsoe", "shared"):
        assert state_resources(settings, opts, scope) == []
    assert platform_outputs.read(settings.state_dir, "ci").stacks == {}


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


def test_the_cli_running_the_projects_program_agrees_with_inline_runs(world):
    """`faellesdrift apply` runs the platform program inline; plain `pulumi` in a stack's
    workspace runs stacks/__main__.py through the language host (as the README and
    Pulumi.yaml tell engineers). Each finds nothing to change in what the other applied, so
    states made either way (or before inline runs) stay as they are."""
    settings, opts = world
    assert engine.runs_inline(opts.project_dir)
    assert fleet_run("up", settings, opts, tenants=("odder",)).ok  # shared + odder, inline
    env = {**os.environ, **engine.environment(settings, engine.find_cli(settings), "ci",
                                              engine.backend_url(settings))}

    def pulumi(*args: str, stack: str) -> None:
        done = subprocess.run(["pulumi", *args, "--stack", stack, "--non-interactive",
                               "--color", "never"], cwd=engine.workspace_dir(settings, stack),
                              env=env, capture_output=True, text=True, timeout=300,
                              check=False)
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])

    pulumi("preview", "--expect-no-changes", stack="ci.odder")
    engine.prepare_workspace(settings, opts.project_dir, RunOptions(
        stack="ci", scope="samsoe", shared_stack=fleet.shared_reference(settings, opts)))
    pulumi("stack", "init", "--secrets-provider", "passphrase", stack="ci.samsoe")
    pulumi("up", "--yes", "--skip-preview", stack="ci.samsoe")
    again = fleet_run("preview", settings, replace(opts, shared=False), tenants=("samsoe",))
    assert again.ok and changes(again) == {}, again.to_dict()
    assert again.run("samsoe").summary().same > 0


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

    # as samsoe's stack of the per-tenant layout, odder's resources are out of scope too
    scoped = run("preview", settings, RunOptions(stack="hostile", project_dir=hostile,
                                                 scope="samsoe"))
    assert not scoped.ok and scoped.stack == "hostile.samsoe"
    out_of_scope = [v for v in scoped.violations if v["policy"] == "stack-scope"]
    assert {v["resource"] for v in out_of_scope} == {"odder/server/odd-dc02", "odder/access"}
    assert "holds only tenant 'samsoe'" in out_of_scope[0]["message"]


def test_stacks_side_by_side_share_one_policy_pack_that_judges_each(world, tmp_path):
    """A fleet preview starts one pack for all its stacks; each stack is still judged."""
    settings, _ = world
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    (hostile / "Pulumi.yaml").write_text("name: faellesdrift\nruntime: python\n")
    (hostile / "__main__.py").write_text(HOSTILE_PROGRAM)  # odder's resources in every stack
    shutil.copytree(REPO / "stacks" / "policy", hostile / "stacks" / "policy",
                    ignore=shutil.ignore_patterns("__pycache__"))
    log = settings.state_dir / "pulumi" / "policy-pack.log"

    plan = fleet.run_fleet("preview", settings, ["odder", "samsoe"],
                           FleetOptions(environment="hostile", project_dir=hostile, parallel=3),
                           known=TENANTS)
    assert log.is_file()  # the shared pack ran (it logs there)
    assert [r.scope for r in plan.runs] == ["shared", "odder", "samsoe"]
    assert all(r.outcome == "failed" for r in plan.runs), plan.to_dict()
    for r in plan.runs:
        assert r.result is not None
        found = {v["policy"] for v in r.result.violations}
        assert {"metering-tags", "tenant-isolation", "compute-quota"} <= found, r.scope
        scope = {v["resource"] for v in r.result.violations if v["policy"] == "stack-scope"}
        if r.scope == "odder":
            assert scope == set()
        else:
            assert scope == {"odder/server/odd-dc02", "odder/access"}, (r.scope, scope)
    assert not subprocess.run(["pgrep", "-f", str(hostile / "stacks" / "policy")],
                              check=False, capture_output=True).stdout  # pack stopped


def test_exempted_resources_are_reported_as_exempted(world):
    settings, opts = world
    add_exceptions(settings.root)
    plan = run("preview", settings, RunOptions(stack="ci", project_dir=opts.project_dir))
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
    """Environment lab of the repository (Pulumi.lab.yaml as committed) on a lab of its own."""
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
    yield settings, FleetOptions(environment="lab", project_dir=copy_project(
        tmp_path / "project")), lab
    lab.down()  # whatever a failed test left behind


@pytest.mark.lab
def test_lab_stacks_create_change_nothing_and_destroy_lab_objects(lab_world):
    settings, opts, lab = lab_world
    up = fleet_run("up", settings, opts)  # the tenants' stacks side by side on one lab
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

    odder = platform_outputs.read(settings.state_dir, "lab").tenants["odder"]
    assert odder["devices"]["odd-core01"]["port"] == devices["odd-core01"].port
    assert odder["servers"]["odd-file01"]["ssh_host"] == next(
        s.ssh_host for s in status.servers if s.name == "odd-file01")
    assert odder["servers"]["odd-dc02"]["target"] == "record"  # labServersPerTenant: 1
    assert odder["segments"]["servers"]["gateway"] == "10.27.10.254"
    ssh = subprocess.run(["ssh", "-F", str(lab.paths.ssh_config), "-o", "BatchMode=yes",
                          "-o", "ConnectTimeout=10", "odd-file01", "hostname"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert ssh.stdout.strip() == "odd-file01", ssh.stderr

    again = fleet_run("up", settings, opts)
    assert again.ok and changes(again) == {}, changes(again)

    clean = fleet_run("drift", settings, opts)
    assert clean.ok and clean.drift == [], clean.to_dict()
    # objects changed by hand, outside Pulumi: drift names them, per tenant
    assert lab.delete_device("odd-core01") and lab.delete_server("sam-citr08")
    drift = fleet_run("drift", settings, opts)
    assert drift.ok, drift.to_dict()
    found = {(d["tenant"], d["resource"], d["status"]) for d in drift.drift}
    assert found == {("odder", "odder/device/odd-core01", "gone"),
                     ("samsoe", "samsoe/server/sam-citr08", "gone")}, drift.drift
    assert drift.run("shared").drift == []
    saved = results.load(settings, "pulumi.drift")
    assert [d["resource"] for d in saved["tenants"]["odder"]["drift"]] == [
        "odder/device/odd-core01"]

    stale = fleet_run("up", settings, opts)  # without a refresh the state is trusted
    assert stale.ok and changes(stale) == {}, changes(stale)
    fixed = fleet_run("up", settings, replace(opts, refresh=True))  # `faellesdrift apply`
    assert fixed.ok, fixed.to_dict()
    assert changes(fixed) == {"odder": 1, "samsoe": 1}, changes(fixed)
    assert {s.name for s in lab.status().servers if s.running} == {"odd-file01", "sam-citr08"}
    assert "odd-core01" in {d.name for d in lab.status().devices if d.running}
    assert fleet_run("drift", settings, opts).drift == []

    gone = fleet_run("destroy", settings, opts)
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
    assert plan["ok"] and list(plan["stacks"]) == ["odder"]  # only odder's stack
    assert plan["stacks"]["odder"]["create"] > 20 and plan["stacks"]["odder"]["stack"] == "ci.odder"

    r = runner.invoke(platform_app, ["apply", "--yes", "--parallel", "2", *base])
    assert r.exit_code == 0, r.output
    applied = json.loads(r.stdout)
    assert applied["plan"]["ok"] and applied["apply"]["ok"]
    assert applied["apply"]["changes"] == applied["plan"]["changes"] > 40
    assert set(applied["apply"]["stacks"]) == {"shared", "odder", "samsoe"}

    r = runner.invoke(platform_app, ["apply", "--yes", *base])  # twice: nothing to do
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["apply"]["changes"] == 0

    # one tenant blocked (a protected replacement), the other applied; exit code 1
    edit(settings.root, "odder", "name: odd-core01, platform: cisco_ios",
         "name: odd-core01, platform: arista_eos")
    edit(settings.root, "samsoe", "vcpu: 2", "vcpu: 3")
    r = runner.invoke(platform_app, ["apply", "--yes", *base])
    assert r.exit_code == 1, r.output
    refused = json.loads(r.stdout)
    assert refused["plan"]["stacks"]["odder"]["outcome"] == "failed"
    assert "protect" in json.dumps(refused["plan"]["stacks"]["odder"]).lower()
    assert refused["apply"]["stacks"]["odder"]["outcome"] == "skipped"
    assert refused["apply"]["stacks"]["samsoe"]["outcome"] == "ok"
    assert refused["apply"]["stacks"]["samsoe"]["update"] == 1

    r = runner.invoke(platform_app, ["plan", "--root", str(settings.root), "--stack", "ci",
                                     "-t", "odder", "-t", "samsoe"])
    assert r.exit_code == 1
    assert "ci.odder" in r.stdout and "failed" in r.stdout and "ci.shared" not in r.stdout
