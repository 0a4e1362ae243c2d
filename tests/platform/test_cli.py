"""The platform commands' edges: options, messages and exit codes without running the engine."""

from __future__ import annotations

from typer.testing import CliRunner

from faellesdrift.platform.cli import platform_app

runner = CliRunner()


def test_unknown_tenant_exits_2(sample_root):
    r = runner.invoke(platform_app, ["plan", "--root", str(sample_root), "--tenant", "gotham"])
    assert r.exit_code == 2
    assert "--tenant gotham: no such tenant; known: aarhus" in r.output


def test_invalid_community_exits_1_like_every_command(community_copy):
    path = community_copy / "tenants" / "odder.yaml"
    path.write_text(path.read_text().replace("population: ", "population: -"))
    r = runner.invoke(platform_app, ["plan", "--root", str(community_copy)])
    assert r.exit_code == 1 and "faellesdrift validate" in r.output


def test_destroy_needs_yes(sample_root, tmp_path, monkeypatch):
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(tmp_path))
    r = runner.invoke(platform_app, ["destroy", "--root", str(sample_root)])
    assert r.exit_code == 2 and "add --yes" in r.output


def test_missing_cli_exits_2_naming_the_script(sample_root, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(tmp_path / "state"))
    r = runner.invoke(platform_app, ["plan", "--root", str(sample_root)])
    assert r.exit_code == 2
    assert "scripts/install-pulumi.sh" in r.output


def test_the_commands_onboarding_runs_exist():
    from faellesdrift.onboarding.flow import STEPS

    names = {c.name for c in platform_app.registered_commands}
    assert names == {"plan", "apply", "destroy", "migrate", "drift"}
    assert {s.argv[1] for s in STEPS if s.argv[:1] == ("pulumi",)} <= names


def test_apply_refreshes_by_default_and_plan_on_request(sample_root, tmp_path, monkeypatch):
    from faellesdrift.platform import cli, fleet

    asked: list[tuple[str, bool]] = []

    def run_fleet(op, settings, tenants, opts, **_kw):  # type: ignore[no-untyped-def]
        asked.append((op, opts.refresh))
        return fleet.StacksResult(op, opts.environment, "file:///x", opts.parallel,
                                 [fleet.StackRun(s, f"lab.{s}", "ok") for s in tenants])

    monkeypatch.setattr(fleet, "run_fleet", run_fleet)
    monkeypatch.setattr(cli, "_refuse_unmigrated", lambda *_a: None)
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(tmp_path))
    base = ["--root", str(sample_root), "-o", "json"]
    for argv, wanted in ((["apply", "--yes"], [("preview", True), ("up", True)]),
                         (["apply", "--yes", "--no-refresh"], [("preview", False), ("up", False)]),
                         (["plan"], [("preview", False)]),
                         (["plan", "--refresh"], [("preview", True)])):
        asked.clear()
        r = runner.invoke(platform_app, [*argv, *base])
        assert r.exit_code == 0, r.output
        assert asked == wanted, argv
