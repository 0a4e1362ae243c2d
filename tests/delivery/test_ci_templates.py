"""The pipeline templates run commands and options this faellesdrift really has, review on
pull/merge requests and deliver on main, with secrets only from the CI system's variables."""

from __future__ import annotations

import re
import shlex

import click
import pytest
import typer
import yaml

from faellesdrift.cli import app
from tests.conftest import REPO

GITHUB = REPO / "ci" / "templates" / "github" / "faellesdrift.yml"
GITLAB = REPO / "ci" / "templates" / "gitlab" / "faellesdrift.gitlab-ci.yml"


def _scripts(path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = {}
    if path == GITHUB:
        for name, job in data["jobs"].items():
            out[name] = "\n".join(s.get("run", "") for s in job["steps"])
    else:
        for name, job in data.items():
            if isinstance(job, dict) and "script" in job:
                out[name] = "\n".join(job["script"])
    return out


def _commands(script: str) -> list[list[str]]:
    joined = re.sub(r"\\\n\s*", " ", script)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line.startswith("faellesdrift "):
            out.append(shlex.split(line.split("||")[0])[1:])
    return out


def _check(argv: list[str]) -> None:
    group = typer.main.get_command(app)
    ctx = click.Context(group)
    command = group.get_command(ctx, argv[0])
    assert command is not None, f"no command {argv[0]}"
    rest = argv[1:]
    if isinstance(command, click.Group):
        command = command.get_command(ctx, rest[0])
        rest = rest[1:]
    known = {o for p in command.params for o in p.opts}
    used = [w for w in rest if w.startswith("--")]
    assert set(used) <= known, f"{argv}: {set(used) - known} not among {sorted(known)}"


@pytest.mark.parametrize("path", [GITHUB, GITLAB], ids=["github", "gitlab"])
def test_templates_run_real_commands_and_options(path) -> None:
    scripts = _scripts(path)
    assert {"review", "deliver"} <= set(scripts)
    review = _commands(scripts["review"])
    deliver = _commands(scripts["deliver"])
    assert [c[0] for c in review] == ["validate", "codeowners", "review"]
    assert [c[0] for c in deliver] == ["deliver"]
    for argv in review + deliver:
        _check(argv)
    assert "--yes" in deliver[0] and "--base" in deliver[0]


def test_triggers_and_secrets() -> None:
    github = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    on = github[True]  # YAML 1.1 reads the key `on` as true
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    assert github["jobs"]["deliver"]["concurrency"]["cancel-in-progress"] is False
    env = github["env"]
    assert env["PULUMI_BACKEND_URL"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert env["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    gitlab = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    assert gitlab["review"]["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    assert "CI_DEFAULT_BRANCH" in gitlab["deliver"]["rules"][0]["if"]
    assert gitlab["deliver"]["resource_group"] == "faellesdrift-deliver"
    assert gitlab["review"]["artifacts"]["reports"]["junit"] == "reports/*.xml"
    for path in (GITHUB, GITLAB):  # no secret value is written into a template
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?i)passphrase\s*[:=]\s*['\"]?[a-z0-9]{6,}", text)
        assert "${{ secrets." not in "".join(
            line for line in text.splitlines() if line.strip().startswith(("run:", "printf")))
