"""`--canary N`: the first N devices on their own; when one fails, nothing else is touched."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from faellesdrift import audit
from faellesdrift.lab.devices.fleet import Fleet
from tests.conftest import REPO, TODAY
from tests.distributed.conftest import FAELLESDRIFT, Workers, lab_state

ODDER = ["odd-acce03", "odd-core01", "odd-dist02", "odd-fire04", "odd-wan05"]  # run order


def _remediate(state: Path, *args: str, broker: str = "") -> tuple[int, dict]:
    env = {**os.environ, "FAELLESDRIFT_ROOT": str(REPO), "FAELLESDRIFT_STATE": str(state),
           "FAELLESDRIFT_NETWORK_TARGET": "lab", "FAELLESDRIFT_TODAY": TODAY.isoformat(),
           "FAELLESDRIFT_BROKER_URL": broker}
    proc = subprocess.run([str(FAELLESDRIFT), "network", "remediate", "--apply", "--tenant",
                           "odder", "-o", "json", *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def _canary_stops(fleet: Fleet, state: Path, *args: str, broker: str = "") -> None:
    fleet.stop(ODDER[0])  # the canary cannot be reached
    before = {name: fleet.running(name) for name in ODDER[1:]}
    rc, out = _remediate(state, "--canary", "1", *args, broker=broker)
    assert rc == 1
    assert [h["host"] for h in out["hosts"]] == [ODDER[0]]
    assert out["hosts"][0]["status"] == "unreachable"
    assert {name: fleet.running(name) for name in ODDER[1:]} == before  # nothing touched
    assert not [e for e in audit.read(state / "audit.jsonl") if e["target"] != ODDER[0]]


def test_a_failed_canary_stops_the_run_locally(fleet: Fleet, tmp_path: Path) -> None:
    _canary_stops(fleet, lab_state(tmp_path, fleet))


@pytest.mark.redis
def test_a_failed_canary_stops_the_run_on_workers(fleet: Fleet, workers: Workers,
                                                  broker_url: str, tmp_path: Path) -> None:
    _canary_stops(fleet, lab_state(tmp_path, fleet), "--executor", "celery", broker=broker_url)


@pytest.mark.redis
def test_a_good_canary_lets_the_rest_follow(fleet: Fleet, workers: Workers, broker_url: str,
                                            tmp_path: Path) -> None:
    state = lab_state(tmp_path, fleet)
    rc, out = _remediate(state, "--canary", "2", "--executor", "celery", broker=broker_url)
    assert rc == 0, out
    assert [h["host"] for h in out["hosts"]] == ODDER
    assert out["details"]["filters"] == "tenant=odder"
    pushed = {e["target"] for e in audit.read(state / "audit.jsonl")
              if e["result"] == "verified"}
    assert pushed == {h["host"] for h in out["hosts"] if h["status"] == "changed"}
