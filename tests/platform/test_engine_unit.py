"""Engine pieces that need no CLI: targets, tenants from URNs, backends, passphrases, the CLI
lookup and its message."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from faellesdrift.platform import engine
from faellesdrift.platform.errors import PulumiMissing
from faellesdrift.settings import Settings

URN = "urn:pulumi:lab::faellesdrift::faellesdrift:tenancy:TenantEnvironment"


def _settings(tmp_path: Path) -> Settings:
    return Settings(root=tmp_path, state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")


def test_targets_match_the_tenant_and_shared_services_only():
    pats = engine.targets("faellesdrift", "lab", ("odder",))

    def hit(urn: str) -> bool:  # the engine's glob: ** any, * no ':'
        return any(re.fullmatch(re.escape(p).replace(r"\*\*", ".*").replace(r"\*", "[^:]*"),
                                urn) for p in pats)

    dyn = "pulumi-python:dynamic/faellesdrift"
    assert hit(f"{URN}::odder")
    assert hit(f"{URN}${dyn}:ServerPlacement::odder/server/odd-file01")
    assert hit("urn:pulumi:lab::faellesdrift::faellesdrift:tenancy:SharedServices$"
               f"{dyn}:SharedSegment::shared/segment")
    assert not hit(f"{URN}${dyn}:ServerPlacement::samsoe/server/sam-file01")
    assert not hit(f"{URN}::odderx")


@pytest.mark.parametrize("urn, tenant", [
    (f"{URN}::odder", "odder"),
    (f"{URN}$pulumi-python:dynamic/faellesdrift:AccessPolicy::samsoe/access", "samsoe"),
    ("urn:pulumi:lab::faellesdrift::pulumi:pulumi:Stack::faellesdrift-lab", "community"),
    ("urn:pulumi:lab::faellesdrift::x$y::shared/segment", "community"),
    (None, "community"),
])
def test_tenant_of(urn, tenant):
    assert engine.tenant_of(urn, {"odder", "samsoe"}) == tenant


def test_backend_defaults_to_the_state_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    assert engine.backend_url(_settings(tmp_path)) == f"file://{tmp_path}/state/pulumi"
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://state?endpoint=minio:9000")
    assert engine.backend_url(_settings(tmp_path)) == "s3://state?endpoint=minio:9000"
    assert engine.backend_url(_settings(tmp_path), "file:///x") == "file:///x"


def test_backend_urls_are_redacted():
    assert engine.redact("postgres://pulumi:s3cret@db:5432/state") == "postgres://***@db:5432/state"
    assert "s3cret" not in engine.redact("s3://b?endpoint=m:9000&secret=s3cret")
    assert engine.redact("file:///srv/state") == "file:///srv/state"


def test_passphrase_lab_is_public_others_get_a_private_file(tmp_path, monkeypatch):
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    s = _settings(tmp_path)
    assert engine.passphrase_env(s, "lab") == {"PULUMI_CONFIG_PASSPHRASE": "faellesdrift-lab"}
    env = engine.passphrase_env(s, "midt-prod")
    path = Path(env["PULUMI_CONFIG_PASSPHRASE_FILE"])
    assert path == tmp_path / "state/pulumi/passphrase"
    assert oct(path.stat().st_mode & 0o777) == "0o600" and len(path.read_text().strip()) >= 32
    assert engine.passphrase_env(s, "midt-prod") == env  # made once
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "from-env")
    assert engine.passphrase_env(s, "lab") == {}


def test_missing_cli_names_the_install_script(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(PulumiMissing, match=r"scripts/install-pulumi\.sh"):
        engine.find_cli(_settings(tmp_path))


def test_cli_found_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    for v in ("v3.9.0", "v3.274.1"):
        b = tmp_path / "cache" / "pulumi" / v / "bin"
        b.mkdir(parents=True)
        for tool in ("pulumi", "pulumi-language-python"):
            (b / tool).write_text("#!/bin/sh\n")
            os.chmod(b / tool, 0o755)
    assert engine.find_cli(_settings(tmp_path)).parent.name == "v3.274.1"


def test_each_stack_has_a_workspace_of_its_own(tmp_path):
    import yaml

    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: faellesdrift\nruntime: python\nmain: stacks/\n")
    (project / "Pulumi.ci.yaml").write_text("config:\n  faellesdrift:target: record\n"
                                            "encryptionsalt: v1:salt\n")
    settings = _settings(tmp_path)
    opts = engine.RunOptions(stack="ci", project_dir=project, scope="odder",
                             shared_stack="organization/faellesdrift/ci.shared")
    work = engine.prepare_workspace(settings, project, opts)
    assert work == tmp_path / "state/pulumi/workspaces/ci.odder"
    assert opts.stack_name == "ci.odder"
    main = yaml.safe_load((work / "Pulumi.yaml").read_text())["main"]
    assert (work / main).resolve() == (project / "stacks").resolve()
    stack = yaml.safe_load((work / "Pulumi.ci.odder.yaml").read_text())
    assert stack == {"config": {"faellesdrift:target": "record", "faellesdrift:scope": "odder",
                                "faellesdrift:sharedStack": "organization/faellesdrift/ci.shared"},
                     "encryptionsalt": "v1:salt"}
    other = engine.prepare_workspace(settings, project, engine.RunOptions(
        stack="ci", project_dir=project, scope="samsoe"))
    assert other != work and not (other / "Pulumi.ci.odder.yaml").exists()


def test_a_salt_the_stack_was_made_with_is_kept(tmp_path):
    import yaml

    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: faellesdrift\nruntime: python\n")
    settings = _settings(tmp_path)
    opts = engine.RunOptions(stack="dev", project_dir=project, scope="shared")
    work = engine.prepare_workspace(settings, project, opts)
    path = work / "Pulumi.dev.shared.yaml"
    path.write_text(path.read_text() + "encryptionsalt: v1:made-by-pulumi\n")
    engine.prepare_workspace(settings, project, opts)
    assert yaml.safe_load(path.read_text())["encryptionsalt"] == "v1:made-by-pulumi"


def test_the_first_error_of_the_cli_and_who_holds_a_lock():
    text = ("\n code: 1\n stdout: \n stderr: error: could not create secrets manager for new "
            "stack: incorrect passphrase")
    assert engine._first_error(text) == ("could not create secrets manager for new stack: "
                                         "incorrect passphrase")
    locked = ("stderr: error: the stack is currently locked by 1 lock(s). Either wait for the "
              "other process(es) to end or delete the lock file with `pulumi cancel`.\n"
              "  postgres://****:****@127.0.0.1:54411/db/.pulumi/locks/x.json: created by "
              "root@lab1 (pid 4711) at 2026-11-30T14:00:00Z")
    assert engine.locked_by(locked) == "root@lab1 (pid 4711) at 2026-11-30T14:00:00Z"
    assert engine.locked_by("error: something else") is None
