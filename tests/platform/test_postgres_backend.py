"""The per-tenant stacks on Pulumi's PostgreSQL backend, against the real server ./dev test starts.

$FAELLESDRIFT_TEST_PG_URL (scripts/postgres-up.sh prints it) names the server; each test
keeps its state in a table of its own (``?table=``) and drops it at the end. Create,
apply, apply again, concurrent applies (the same tenant: one is refused with a clear lock
message or waits; different tenants: both succeed), nothing corrupt, destroy.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from faellesdrift import platform_outputs
from faellesdrift.platform import engine, fleet
from faellesdrift.platform.engine import EngineRun, RunOptions
from faellesdrift.platform.fleet import FleetOptions
from faellesdrift.settings import Settings
from tests.conftest import REPO
from tests.platform.conftest import copy_project, edit, trim
from tests.platform.test_engine import TENANTS

pytestmark = [pytest.mark.pulumi, pytest.mark.postgres]
PG_ENV = "FAELLESDRIFT_TEST_PG_URL"


def pulumi_url(url: str, table: str) -> str:
    """The SQLAlchemy URL the test suite gets, as Pulumi's postgres:// backend URL."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgres",
                                     query=f"sslmode=disable&table={table}"))


@pytest.fixture
def pg(tmp_path: Path, community_copy: Path, monkeypatch: pytest.MonkeyPatch
       ) -> Iterator[tuple[Settings, FleetOptions, str]]:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.fail(f"the PostgreSQL backend tests need ${PG_ENV} (./dev test sets it; "
                    "scripts/postgres-up.sh prints one)", pytrace=False)
    try:
        engine.find_cli(Settings.from_env(REPO))
    except engine.PulumiMissing as exc:
        pytest.fail(f"the PostgreSQL backend tests need the Pulumi CLI: {exc}", pytrace=False)
    for var in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        monkeypatch.delenv(var, raising=False)
    trim(community_copy)
    table = f"pulumi_state_{uuid.uuid4().hex[:10]}"
    project = copy_project(tmp_path / "project", {
        "Pulumi.ci.yaml": "config:\n  faellesdrift:target: record\n"})
    settings = Settings(root=community_copy, state_dir=tmp_path / "state",
                        cache_dir=Settings.from_env(REPO).cache_dir)
    yield settings, FleetOptions(environment="ci", project_dir=project,
                                 backend=pulumi_url(url, table)), table
    import psycopg
    plain = urlunsplit(urlsplit(url)._replace(scheme="postgresql"))
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def keys(url: str, table: str, prefix: str) -> list[str]:
    import psycopg
    plain = urlunsplit(urlsplit(url)._replace(scheme="postgresql"))
    with psycopg.connect(plain) as conn:
        return [r[0] for r in conn.execute(
            f"SELECT key FROM {table} WHERE key LIKE %s ORDER BY key", (f"%{prefix}%",))]


def test_create_apply_again_and_destroy_on_postgres(pg):
    settings, opts, table = pg
    up = fleet.run_fleet("up", settings, sorted(TENANTS), opts, known=TENANTS)
    assert up.ok, up.to_dict()
    assert up.backend.startswith("postgres://***@")  # the password never reaches a result
    stacks = keys(os.environ[PG_ENV], table, ".pulumi/stacks/faellesdrift/")
    assert {Path(k).name for k in stacks} >= {
        "ci.shared.json", "ci.odder.json", "ci.samsoe.json"}
    assert set(platform_outputs.read(settings.state_dir, "ci").tenants) == TENANTS

    again = fleet.run_fleet("up", settings, sorted(TENANTS), opts, known=TENANTS)
    assert again.ok and again.changes == 0, again.to_dict()

    gone = fleet.run_fleet("destroy", settings, sorted(TENANTS), opts, known=TENANTS)
    assert gone.ok, gone.to_dict()
    assert keys(os.environ[PG_ENV], table, ".pulumi/locks/") == []  # every lock released


def _up(settings: Settings, opts: FleetOptions, scope: str, lock_wait: float = 0.0) -> EngineRun:
    run_opts = RunOptions(stack=opts.environment, project_dir=opts.project_dir,
                          backend=opts.backend, scope=scope, lock_wait=lock_wait,
                          shared_stack=fleet.shared_reference(settings, opts))
    return engine.run("up", settings, run_opts, known_tenants=TENANTS)


def _side_by_side(first, second, table: str) -> tuple[EngineRun, EngineRun]:
    """Run ``first``; start ``second`` once ``first`` holds its stack's lock (seen in the
    backend's table)."""
    out: dict[str, EngineRun] = {}
    a = threading.Thread(target=lambda: out.__setitem__("first", first()))
    a.start()
    deadline = time.monotonic() + 120
    while not keys(os.environ[PG_ENV], table, ".pulumi/locks/"):
        assert a.is_alive() and time.monotonic() < deadline, "the first update never locked"
        time.sleep(0.05)
    out["second"] = second()
    a.join(300)
    return out["first"], out["second"]


def test_concurrent_applies_to_one_tenant_lock_and_to_two_tenants_both_succeed(pg):
    settings, opts, table = pg
    assert fleet.run_fleet("up", settings, sorted(TENANTS), opts, known=TENANTS).ok

    # the same tenant stack: the second is refused with a clear message naming the holder
    edit(settings.root, "odder", "vcpu: 2", "vcpu: 3")
    first, second = _side_by_side(lambda: _up(settings, opts, "odder"),
                                  lambda: _up(settings, opts, "odder"), table)
    assert first.ok, first.to_dict()
    assert not second.ok
    assert "ci.odder is locked by another run (" in second.error
    assert "(pid " in second.error and "pulumi cancel -s ci.odder" in second.error

    # the same tenant stack with --lock-wait: the second waits for the first, then runs
    edit(settings.root, "odder", "vcpu: 3", "vcpu: 4")
    first, second = _side_by_side(lambda: _up(settings, opts, "odder"),
                                  lambda: _up(settings, opts, "odder", lock_wait=120), table)
    assert first.ok and second.ok, (first.to_dict(), second.to_dict())
    assert second.waited >= 1
    assert keys(os.environ[PG_ENV], table, ".pulumi/locks/") == []

    # nothing corrupt: the state is whole, the next plan has nothing to do
    plan = fleet.run_fleet("preview", settings, sorted(TENANTS), opts, known=TENANTS)
    assert plan.ok and plan.changes == 0, plan.to_dict()

    # two tenants at once: both succeed
    edit(settings.root, "odder", "vcpu: 4", "vcpu: 2")
    edit(settings.root, "samsoe", "vcpu: 2", "vcpu: 3")
    first, second = _side_by_side(lambda: _up(settings, opts, "odder"),
                                  lambda: _up(settings, opts, "samsoe"), table)
    assert first.ok and second.ok, (first.to_dict(), second.to_dict())
    assert first.tenants["odder"].update == 1 and second.tenants["samsoe"].update == 1

    assert fleet.run_fleet("destroy", settings, sorted(TENANTS), opts, known=TENANTS).ok
