"""testinfra plumbing for the server baseline checks in test_baseline.py.

The checks are generated from an expectations file (the estate's effective
values per host, see faellesdrift.servers.expectations):

* ``FAELLESDRIFT_VERIFY_EXPECT=<file>``: the file `faellesdrift verify` writes;
* unset: built here from the estate and the running lab (`faellesdrift lab up`).

Each check function carries the control it verifies (``@control(...)`` in
test_baseline.py) and is parametrized with one case per host; its id names
the exception when the host keeps one. ``FAELLESDRIFT_VERIFY_REPORT=<file>``
makes the session write one JSON record per check (host, control, source,
outcome, message) for the per-host table. Hosts are reached with testinfra's
ssh backend through the lab's ssh_config (strict known_hosts).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import testinfra

EXPECT_ENV = "FAELLESDRIFT_VERIFY_EXPECT"
REPORT_ENV = "FAELLESDRIFT_VERIFY_REPORT"


@dataclass
class Plan:
    data: dict[str, Any] | None
    problem: str = ""
    hosts_cache: dict[tuple[str, str], Any] = field(default_factory=dict)
    down: dict[str, str] = field(default_factory=dict)  # host -> why it cannot be reached
    sshd: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def _load_plan() -> Plan:
    path = os.environ.get(EXPECT_ENV)
    try:
        if path:
            from faellesdrift.servers.expectations import load

            return Plan(load(Path(path)))
        from faellesdrift.servers.verify import lab_expectations

        return Plan(lab_expectations())
    except Exception as exc:  # noqa: BLE001 — any reason is reported by the one failing case below
        where = f"{EXPECT_ENV}={path}" if path else "the estate and the lab"
        return Plan(None, f"no expectations from {where}: {exc}")


PLAN = _load_plan()


@dataclass(frozen=True)
class Case:
    host: str
    control: str
    value: Any
    source: str
    expires: str | None
    spec: dict[str, Any]

    @property
    def kept_by_exception(self) -> bool:
        return self.source != "standard"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    control = getattr(metafunc.function, "fd_control", None)
    if control is None or "case" not in metafunc.fixturenames:
        return
    if PLAN.data is None:
        metafunc.parametrize("case", [None], ids=["no-expectations"], indirect=True)
        return
    cases, ids = [], []
    for name, spec in PLAN.data["hosts"].items():
        c = spec["controls"][control]
        cases.append(Case(name, control, c["value"], c["source"], c["expires"], spec))
        ids.append(name if c["source"] == "standard" else f"{name}[{c['source']}]")
    metafunc.parametrize("case", cases, ids=ids, indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here not in Path(str(item.fspath)).parents:
            continue
        item.add_marker(pytest.mark.lab)
        case = getattr(item, "callspec", None) and item.callspec.params.get("case")
        if isinstance(case, Case):
            item.user_properties += [("host", case.host), ("control", case.control),
                                     ("source", case.source), ("expires", case.expires),
                                     ("value", case.value),
                                     ("tenant", case.spec.get("tenant"))]


# ------------------------------------------------------------------ hosts


def _host(user: str | None, name: str):
    key = (user or "", name)
    if key not in PLAN.hosts_cache:
        assert PLAN.data is not None
        spec = f"ssh://{user}@{name}" if user else f"ssh://{name}"
        control_dir = PLAN.data.get("control_dir")
        kwargs: dict[str, Any] = {"ssh_config": PLAN.data["ssh_config"], "timeout": 10}
        if control_dir:
            kwargs["controlpath"] = f"{control_dir}/%%C"  # testinfra formats with %
        PLAN.hosts_cache[key] = testinfra.get_host(spec, **kwargs)
    return PLAN.hosts_cache[key]


@pytest.fixture
def case(request: pytest.FixtureRequest) -> Case:
    value = request.param
    if value is None:
        pytest.fail(PLAN.problem, pytrace=False)
    return value


@pytest.fixture
def target(case: Case):
    """The host, logged in as the run's account (root in the lab); fails fast when down."""
    if case.host in PLAN.down:
        pytest.fail(f"{case.host} unreachable: {PLAN.down[case.host]}", pytrace=False)
    host = _host(None, case.host)
    try:
        host.run("true")
    except RuntimeError as exc:
        out = getattr(exc.args[0], "stderr", "") if exc.args else ""
        PLAN.down[case.host] = " ".join(str(out or exc).split())[:300]
        pytest.fail(f"{case.host} unreachable: {PLAN.down[case.host]}", pytrace=False)
    return host


