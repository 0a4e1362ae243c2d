"""Fixtures of the platform tests: the sample estate, trimmed copies, exceptions to add."""

from __future__ import annotations

import shutil
from pathlib import Path

import pulumi
import pytest

from faellesdrift.estate import Estate, load_estate
from faellesdrift.platform import engine
from faellesdrift.platform.args import shared_services_args, tenant_args
from faellesdrift.platform.errors import PulumiMissing
from faellesdrift.platform.fleet import FleetOptions
from faellesdrift.platform.policies import ResourceView
from faellesdrift.platform.providers import for_target
from faellesdrift.platform.shared_services import SharedServicesComponent
from faellesdrift.platform.tenant_environment import TenantEnvironment
from faellesdrift.settings import Settings
from tests.conftest import REPO, TODAY

# Two exceptions on platform controls for odder: a host may reach samsoe, a print server
# stays out of the shared monitoring. Both active on TODAY.
PLATFORM_EXCEPTIONS = """\
  - id: ODD-EX-003
    control: platform.tenant.isolation
    hosts: [odd-file01]
    value: [samsoe]
    category: mitigated
    compensating_control: Firewall rule limited to SMB from odd-file01 to the archive
    justification: Shared archive with Samsø until the joint ESDH migration
    risk_owner: Odder, IT
    approved_by: Driftsudvalget (board decision 2026-20)
    approved_on: 2026-10-01
    expires: 2027-06-30
  - id: ODD-EX-004
    control: platform.monitoring.enrolment
    hosts: [odd-prin05]
    value: false
    category: waiver
    justification: Print server is replaced in January; not worth enrolling
    risk_owner: Odder, IT
    approved_by: Driftsudvalget (board decision 2026-21)
    approved_on: 2026-10-01
    expires: 2027-03-31
"""


def add_exceptions(root: Path, tenant: str = "odder", text: str = PLATFORM_EXCEPTIONS) -> None:
    path = root / "tenants" / f"{tenant}.yaml"
    body = path.read_text(encoding="utf-8")
    assert "\ncontracts:" in body
    path.write_text(body.replace("\ncontracts:", "\n" + text.rstrip("\n") + "\ncontracts:", 1),
                    encoding="utf-8")


def trim(root: Path, keep: tuple[str, ...] = ("odder", "samsoe")) -> None:
    """Only these tenants (fast engine runs); the standards stay as they are."""
    for path in (root / "tenants").glob("*.yaml"):
        if path.stem not in keep:
            path.unlink()


def edit(root: Path, tenant: str, old: str, new: str) -> None:
    path = root / "tenants" / f"{tenant}.yaml"
    body = path.read_text(encoding="utf-8")
    assert old in body, f"{old!r} not in {path}"
    path.write_text(body.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def estate(sample_root: Path) -> Estate:
    return load_estate(sample_root, TODAY)


@pytest.fixture
def excepted(community_copy: Path) -> Estate:
    """The sample community with odder's two platform exceptions."""
    add_exceptions(community_copy)
    return load_estate(community_copy, TODAY)


class Recorder(pulumi.runtime.Mocks):
    """Pulumi mocks that remember every registered resource."""

    def __init__(self) -> None:
        self.resources: dict[str, pulumi.runtime.MockResourceArgs] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.resources[args.name] = args
        outs = {k: v for k, v in args.inputs.items() if k != "__provider"}
        if args.typ.startswith("pulumi-python:dynamic/"):
            outs["status"] = {"target": "mock", "port": 42000}
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


def build_views(estate: Estate, tenants: tuple[str, ...] | None = None) -> list[ResourceView]:
    """The whole program under mocks: every custom resource as the policy pack would see it."""
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project="faellesdrift", stack="test", preview=True)
    made: list = []

    @pulumi.runtime.test
    def program():
        providers = for_target("record")
        shared = SharedServicesComponent("shared", shared_services_args(estate), providers)
        made.append(shared.segment)
        envs = [TenantEnvironment(s, tenant_args(estate, s), providers, after=[shared.segment])
                for s in (tenants or estate.slugs)]
        for e in envs:
            made.extend(e.children)
        return pulumi.Output.all(*[e.outputs for e in envs], *[r.urn for r in made])

    program()
    protect = {r._name: bool(r._protect) for r in made}
    return [ResourceView(urn=f"urn:pulumi:test::faellesdrift::{a.typ}::{name}", type=a.typ,
                         name=name, props={k: v for k, v in a.inputs.items()
                                           if k != "__provider"},
                         protect=protect[name])
            for name, a in recorder.resources.items() if name in protect]


# ------------------------------------------------------------------ engine runs


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
def world(tmp_path: Path, community_copy: Path, cli: Path, monkeypatch: pytest.MonkeyPatch
          ) -> tuple[Settings, FleetOptions]:
    """(settings, options) for environment `ci` (record target) of a two-tenant community."""
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    trim(community_copy)
    project = copy_project(tmp_path / "project", {
        "Pulumi.ci.yaml": "config:\n  faellesdrift:target: record\n"})
    settings = Settings(root=community_copy, state_dir=tmp_path / "state",
                        cache_dir=Settings.from_env(REPO).cache_dir)
    return settings, FleetOptions(environment="ci", project_dir=project)
