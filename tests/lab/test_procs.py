"""The lab's process handling without root: liveness by pid while starting, exact markers,
and a daemon that is never signalled before it has announced readiness."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from faellesdrift.lab import procs
from faellesdrift.lab.daemons import Daemons
from faellesdrift.lab.errors import LabError
from faellesdrift.lab.paths import LabPaths
from faellesdrift.lab.segments import Names
from faellesdrift.lab.state import LabState


def test_a_child_is_alive_by_pid_before_its_exec_shows_the_marker(tmp_path: Path) -> None:
    pid = procs.spawn(["sh", "-c", "sleep 1; exec sleep 30"], tmp_path / "log")
    try:
        assert procs.alive(pid, "--marker-that-comes-only-after-exec")
    finally:
        procs.stop([pid], lambda p: procs.alive(p, "unused"))
    assert not procs.alive(pid, "unused")


def test_find_matches_the_exact_marker_not_longer_prefixes(tmp_path: Path) -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(30)"]
    ours = procs.spawn([*sleeper, "--prefix=fdx"], tmp_path / "a")
    other = procs.spawn([*sleeper, "--prefix=fdxsv"], tmp_path / "b")
    try:
        deadline = time.monotonic() + 10  # past the exec window (empty cmdline)
        while time.monotonic() < deadline and not all(procs.cmdline(p) for p in (ours, other)):
            time.sleep(0.05)
        found = procs.find("--prefix=fdx")
        assert ours in found and other not in found
        assert {ours, other} <= set(procs.find("--prefix=fdx", prefix=True))
    finally:
        procs.stop([ours, other], lambda p: procs.alive(p, "unused"))


SLOW_DAEMON = """
import json, os, signal, sys, time
from pathlib import Path
root = Path(sys.argv[1])
time.sleep(1.5)  # a slow import: SIGHUP now would end the process
hup = []
signal.signal(signal.SIGHUP, lambda *_: hup.append(1))
def ready():
    gen = json.loads((root / "devices.json").read_text())["generation"]
    (root / "devices.ready.tmp").write_text(json.dumps({"pid": os.getpid(), "generation": gen}))
    os.replace(root / "devices.ready.tmp", root / "devices.ready")
ready()
while True:
    time.sleep(0.05)
    if hup:
        hup.clear()
        ready()
"""


def test_a_starting_daemon_is_not_signalled_and_picks_up_the_newest_spec(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = LabPaths(root=tmp_path / "lab", cache=tmp_path / "cache")
    paths.root.mkdir(parents=True)
    script = tmp_path / "slow_daemon.py"
    script.write_text(SLOW_DAEMON)
    state = LabState(prefix="fdx")
    daemons = Daemons(paths, Names("fdx"))

    def spec(generation: str) -> None:
        (paths.root / "devices.json").write_text(json.dumps({"generation": generation}))

    def spawn(argv, log, env=None):  # type: ignore[no-untyped-def]
        return real_spawn([sys.executable, str(script), str(paths.root), "--prefix=fdx"], log)

    real_spawn = procs.spawn
    monkeypatch.setattr(procs, "spawn", spawn)
    spec("one")
    daemons.ensure(state, "emulator")
    pid = state.processes["emulator"]["pid"]
    try:
        spec("two")
        daemons.ensure(state, "emulator")  # still starting: no SIGHUP (it would die)
        assert state.processes["emulator"]["pid"] == pid
        daemons.wait(state, "emulator", "two", timeout=30)
        spec("three")  # announced by now: a change is signalled
        daemons.ensure(state, "emulator")
        daemons.wait(state, "emulator", "three", timeout=30)
        assert procs.alive(pid, "--prefix=fdx")
    finally:
        daemons.stop(state, "emulator")


def test_a_daemon_that_dies_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    pid = procs.spawn(["sh", "-c", "echo boom: no such spec; exit 3"], log)
    with pytest.raises(LabError, match="boom: no such spec"):
        procs.wait_until(lambda: False, lambda: procs.alive(pid, "unused"), 30, "lab x", log)
    start = time.monotonic()
    with pytest.raises(LabError, match="not ready within"):
        procs.wait_until(lambda: False, lambda: True, 0.3, "lab y", log)
    assert time.monotonic() - start < 5


def test_a_change_is_live_when_its_generation_or_the_newest_spec_is_served(
        tmp_path: Path) -> None:
    """A caller that waits outside the lab lock sees its change live also when others wrote
    newer specs meanwhile (each is written from the whole record, so it holds the change)."""
    paths = LabPaths(root=tmp_path / "lab", cache=tmp_path / "cache")
    paths.root.mkdir(parents=True)
    daemons = Daemons(paths, Names("fdx"))

    def write(spec: str, served: str) -> None:
        (paths.root / "devices.json").write_text(json.dumps({"generation": spec}))
        (paths.root / "devices.ready").write_text(json.dumps({"pid": 1, "generation": served}))

    write("mine", "older")
    assert not daemons.serves("emulator", "mine")  # not reloaded yet
    write("mine", "mine")
    assert daemons.serves("emulator", "mine")
    write("newer", "older")
    assert not daemons.serves("emulator", "mine")
    write("newer", "newer")  # the newest spec, written after mine: mine is live
    assert daemons.serves("emulator", "mine")
    (paths.root / "devices.ready").unlink()
    assert not daemons.serves("emulator", "mine")
