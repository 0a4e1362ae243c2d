"""The in-process fleet leaves no thread behind (else pytest hangs after its summary)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import paramiko
import pytest

from tests.network.conftest import BASE_PORT, fleet

PORT = BASE_PORT + 190  # clear of the fleets the other tests start


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate()
            if "connection_function" in t.name and t.is_alive()]


def test_clients_that_fail_login_or_vanish_leave_no_worker_behind(tmp_path: Path) -> None:
    before = set(_workers())
    kept = []
    with fleet({"r1": ("cisco_ios", "hostname r1\n")}, PORT, tmp_path):
        for _ in range(2):  # failed login, client keeps its connection open
            t = paramiko.Transport(("127.0.0.1", PORT))
            t.connect()
            with pytest.raises(paramiko.AuthenticationException):
                t.auth_password("nobody", "wrong")
            kept.append(t)
        for _ in range(2):  # key exchange, then gone at once
            t = paramiko.Transport(("127.0.0.1", PORT))
            t.start_client()
            t.close()
    deadline = time.monotonic() + 10
    while set(_workers()) - before and time.monotonic() < deadline:
        time.sleep(0.1)
    for t in kept:
        t.close()
    assert not set(_workers()) - before
