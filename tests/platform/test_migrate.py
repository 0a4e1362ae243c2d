"""Migration from the single-stack layout to per-tenant stacks on the real engine.

The start is a state made by the single-stack layout (the program without a scope: every
tenant and the shared services in stack `ci`); the end is a shared stack and one stack
per tenant holding the same resources with the same ids, and a plan with no changes.
"""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from faellesdrift import platform_outputs
from faellesdrift.platform import engine, fleet, migrate
from faellesdrift.platform.cli import platform_app
from faellesdrift.platform.engine import RunOptions
from tests.platform.test_engine import TENANTS, changes, fleet_run, state_resources

pytestmark = pytest.mark.pulumi


def ids(resources: list[dict]) -> dict[str, str]:
    return {r["urn"].rpartition("::")[2]: r["id"] for r in resources}


def test_single_stack_moves_into_per_tenant_stacks_without_replacing(world, monkeypatch):
    settings, opts = world
    single = RunOptions(stack="ci", project_dir=opts.project_dir)
    made = engine.run("up", settings, single, known_tenants=TENANTS)
    assert made.ok and made.totals["create"] > 40, made.to_dict()
    before = ids(state_resources(settings, single))
    assert migrate.pending(settings, "ci", project_dir=opts.project_dir)

    # the per-tenant layout refuses to apply over a stack that still owns everything
    for name in ("Pulumi.yaml", "Pulumi.ci.yaml", "stacks"):
        src = opts.project_dir / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, settings.root / name)
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(settings.state_dir))
    runner = CliRunner()
    r = runner.invoke(platform_app, ["apply", "--yes", "--root", str(settings.root),
                                     "--stack", "ci"])
    assert r.exit_code == 2 and "faellesdrift pulumi migrate --stack ci" in r.output

    r = runner.invoke(platform_app, ["migrate", "--root", str(settings.root), "--stack", "ci",
                                     "--dry-run", "-o", "json"])
    assert r.exit_code == 0, r.output
    dry = json.loads(r.stdout)
    assert [(p["scope"], p["status"]) for p in dry["parts"]] == [
        ("shared", "would move"), ("odder", "would move"), ("samsoe", "would move")]
    assert sum(p["resources"] for p in dry["parts"]) == len(before) + 3  # and 3 components

    # a run that moved only some parts (stopped, or one tenant at a time) ...
    part = migrate.migrate(settings, migrate.MigrateOptions(
        environment="ci", project_dir=opts.project_dir, tenants=("odder",)))
    assert [(p.scope, p.status) for p in part.parts] == [("odder", "moved")]
    assert not part.source_removed and migrate.pending(settings, "ci",
                                                       project_dir=opts.project_dir)
    # ... is finished by the next one
    r = runner.invoke(platform_app, ["migrate", "--root", str(settings.root), "--stack", "ci",
                                     "-o", "json"])
    assert r.exit_code == 0, r.output
    rest = json.loads(r.stdout)
    assert [p["scope"] for p in rest["parts"]] == ["shared", "samsoe"] and rest["source_removed"]
    assert not migrate.pending(settings, "ci", project_dir=opts.project_dir)
    assert (opts.project_dir / "Pulumi.ci.yaml").is_file()  # the committed config stays
    again = migrate.migrate(settings, migrate.MigrateOptions(environment="ci",
                                                             project_dir=opts.project_dir))
    assert again.nothing_to_do and again.parts == []

    after = {}
    for scope in ("shared", "odder", "samsoe"):
        moved = state_resources(settings, opts, scope)
        assert {r["inputs"]["tenant"] for r in moved} == {scope}
        after.update(ids(moved))
    assert after == before  # the same resources, the same ids: nothing recreated

    plan = fleet_run("preview", settings, opts)
    assert plan.ok and changes(plan) == {}, plan.to_dict()
    up = fleet_run("up", settings, opts)
    assert up.ok and changes(up) == {}, up.to_dict()
    assert set(platform_outputs.read(settings.state_dir, "ci").tenants) == TENANTS
    assert "ci" not in platform_outputs.read(settings.state_dir, "ci").stacks
    one = fleet.plan_tenant(settings, "odder", environment="ci", project_dir=opts.project_dir)
    assert one.ok and one.summary().changes == 0
