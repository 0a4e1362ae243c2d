"""`faellesdrift deliver` on the lab: a merged change to one tenant is applied and verified.

A community repository with a git history (tests/delivery/conftest.py) and the Pulumi
project, playbooks and testinfra checks beside it. The base commit is applied to a lab of
its own (prefix, ports, loopback range and state of its own); then the change — a new
server, a renewed exception, another NTP server kept on odd-core01 — is delivered:
the platform creates the new server, remediation pushes the NTP line to the core switch,
the baseline is applied to the new server, testinfra and network compliance pass (JUnit
files with one case per host and control), the report is refreshed and the audit log
holds the outcome with the commit id. Anything missing on the machine fails with the
reason, never a skip. Run it under the lab lock: `flock /tmp/fd-lab.lock pytest -m lab …`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from junitparser import JUnitXml

from faellesdrift import audit
from tests.delivery.conftest import NEW_SERVER, NTP_DEVICE, edit, make_history
from tests.delivery.test_junit import check_shape
from tests.lab_paths import lab_paths_or_fail

pytestmark = [pytest.mark.lab, pytest.mark.pulumi]

PROJECT = ("Pulumi.yaml", "Pulumi.lab.yaml", "stacks", "playbooks", "tests/infra", "inventory")
LAB = {"FAELLESDRIFT_LAB_PREFIX": "fdh3", "FAELLESDRIFT_LAB_PORTS": "48500-48549",
       "FAELLESDRIFT_LAB_LOOPBACK": "127.63.0.0/16"}


def _cli() -> str:
    return str(Path(sys.executable).parent / "faellesdrift")


def _run(env: dict[str, str], cwd: Path, *argv: str, timeout: float = 1500
         ) -> subprocess.CompletedProcess:
    return subprocess.run([_cli(), *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False, stdin=subprocess.DEVNULL)


def test_deliver_applies_the_change_and_verifies_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    lab_paths_or_fail(state, "the deliver lab test needs")
    history = make_history(tmp_path / "community", extra=PROJECT)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PULUMI_BACKEND", "PULUMI_CONFIG", "FAELLESDRIFT_"))}
    env.update(LAB, FAELLESDRIFT_STATE=str(state), FAELLESDRIFT_ROOT=str(history.root),
               FAELLESDRIFT_TODAY=os.environ["FAELLESDRIFT_TODAY"], NO_COLOR="1",
               FAELLESDRIFT_ACTOR="ci-test")
    reports = tmp_path / "reports"
    try:
        subprocess.run(["git", "-C", str(history.root), "checkout", "-q", "main"], check=True)
        base = _run(env, history.root, "apply", "--tenant", "odder", "--yes")
        assert base.returncode == 0, base.stdout[-3000:] + base.stderr[-3000:]
        subprocess.run(["git", "-C", str(history.root), "checkout", "-q", "odder-change"],
                       check=True)
        run = _run(env, history.root, "deliver", "--base", "main", "--yes", "--junit-dir",
                   str(reports), "-o", "json")
        data = json.loads(run.stdout) if run.stdout.strip().startswith("{") else {}
        assert run.returncode == 0, json.dumps(data.get("steps"), indent=1) + run.stderr[-3000:]
        review = _review_of_a_server_change(env, history.root)
    finally:
        _run(env, history.root, "lab", "down", "--reset", timeout=300)

    assert data["ok"] and data["applied"] and data["commit"] == history.change
    assert data["tenants"] == ["odder"]
    steps = {s["id"]: s for s in data["steps"]}
    assert [s["id"] for s in data["steps"]] == ["platform", "network", "servers", "verify",
                                                 "compliance", "report"]
    assert all(s["status"] == "done" for s in data["steps"]), data["steps"]
    assert steps["network"]["command"].endswith(f"remediate --host {NTP_DEVICE} --apply")
    assert f"--host {NEW_SERVER}" in steps["servers"]["command"]

    verify = JUnitXml.fromfile(str(reports / "verify.xml"))
    check_shape(reports / "verify.xml")
    cases = [c for suite in verify for c in suite]
    assert {c.classname for c in cases} == {f"odder.{NEW_SERVER}"}  # the changed host only
    assert len(cases) >= 5 and all(c.is_passed for c in cases)
    network = JUnitXml.fromfile(str(reports / "network.xml"))
    check_shape(reports / "network.xml")
    per_host = Counter(c.classname for suite in network for c in suite)
    assert set(per_host) == {f"odder.{NTP_DEVICE}"} and per_host[f"odder.{NTP_DEVICE}"] >= 5
    assert all(c.is_passed for suite in network for c in suite)

    events = [e for e in audit.read(state / "audit.jsonl") if e["command"] == "deliver"]
    assert [(e["tenant"], e["commit"], e["result"]) for e in events] == [
        ("odder", history.change, "ok")]
    assert f"server {NEW_SERVER}: added" in events[0]["change"]
    assert events[0]["who"] == "ci-test"
    assert Path(data["report"]).is_file()

    # review on a running estate: Ansible check mode on the changed server only
    servers = next(p for p in review["plans"] if p["id"] == "servers")
    assert servers["status"] == "done", servers
    assert servers["command"] == f"faellesdrift servers plan --host {NEW_SERVER} -o json"
    assert list(servers["details"]["hosts"]) == [NEW_SERVER]
    assert servers["details"]["hosts"][NEW_SERVER]["would_change"] > 0  # the new banner
    assert [(v["host"], v["control"]) for v in review["effective_values"]] == [
        (NEW_SERVER, "srv.banner.motd")]


BANNER_EXCEPTION = (("contracts:\n", (
    "  - id: ODD-EX-009\n    control: srv.banner.motd\n    hosts: [odd-app13]\n"
    "    value: Odder app server - authorised access only\n    category: waiver\n"
    "    justification: The application vendor's banner text\n    risk_owner: Odder, IT\n"
    "    approved_by: Driftsudvalget\n    approved_on: 2026-11-01\n    expires: 2027-06-30\n"
    "contracts:\n")),)


def _review_of_a_server_change(env: dict[str, str], root: Path) -> dict:
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "-b", "banner"], check=True)
    edit(root / "tenants" / "odder.yaml", BANNER_EXCEPTION)
    run = _run(env, root, "review", "--base", "odder-change", "--skip", "platform", "-o",
               "json")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(run.stdout)
