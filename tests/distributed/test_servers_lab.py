"""`servers plan|apply --executor celery` against real lab servers, one Ansible run per tenant.

A lab of its own (prefix, ports and loopback of its own) with one server of
each of two tenants; two real workers on the test Redis. The sharded plan
equals the local plan per host; the sharded apply converges both tenants, and
each tenant's results reach the results store as a local run writes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from typer.testing import CliRunner

from faellesdrift.estate import load_estate
from faellesdrift.lab import Lab, LabError, LabPaths, LabSettings, cache_dir, preflight
from faellesdrift.lab.plan import plan_from_estate
from faellesdrift.servers.cli import servers_app
from tests.conftest import REPO, TODAY
from tests.distributed.conftest import Workers

pytestmark = [pytest.mark.lab, pytest.mark.redis]

SERVERS = {"aarhus": ("aar-file01",), "odder": ("odd-file01",)}
SETTINGS = LabSettings(prefix="fddst", device_ports=(48450, 48499),
                       loopback=IPv4Network("127.62.0.0/16"))


@pytest.fixture(scope="module")
def lab_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("dist-servers")
    paths = LabPaths(root=state / "lab", cache=cache_dir() / "lab")
    try:
        preflight(paths)
    except LabError as exc:
        pytest.fail(f"these tests need this machine to run the lab: {exc}", pytrace=False)
    full = plan_from_estate(load_estate(REPO, TODAY), tenants=list(SERVERS))
    plan = replace(full, tenants=tuple(replace(t, devices=(), servers=tuple(
        s for s in t.servers if s.name in SERVERS[t.slug])) for t in full.tenants))
    lab = Lab(paths, SETTINGS)
    lab.down()
    try:
        lab.up(plan)
    except LabError:
        lab.up(plan)  # the lab's daemons sometimes lose a start-up race
    try:
        yield state
    finally:
        lab.down(reset=True)


def _servers(state: Path, monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, dict]:
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(state))
    r = CliRunner().invoke(servers_app, [*argv, "--root", str(REPO), "-o", "json"],
                           catch_exceptions=False)
    start = r.output.find("{")
    assert start >= 0, r.output
    return r.exit_code, json.loads(r.output[start:])


def _hosts(out: dict) -> dict[str, tuple]:
    return {h["host"]: (h["tenant"], h["status"], h["changed"], h["failed"],
                        sorted(c["task"] for c in h["changes"])) for h in out["hosts"]}


def test_sharded_plan_and_apply_equal_a_local_run(lab_state: Path, workers: Workers,
                                                  broker_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAELLESDRIFT_BROKER_URL", broker_url)
    rc_local, local = _servers(lab_state, monkeypatch, "plan")
    rc_dist, dist = _servers(lab_state, monkeypatch, "plan", "--executor", "celery")
    assert rc_local == rc_dist == 0
    assert _hosts(dist) == _hosts(local)
    assert set(_hosts(dist)) == {"aar-file01", "odd-file01"}
    assert any(h["changed"] for h in dist["hosts"])  # a fresh lab drifts from the baseline
    rc, applied = _servers(lab_state, monkeypatch, "apply", "--executor", "celery",
                           "--skip-plan", "--yes")
    assert rc == 0 and applied["ok"], (applied["error"], [h["reason"] for h in applied["hosts"]])
    saved = json.loads((lab_state / "results" / "servers.apply.json").read_text())
    assert set(saved["tenants"]) >= set(SERVERS)
    rc, after = _servers(lab_state, monkeypatch, "plan")
    assert rc == 0 and not any(h["changed"] for h in after["hosts"])