@pytest.fixture
def login_as():
    """A fresh testinfra host logged in as another account (own SSH connection)."""
    return _host


@pytest.fixture
def sshd_config(case: Case, target) -> dict[str, list[str]]:
    """`sshd -T`: the configuration sshd uses, keyword -> values (cached per host)."""
    if case.host not in PLAN.sshd:
        out = target.check_output("/usr/sbin/sshd -T")
        conf: dict[str, list[str]] = {}
        for line in out.splitlines():
            key, _, value = line.partition(" ")
            conf.setdefault(key.lower(), []).append(value.strip())
        PLAN.sshd[case.host] = conf
    return PLAN.sshd[case.host]


@pytest.fixture
def offered_methods(case: Case, target) -> list[str]:
    """The login methods sshd offers, probed from outside without sending a password."""
    assert PLAN.data is not None
    proc = subprocess.run(
        ["ssh", "-F", PLAN.data["ssh_config"], "-o", "BatchMode=yes",
         "-o", "PubkeyAuthentication=no", "-o", "ControlMaster=no", "-o", "ControlPath=none",
         "-o", "PreferredAuthentications=password,keyboard-interactive",
         "-o", "ConnectTimeout=10", case.host, "true"],
        capture_output=True, text=True, timeout=30, check=False)
    marker = "Permission denied ("
    for line in proc.stderr.splitlines():
        if marker in line:
            return line.split(marker, 1)[1].split(")", 1)[0].split(",")
    pytest.fail(f"{case.host}: no 'Permission denied' from a login without a key "
                f"(rc {proc.returncode}): {proc.stderr.strip()[:300]}", pytrace=False)


# ------------------------------------------------------------------ report

_RECORDS: list[dict[str, Any]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    props = dict(report.user_properties)
    if "host" not in props:
        if report.failed and "no-expectations" in report.nodeid:
            _RECORDS.append({"nodeid": report.nodeid, "host": None, "outcome": "failed",
                             "message": PLAN.problem})
        return
    if not (report.when == "call" or report.failed or report.skipped):
        return
    _RECORDS.append({
        "nodeid": report.nodeid, "check": report.nodeid.split("::")[-1].split("[")[0],
        "outcome": report.outcome, "message": _short(report) if report.failed else "",
        "duration": report.duration, **props})


_SSH_FAILED = re.compile(r"RuntimeError: CommandResult\(.*?exit_status=(\d+), "
                         r"command=b(['\"])(.*?)\2, .*_stderr=b(['\"])(.*?)\4\)")


def _short(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = " ".join((crash.message if crash is not None else str(report.longrepr)).split())
    text = text.removeprefix("Failed: ")
    m = _SSH_FAILED.search(text)  # testinfra's ssh backend: exit 255 = ssh itself failed
    if m:
        text = (f"ssh failed (exit {m.group(1)}) running `{m.group(3)}`: "
                f"{m.group(5) or 'no error output'}")
    return text[:400]


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get(REPORT_ENV)
    if path:
        Path(path).write_text(json.dumps(_RECORDS, indent=2, default=str) + "\n")
    control_dir = PLAN.data.get("control_dir") if PLAN.data else None
    if control_dir and Path(control_dir).is_dir():
        for sock in Path(control_dir).iterdir():
            subprocess.run(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "fd-control"],
                           capture_output=True, timeout=10, check=False)
        if PLAN.data.get("control_dir_owned"):
            shutil.rmtree(control_dir, ignore_errors=True)
