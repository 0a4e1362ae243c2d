"""The order and failure rules of the per-tenant runs, with the engine replaced (pure logic).

The engine itself is tested for real in test_engine.py; here a stand-in records which
stack ran when, so the rules can be checked exactly: shared first (last for destroy),
tenants side by side, one tenant's failure or crash stops no other.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import pytest

from faellesdrift.platform import engine, fleet, pack_server
from faellesdrift.platform.engine import EngineRun, RunOptions
from faellesdrift.platform.errors import PlatformError
from faellesdrift.platform.fleet import FleetOptions
from faellesdrift.settings import Settings


class Engine:
    def __init__(self, fail: set[str] = frozenset(), crash: set[str] = frozenset(),
                 pause: float = 0.0, held: set[str] | None = None) -> None:
        self.fail, self.crash, self.pause = fail, crash, pause
        self.held = held  # the stacks the backend holds; None: every one
        self.calls: list[tuple[str, str]] = []
        self.ports: set[str | None] = set()  # the policy pack each run was given
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def stacks_in_backend(self, settings, opts: RunOptions) -> set[str]:
        return self.held if self.held is not None else {
            f"lab.{s}" for s in ("shared", "a", "b", "c", "d")}

    def create_stack(self, settings, opts: RunOptions) -> None:
        with self.lock:
            self.calls.append(("create", opts.stack_name))
            self.held = {*(self.held or ()), opts.stack_name}

    def run(self, op, settings, opts: RunOptions, **_kw) -> EngineRun:
        with self.lock:
            self.calls.append((op, opts.stack_name))
            self.ports.add(opts.policy_port)
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.pause)
            if opts.scope in self.crash:
                raise RuntimeError("the language host died")
            result = EngineRun(op, opts.stack_name, "file:///x", ok=opts.scope not in self.fail)
            result.tenant(opts.scope or "community").create = 2
            if not result.ok:
                result.error = "1 resource error(s)"
            return result
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    (tmp_path / "Pulumi.yaml").write_text("name: faellesdrift\nruntime: python\n")
    monkeypatch.setattr(engine, "find_cli", lambda _s: tmp_path)
    monkeypatch.setattr(fleet, "ensure_shared", lambda *_a: None)
    monkeypatch.setattr(engine, "save", lambda *_a: None)
    monkeypatch.setattr(engine, "pack_launcher", lambda project: project / "pack")

    @contextlib.contextmanager
    def shared_pack(launcher, env, log):  # type: ignore[no-untyped-def]
        packs.append(launcher)
        yield "4711"

    packs: list[Path] = []
    monkeypatch.setattr(pack_server, "shared", shared_pack)
    return Settings(root=tmp_path, state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")


def run(monkeypatch, settings, fake: Engine, op: engine.Op = "up", tenants=("a", "b", "c", "d"),
        **opts) -> fleet.StacksResult:
    for name in ("run", "stacks_in_backend", "create_stack"):
        monkeypatch.setattr(engine, name, getattr(fake, name))
    return fleet.run_fleet(op, settings, list(tenants), FleetOptions(**opts))


def test_shared_first_then_tenants_side_by_side(monkeypatch, settings):
    fake = Engine(pause=0.2)
    result = run(monkeypatch, settings, fake, parallel=4)
    assert result.ok and fake.calls[0] == ("up", "lab.shared")
    assert {c[1] for c in fake.calls[1:]} == {"lab.a", "lab.b", "lab.c", "lab.d"}
    assert fake.most == 4  # the four tenants at once
    assert [r.scope for r in result.runs] == ["shared", "a", "b", "c", "d"]
    assert result.to_dict()["stacks"]["a"]["create"] == 2 and result.changes == 10


def test_the_stacks_of_a_run_share_one_policy_pack(monkeypatch, settings):
    for op in ("preview", "up"):
        fake = Engine()
        run(monkeypatch, settings, fake, op=op)
        assert fake.ports == {"4711"}, op  # started once, handed to every stack's run
    fake = Engine()  # one stack, or no pack asked for: each run starts its own
    run(monkeypatch, settings, fake, op="preview", tenants=("a",), shared=False)
    run(monkeypatch, settings, fake, op="up", policy=False)
    run(monkeypatch, settings, fake, op="destroy")
    assert fake.ports == {None}


def test_parallel_bounds_the_tenants_at_once(monkeypatch, settings):
    fake = Engine(pause=0.1)
    run(monkeypatch, settings, fake, parallel=2)
    assert fake.most == 2


def test_one_tenant_failing_or_crashing_stops_no_other(monkeypatch, settings):
    result = run(monkeypatch, settings, Engine(fail={"b"}, crash={"c"}))
    assert not result.ok
    assert {r.scope: r.outcome for r in result.runs} == {
        "shared": "ok", "a": "ok", "b": "failed", "c": "failed", "d": "ok"}
    assert result.run("c").error == "RuntimeError: the language host died"
    assert result.run("b").error == "1 resource error(s)"


def test_stacks_the_backend_lacks_are_created_before_they_run(monkeypatch, settings):
    fake = Engine(held={"lab.a"})
    assert run(monkeypatch, settings, fake).ok
    assert fake.calls[0] == ("create", "lab.shared")  # the tenants take its salt
    created = [stack for op, stack in fake.calls if op == "create"]
    assert sorted(created) == ["lab.b", "lab.c", "lab.d", "lab.shared"]
    for stack in created:
        assert fake.calls.index(("create", stack)) < fake.calls.index(("up", stack))
    fake = Engine(held=set())
    run(monkeypatch, settings, fake, op="drift")  # finds out for itself, creates nothing
    assert all(op == "drift" for op, _ in fake.calls)


def test_a_failed_shared_apply_skips_the_tenants(monkeypatch, settings):
    fake = Engine(fail={"shared"})
    result = run(monkeypatch, settings, fake)
    assert fake.calls == [("up", "lab.shared")]
    assert {r.outcome for r in result.runs[1:]} == {"skipped"}
    assert "the shared stack failed" in result.run("a").error
    # a failed shared preview still previews the tenants
    fake = Engine(fail={"shared"})
    assert len(run(monkeypatch, settings, fake, op="preview").runs) == 5
    assert len(fake.calls) == 5


def test_destroy_removes_tenants_first_and_shared_only_when_they_are_gone(monkeypatch, settings):
    fake = Engine()
    run(monkeypatch, settings, fake, op="destroy")
    assert fake.calls[-1] == ("destroy", "lab.shared")
    fake = Engine(fail={"a"})
    result = run(monkeypatch, settings, fake, op="destroy")
    assert ("destroy", "lab.shared") not in fake.calls
    assert result.run("shared").outcome == "skipped"


def test_without_shared_only_the_tenants_run(monkeypatch, settings):
    fake = Engine()
    result = run(monkeypatch, settings, fake, op="preview", tenants=("a",), shared=False)
    assert fake.calls == [("preview", "lab.a")] and [r.scope for r in result.runs] == ["a"]


def test_tenant_stacks_reference_the_shared_stack(settings):
    opts = FleetOptions(environment="midt-prod")
    assert fleet.shared_reference(settings, opts) == "organization/faellesdrift/midt-prod.shared"


def test_parallel_below_one_is_refused(monkeypatch, settings):
    with pytest.raises(PlatformError, match="--parallel 0"):
        run(monkeypatch, settings, Engine(), parallel=0)
