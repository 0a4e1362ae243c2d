"""Fixtures for distributed runs: a real Redis, two real Celery worker processes, a real fleet.

Tests marked ``redis`` read the broker URL from $FAELLESDRIFT_TEST_BROKER_URL
(``./dev test`` starts Debian's redis-server with scripts/redis-up.sh). Without
it they FAIL, never skip. Each test gets an empty Redis database and two fresh
``faellesdrift worker`` processes (each in its own process group, so a test can
kill one like a lost machine). The devices are the lab's emulator served in
the test process on private ports; the workers reach them over SSH like any
device.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from types import MappingProxyType

import pytest

from faellesdrift.estate import Estate, load_estate
from faellesdrift.executors import Request
from faellesdrift.lab.devices.fleet import Fleet
from faellesdrift.lab_access import DeviceEndpoint, LabAccess, access_file, write_lab_access
from faellesdrift.network import Filters, NetworkSettings
from faellesdrift.network.intended import render
from faellesdrift.settings import Settings
from tests.conftest import REPO, TODAY

BROKER_ENV = "FAELLESDRIFT_TEST_BROKER_URL"
USER, PASSWORD = "distadmin", "dist-Secret-1"  # test-only credentials of a loopback emulator
PORT = 48400  # a private port range (fakenos sets SO_REUSEPORT: ranges must not overlap)
VISIBILITY = 6  # seconds before a killed worker's shard is handed out again
TENANTS = ("favrskov", "odder", "samsoe")  # 7 + 5 + 4 devices
FAELLESDRIFT = Path(sys.executable).parent / "faellesdrift"


def broker() -> str:
    url = os.environ.get(BROKER_ENV)
    if not url:
        pytest.fail(f"${BROKER_ENV} is not set: start Redis with "
                    f"`export {BROKER_ENV}=$(scripts/redis-up.sh | tail -1)` (./dev test does)",
                    pytrace=False)
    return url


@pytest.fixture(autouse=True, scope="session")
def _quiet_fakenos() -> None:
    for name in ("fakenos", "paramiko"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


@pytest.fixture(scope="session")
def estate() -> Estate:
    return load_estate(REPO, TODAY)


class Workers:
    """``faellesdrift worker`` processes on one broker."""

    def __init__(self, url: str, logs: Path) -> None:
        self.url, self.logs = url, logs
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, *names: str) -> None:
        env = {**os.environ, "FAELLESDRIFT_BROKER_URL": self.url,
               "FAELLESDRIFT_BROKER_VISIBILITY": str(VISIBILITY)}
        for name in names:
            log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
            self.procs[name] = subprocess.Popen(
                [str(FAELLESDRIFT), "worker", "--name", name, "--loglevel", "INFO"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for(set(names))

    def wait_for(self, names: set[str]) -> None:
        from faellesdrift.distributed.app import make_app

        app = make_app(self.url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answered = {n.split("@")[0] for r in app.control.ping(timeout=0.5) for n in r}
            if names <= answered:
                return
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    pytest.fail(f"worker {name} exited with {proc.returncode}: "
                                f"{(self.logs / f'{name}.log').read_text()[-2000:]}")
        pytest.fail(f"workers {sorted(names)} did not answer within 60 s")

    def kill(self, name: str) -> None:
        """SIGKILL the worker and its pool: a machine that is gone, no goodbye."""
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@pytest.fixture
def broker_url() -> str:
    import redis

    url = broker()
    redis.Redis.from_url(url).flushdb()  # the test broker only: no shard of another test
    return url


@pytest.fixture
def workers(broker_url: str, tmp_path: Path) -> Iterator[Workers]:
    w = Workers(broker_url, tmp_path)
    try:
        w.start("w1", "w2")
        yield w
    finally:
        w.stop()


def drifted(estate: Estate, name: str) -> tuple[str, str]:
    """A device config with drift on every other device (a rogue syslog host)."""
    host = estate.host(name)
    text = render(estate, host).text
    if sum(map(ord, name)) % 2:
        text += ("set system syslog host 192.0.2.99 any any\n"
                 if host.spec.platform == "juniper_junos" else "logging host 192.0.2.99\n")
    return host.spec.platform, text


@pytest.fixture
def fleet(estate: Estate, tmp_path: Path) -> Iterator[Fleet]:
    """The three tenants' devices on a block of 20 ports in our range.

    The range lies among the kernel's ephemeral ports: a block still held by some
    outgoing connection is skipped for the next one.
    """
    devices = {h.name: drifted(estate, h.name) for h in estate.hosts(kind="network_device")
               if h.tenant in TENANTS}
    for attempt, port in enumerate(range(PORT, PORT + 100, 20)):
        f = Fleet(devices, port, tmp_path / f"fleet{attempt}", USER, PASSWORD)
        try:
            f.start()
        except OSError:
            f.close()
            continue
        try:
            yield f
        finally:
            f.close()
        return
    pytest.fail(f"no block of 20 free ports in {PORT}-{PORT + 99} for the emulated devices")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def community_fleet(estate: Estate, tmp_path: Path) -> Iterator[Fleet]:
    """Every network device of the sample community, each on a free port of our range."""
    devices = {h.name: drifted(estate, h.name) for h in estate.hosts(kind="network_device")}
    ports = [p for p in range(PORT, PORT + 100) if _free(p)]
    if len(ports) < len(devices):
        pytest.fail(f"{len(devices)} emulated devices need as many free ports in "
                    f"{PORT}-{PORT + 99}; {len(ports)} are free")
    f = Fleet(devices, PORT, tmp_path / "community", USER, PASSWORD)
    f.ports = dict(zip(sorted(devices), ports, strict=False))
    try:
        f.start()
        yield f
    finally:
        f.close()


def lab_state(tmp_path: Path, fleet: Fleet) -> Path:
    """A state directory whose lab access artefact describes ``fleet`` (as the lab writes it)."""
    state = tmp_path / "state"
    (state / "lab").mkdir(parents=True, exist_ok=True)
    login = state / "lab" / "credentials.json"
    login.write_text(json.dumps({"devices": {"username": USER, "password": PASSWORD}}))
    served = {n: DeviceEndpoint("127.0.0.1", port) for n, port in fleet.ports.items()}
    write_lab_access(access_file(state), LabAccess(devices=MappingProxyType(served),
                                                   device_credentials=login))
    return state


def net_settings(root: Path, state: Path, **overrides) -> NetworkSettings:
    return NetworkSettings.from_settings(
        Settings(root=root, state_dir=state, cache_dir=state.parent / "cache"),
        **{"target": "lab", "read_timeout": 20.0, "conn_timeout": 5.0, "auth_timeout": 10.0,
           **overrides})


def request(operation: str, net: NetworkSettings, filters: Filters, **options) -> Request:
    network = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(net).items()}
    return Request(operation, net.root, net.state_dir, TODAY, asdict(filters),
                   {"network": network, **options})


def rows(fleet) -> list[dict]:
    """Per-device results without the timing (what must be equal across executors)."""
    return [{**h.to_dict(), "seconds": None} for h in fleet.hosts]
