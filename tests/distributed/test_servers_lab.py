"""`servers plan|apply` and `verify` with `--executor celery` against real lab servers.

A lab of its own (prefix, ports and loopback of its own) with one server of
each of two tenants; two real workers on the test Redis. The sharded plan
equals the local plan per host; the sharded apply converges both tenants, and
each tenant's results reach the results store as a local run writes them. The
sharded verify (one testinfra run per tenant) gives the local verify's checks,
summary, exit code and results records. ``--canary 1`` with the first server
unreachable stops apply and verify there: the other server is not touched.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from ipaddress import IPv4Network
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from faellesdrift import audit
from faellesdrift.estate import load_estate
from faellesdrift.lab import Lab, LabError, LabSettings
from faellesdrift.lab.plan import plan_from_estate
from faellesdrift.lab_access import require_lab_access
from faellesdrift.servers.access import Access
from faellesdrift.servers.cli import servers_app, verify_cmd
from faellesdrift.servers.hostvars import select
from faellesdrift.settings import Settings
from tests.conftest import REPO, TODAY
from tests.distributed.conftest import Workers
from tests.lab_paths import lab_paths_or_fail

pytestmark = [pytest.mark.lab, pytest.mark.redis]

SERVERS = {"aarhus": ("aar-file01",), "odder": ("odd-file01",)}
SETTINGS = LabSettings(prefix="fddst", device_ports=(48450, 48499),
                       loopback=IPv4Network("127.62.0.0/16"))


@pytest.fixture(scope="module")
def lab_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("dist-servers")
    paths = lab_paths_or_fail(state, "these tests need")
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
    if argv[0] == "verify":
        app = typer.Typer()
        app.command()(verify_cmd)
        argv = argv[1:]
    else:
        app = servers_app
    r = CliRunner().invoke(app, [*argv, "--root", str(REPO), "-o", "json"],
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


def _ssh(state: Path, host: str, command: str) -> subprocess.CompletedProcess[str]:
    config = require_lab_access(state, "tests").ssh_config
    return subprocess.run(["ssh", "-F", str(config), "-o", "BatchMode=yes", "-o",
                           "ConnectTimeout=10", host, command], capture_output=True, text=True,
                          timeout=60, check=False)


def _checks(out: dict) -> dict[str, tuple]:
    return {h["host"]: (h["tenant"], h["status"], h["passed"], h["failed"], h["reason"],
                        sorted((c["control"], c["check"], c["outcome"]) for c in h["checks"]))
            for h in out["hosts"]}


def _saved(state: Path, kind: str) -> dict[str, list]:
    tenants = json.loads((state / "results" / f"{kind}.json").read_text())["tenants"]
    return {t: e["hosts"] for t, e in tenants.items() if t in SERVERS}


def test_a_sharded_verify_equals_a_local_verify(lab_state: Path, workers: Workers,
                                                broker_url: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAELLESDRIFT_BROKER_URL", broker_url)
    rc, applied = _servers(lab_state, monkeypatch, "apply", "--skip-plan", "--yes")
    assert rc == 0, applied["error"]
    assert _ssh(lab_state, "odd-file01", "echo 'a local note' > /etc/motd").returncode == 0
    runs = {}
    for executor in ("local", "celery"):
        rc, out = _servers(lab_state, monkeypatch, "verify", "--executor", executor)
        runs[executor] = (rc, out, _saved(lab_state, "servers.verify"))
    (rc_l, local, saved_l), (rc_c, dist, saved_c) = runs["local"], runs["celery"]
    assert rc_l == rc_c == 1  # the motd drift fails the banner check either way
    assert _checks(dist) == _checks(local)
    assert {h["host"]: h["status"] for h in dist["hosts"]} == {"aar-file01": "passed",
                                                                 "odd-file01": "failed"}
    assert dist["summary"] == local["summary"] == {"passed": 1, "failed": 1, "unreachable": 0,
                                                   "not run": 0}
    assert dist["errors"] == local["errors"] == []
    assert saved_c == saved_l  # the same records in the results store
    assert Path(dist["directory"], "result.json").is_file()
    run_ids = json.loads((lab_state / "results" / "servers.verify.json").read_text())["tenants"]
    assert {run_ids[t]["run_id"] for t in SERVERS} == {dist["run_id"]}  # one run, one id


def _first_unreachable(state: Path) -> tuple[str, str, Path, str]:
    """Point the first server of the run order at a closed port in the lab's ssh_config."""
    settings = Settings(REPO, state, state / "cache")
    access = Access.from_lab(settings)
    first, other = select(load_estate(REPO, TODAY), reachable=access.servers).names[:2]
    config = access.ssh_config
    before = config.read_text()
    lines, mine = [], False
    for line in before.splitlines():
        if line.startswith("Host "):
            mine = line.split()[1] == first
        if mine and line.strip().startswith("Port "):
            line = line.split("Port")[0] + "Port 9"
        lines.append(line)
    config.write_text("\n".join(lines) + "\n")
    assert config.read_text() != before
    return first, other, config, before


@pytest.mark.parametrize("executor", ["local", "celery"])
def test_a_failed_canary_stops_apply_and_verify_and_nothing_else_is_touched(
        executor: str, lab_state: Path, workers: Workers, broker_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAELLESDRIFT_BROKER_URL", broker_url)
    assert _ssh(lab_state, "odd-file01", "echo 'a local note' > /etc/motd").returncode == 0
    seen = len(list(audit.read(lab_state / "audit.jsonl")))
    first, other, config, before = _first_unreachable(lab_state)
    try:
        rc, applied = _servers(lab_state, monkeypatch, "apply", "--skip-plan", "--yes",
                               "--canary", "1", "--executor", executor)
        assert rc == 1
        assert [(h["host"], h["status"]) for h in applied["hosts"]] == [(first, "unreachable")]
        rc, verified = _servers(lab_state, monkeypatch, "verify", "--canary", "1",
                                "--executor", executor)
        assert rc == 1
        assert [(h["host"], h["status"]) for h in verified["hosts"]] == [(first, "unreachable")]
    finally:
        config.write_text(before)
    assert _ssh(lab_state, other, "cat /etc/motd").stdout == "a local note\n"  # not applied
    touched = {e["target"] for e in list(audit.read(lab_state / "audit.jsonl"))[seen:]}
    assert touched == {first}
    rc, passed = _servers(lab_state, monkeypatch, "apply", "--skip-plan", "--yes",
                          "--canary", "1", "--executor", executor)
    assert rc == 0 and [h["host"] for h in passed["hosts"]] == [first, other]  # both waves
    saved = json.loads((lab_state / "results" / "servers.apply.json").read_text())["tenants"]
    assert {h["host"] for t in SERVERS for h in saved[t]["hosts"]} == {first, other}
