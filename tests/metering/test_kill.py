"""A collector killed mid-ingest leaves no partial batch; re-running completes it once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faellesdrift.metering.store import open_store
from tests.conftest import REPO

N = 1_000_000


def _kill_mid_ingest(url: str, wal: Path | None) -> None:
    child = subprocess.Popen([sys.executable, "-m", "tests.metering.ingest_child", url, str(N)],
                             cwd=REPO, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert child.stdout.readline().strip() == "INGEST"
        deadline = time.monotonic() + 20
        if wal is not None:  # wait until SQLite is writing the batch's pages
            while time.monotonic() < deadline and (not wal.exists() or wal.stat().st_size
                                                   < 8 * 1024 * 1024):
                time.sleep(0.01)
        else:
            time.sleep(0.5)
        assert child.poll() is None, "the ingest finished before the kill: raise N"
        child.send_signal(signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()


def _check(url: str) -> None:
    store = open_store(url)
    try:
        counts = store.counts()
        assert counts == {"rows": 0, "batches": 0, "rollup_samples": 0}, counts
    finally:
        store.close()
    done = subprocess.run([sys.executable, "-m", "tests.metering.ingest_child", url, str(N)],
                          check=False, cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.stdout.split()[-2:] == ["DONE", str(N)], done.stderr[-2000:]
    store = open_store(url)
    try:
        assert store.counts() == {"rows": N, "batches": 1, "rollup_samples": N}
    finally:
        store.close()


@pytest.mark.timeout(900)
def test_kill_mid_ingest_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "metering.db"
    url = f"sqlite:///{db}"
    open_store(url).close()  # migrate first: the kill must hit the ingest, not the migration
    _kill_mid_ingest(url, wal=db.with_name("metering.db-wal"))
    _check(url)


@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_kill_mid_ingest_postgres(pg_url: str) -> None:
    open_store(pg_url).close()
    _kill_mid_ingest(pg_url, wal=None)
    # no COMMIT was sent: the server rolls the dead client's transaction back
    _check(pg_url)
