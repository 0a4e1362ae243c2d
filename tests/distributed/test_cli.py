"""`faellesdrift worker` and `--executor celery` as commands: help, errors, a worker's start and stop."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from faellesdrift.distributed.app import make_app
from tests.conftest import REPO, TODAY
from tests.distributed.conftest import FAELLESDRIFT

CLOSED = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _run(*args: str, broker: str | None, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FAELLESDRIFT_BROKER_URL"}
    env.update({"FAELLESDRIFT_ROOT": str(REPO), "FAELLESDRIFT_TODAY": TODAY.isoformat(),
                "COLUMNS": "200"})
    if broker is not None:
        env["FAELLESDRIFT_BROKER_URL"] = broker
    return subprocess.run([str(FAELLESDRIFT), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False)


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_the_worker_help_says_what_it_needs() -> None:
    proc = _run("worker", "--help", broker=None)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())  # as read, whatever the terminal's width
    for needed in ("FAELLESDRIFT_BROKER_URL", "--executor celery", "`verify`", "--concurrency",
                   "--loglevel", "FAELLESDRIFT_MAX_PER_SITE", "Exit code 2"):
        assert needed in text, needed


@pytest.mark.parametrize(("broker", "says"), [
    (None, "FAELLESDRIFT_BROKER_URL is not set"),
    ("http://127.0.0.1:1/", "FAELLESDRIFT_BROKER_URL=http://127.0.0.1:1/: use a Redis URL"),
    (CLOSED, "(FAELLESDRIFT_BROKER_URL) cannot be reached"),
])
def test_a_worker_without_a_broker_is_one_line_and_exit_2(broker: str | None, says: str) -> None:
    start = time.monotonic()
    proc = _run("worker", broker=broker)
    assert proc.returncode == 2
    assert says in _one_error_line(proc)
    assert time.monotonic() - start < 20  # no minutes of connection retries


def test_a_distributed_run_without_a_broker_is_one_line_and_exit_2() -> None:
    start = time.monotonic()
    proc = _run("network", "compliance", "--tenant", "odder", "--target", "lab",
                "--executor", "celery", broker=CLOSED)
    assert proc.returncode == 2
    line = _one_error_line(proc)
    assert "FAELLESDRIFT_BROKER_URL" in line and "cannot be reached" in line
    assert time.monotonic() - start < 20
    proc = _run("network", "compliance", "--target", "lab", "--executor", "dask", broker=CLOSED)
    assert proc.returncode == 2 and "use one of: local, celery" in proc.stderr


@pytest.mark.redis
def test_a_worker_named_by_default_answers_and_stops_on_sigterm(broker_url: str) -> None:
    proc = subprocess.Popen([str(FAELLESDRIFT), "worker"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            env={**os.environ, "FAELLESDRIFT_BROKER_URL": broker_url})
    try:
        app = make_app(broker_url)
        names: list[str] = []
        deadline = time.monotonic() + 60
        while not names and time.monotonic() < deadline and proc.poll() is None:
            names = [n for r in app.control.ping(timeout=0.5) for n in r]
        assert names and names[0].startswith("fd-"), (names, proc.poll())
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Traceback" not in out
