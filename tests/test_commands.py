"""Adapters are mounted lazily: start-up imports none of them, running a command loads it."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from faellesdrift.cli import app
from faellesdrift.commands import ADAPTERS

HEAVY = {"nornir", "netmiko", "paramiko", "pulumi", "ansible_runner", "sqlalchemy", "alembic",
         "faellesdrift.network", "faellesdrift.platform", "faellesdrift.servers",
         "faellesdrift.metering", "faellesdrift.lab", "faellesdrift.reports"}


def _loaded_after(code: str) -> set[str]:
    probe = (f"{code}\nimport json, sys\n"
             "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    names = set(json.loads(out.splitlines()[-1]))
    return {h for h in HEAVY if h in names or any(n.startswith(h + ".") for n in names)}


def test_help_and_validate_import_no_adapter(sample_root):
    assert _loaded_after("import faellesdrift.cli") == set()
    helped = ("from typer.testing import CliRunner\nfrom faellesdrift.cli import app\n"
              "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0, r.output\n"
              f"r = CliRunner().invoke(app, ['validate', '--root', {str(sample_root)!r}])\n"
              "assert r.exit_code in (0, 1), r.output")
    assert _loaded_after(helped) == set()


def test_every_adapter_is_listed_and_loads():
    listing = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0
    for name in ADAPTERS:
        assert name in listing.output
        loaded = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert loaded.exit_code == 0, (name, loaded.output)
        assert "Usage: " in loaded.output and name in loaded.output


def test_an_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(app, ["netwrok"])
    assert result.exit_code == 2 and "No such command" in result.output


def _all_commands(group, ctx):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield name, command
        if hasattr(command, "list_commands"):
            yield from ((f"{name} {sub}", c) for sub, c in _all_commands(command, ctx))


def test_help_paragraphs_are_wrapped_by_the_terminal_not_the_source():
    import typer

    group = typer.main.get_command(app)
    ctx = group.make_context("faellesdrift", [], resilient_parsing=True)
    checked = 0
    for name, command in _all_commands(group, ctx):
        for paragraph in (command.help or "").split("\n\n"):
            lines = paragraph.splitlines()
            if paragraph.startswith("\b") or any(line.lstrip().startswith(("-", "*", "|"))
                                                  or line.startswith(" ") for line in lines):
                continue
            assert len(lines) <= 1, (name, paragraph)
        checked += 1
    assert checked > 40
