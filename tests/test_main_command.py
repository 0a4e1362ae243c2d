"""The README's main command, `./dev demo`, end to end: on the real date and one year ahead.

The demo runs exactly as documented, in a copy of this checkout (so the repository's
own `.state/` is never touched) with a lab of its own prefix, ports and loopback range.
On the real date it must succeed; a year ahead, when most sample exceptions have
expired, the same flow must also succeed: the standard values are applied, verified
and the expired exceptions are named by every command and flagged in the report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from faellesdrift import clock
from tests.conftest import REPO

pytestmark = [pytest.mark.lab, pytest.mark.pulumi]

LAB = {"FAELLESDRIFT_LAB_PREFIX": "fddemo", "FAELLESDRIFT_LAB_PORTS": "47700-47899",
       "FAELLESDRIFT_LAB_LOOPBACK": "127.54.0.0/16"}
DEMO_TIMEOUT = 40 * 60


def _files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=REPO, capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f and (REPO / f).is_file()]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the working tree (what a clone would hold) sharing this machine's .venv."""
    if not (REPO / ".venv" / "bin" / "faellesdrift").exists():
        pytest.fail("the main-command test needs ./dev setup's .venv", pytrace=False)
    root = tmp_path_factory.mktemp("clone")
    for rel in _files():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, root / rel)
    (root / ".venv").symlink_to(REPO / ".venv")
    yield root
    down = subprocess.run([str(root / ".venv" / "bin" / "faellesdrift"), "lab", "down"],
                          cwd=root, env=_env(), capture_output=True, text=True, timeout=300,
                          check=False)
    assert down.returncode == 0, down.stdout + down.stderr


def _env(**extra: str) -> dict[str, str]:
    """The caller's environment without this test session's pins (the demo sets its own)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FAELLESDRIFT_", "PULUMI_BACKEND", "PULUMI_CONFIG"))}
    return {**env, **LAB, "NO_COLOR": "1", **extra}


def _demo(root: Path, log: Path, **extra: str) -> str:
    with log.open("w") as fh:
        proc = subprocess.run(["./dev", "demo"], cwd=root, env=_env(**extra), stdout=fh,
                              stderr=subprocess.STDOUT, timeout=DEMO_TIMEOUT, check=False)
    out = log.read_text(errors="replace")
    assert proc.returncode == 0, f"./dev demo exited {proc.returncode}; last lines:\n" + \
        "\n".join(out.splitlines()[-60:])
    return out


def _expired(root: Path, day: str) -> set[str]:
    proc = subprocess.run([str(root / ".venv" / "bin" / "faellesdrift"), "exceptions",
                           "--today", day, "-o", "json"], cwd=root, env=_env(),
                          capture_output=True, text=True, check=True)
    return {r["id"] for r in json.loads(proc.stdout) if r["status"] == "expired"}


def test_the_main_command_succeeds_on_the_real_date(checkout: Path, tmp_path: Path) -> None:
    out = _demo(checkout, tmp_path / "demo.log")
    expired = _expired(checkout, clock.today().isoformat())
    assert "SAM-EX-002" in expired  # the sample's deliberately expired exception
    assert "expired exception(s) ignored, the standard value applies: " in out
    assert all(e in out for e in expired)
    assert "starting PostgreSQL" not in out  # the demo starts only what it uses
    assert "faellesdrift lab down" in out.splitlines()[-1]  # and says how to stop the lab
    page = (checkout / ".state" / "reports" / "tenants" / "samsoe.html").read_text()
    assert "SAM-EX-002" in page and "expired" in page


def test_the_main_command_succeeds_a_year_ahead(checkout: Path, tmp_path: Path) -> None:
    ahead = (clock.today() + timedelta(days=365)).isoformat()
    expired = _expired(checkout, ahead)
    assert len(expired) > len(_expired(checkout, clock.today().isoformat()))
    out = _demo(checkout, tmp_path / "demo-ahead.log", FAELLESDRIFT_TODAY=ahead)
    assert all(e in out for e in expired)
    # compliance after remediation and testinfra passed (the demo's steps), so the standard
    # values are what run now; the report flags every expired exception
    report = (checkout / ".state" / "reports" / "report.json").read_text()
    assert all(e in report for e in expired)
    assert ahead[:7] in out  # metering and settlement ran for that month
