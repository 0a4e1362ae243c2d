"""`faellesdrift codeowners` against GitHub's and GitLab's documented CODEOWNERS syntax.

The checkers below follow the documentation, not the generator:
- GitHub ("About code owners"): each line is a comment (#) or a path pattern followed by
  one or more owners separated by spaces; owners are @username, @org/team-name or an
  email address; patterns follow .gitignore rules except that `!` negation, `[ ]`
  character ranges and `\\#` escapes are not supported; there are no sections; the last
  matching pattern decides the owners.
- GitLab ("Code Owners syntax"): the same lines, plus section headers `[Name]`
  (optionally `^[Name]` for optional sections, `[Name][N]` for N approvals) followed by
  the section's default owners; owners are @username, @group, @group/subgroup (nested),
  @@role or an email; entries without owners take the section's default owners; every
  section applies, so a file needs an approval from each section that matches it.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from faellesdrift.cli import app
from tests.delivery.conftest import edit

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
GITHUB_USER = re.compile(r"^@[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}$")
GITHUB_TEAM = re.compile(r"^@[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}/[A-Za-z0-9_-]+$")
GITLAB_OWNER = re.compile(r"^@@?[A-Za-z0-9_.][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*$")
GITLAB_SECTION = re.compile(r"^\^?\[(?P<name>[^\]]+)\](?:\[(?P<n>\d+)\])?(?P<owners>(?: \S+)*)$")


def _pattern_ok(pattern: str) -> bool:
    return (not pattern.startswith(("!", "\\#")) and "[" not in pattern and "]" not in pattern
            and " " not in pattern)


def parse_github(text: str) -> list[tuple[str, list[str]]]:
    rules = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pattern, *owners = line.split()
        assert _pattern_ok(pattern), f"line {n}: unsupported pattern {pattern!r}"
        assert owners, f"line {n}: a pattern without owners"
        for o in owners:
            assert EMAIL.match(o) or GITHUB_USER.match(o) or GITHUB_TEAM.match(o), \
                f"line {n}: {o!r} is not a GitHub owner"
        rules.append((pattern, owners))
    return rules


def parse_gitlab(text: str) -> dict[str, list[tuple[str, list[str]]]]:
    sections: dict[str, list[tuple[str, list[str]]]] = {"": []}
    current, default = "", []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        head = GITLAB_SECTION.match(line)
        if head:
            current, default = head["name"], head["owners"].split()
            sections[current] = []
        else:
            pattern, *owners = line.split()
            assert _pattern_ok(pattern), f"line {n}: unsupported pattern {pattern!r}"
            owners = owners or default
            assert owners, f"line {n}: no owners and no default owners in [{current}]"
            sections[current].append((pattern, owners))
            continue
        for o in default:
            assert EMAIL.match(o) or GITLAB_OWNER.match(o), f"line {n}: owner {o!r}"
    for rules in sections.values():
        for _, owners in rules:
            for o in owners:
                assert EMAIL.match(o) or GITLAB_OWNER.match(o), f"{o!r} is not a GitLab owner"
    return sections


def matches(pattern: str, path: str) -> bool:
    """gitignore matching for the patterns used here: anchored paths and directories."""
    anchored = pattern.lstrip("/")
    if pattern.endswith("/"):
        return path.startswith(anchored)
    return fnmatch.fnmatchcase(path, anchored)


def github_owners(rules, path: str) -> list[str]:
    found: list[str] = []
    for pattern, owners in rules:  # the last match wins
        if matches(pattern, path):
            found = owners
    return found


def gitlab_owners(sections, path: str) -> dict[str, list[str]]:
    out = {}
    for name, rules in sections.items():
        hit = [owners for pattern, owners in rules if matches(pattern, path)]
        if hit:
            out[name] = hit[-1]
    return out


def _codeowners(root: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["codeowners", "--root", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


BOARD, OPS = "@faellesdrift-midt/bestyrelse", "@faellesdrift-midt/drift"


def test_github_syntax_and_who_owns_what(history) -> None:
    rules = parse_github(_codeowners(history.root, "--format", "github"))
    assert github_owners(rules, "community.yaml") == [BOARD]
    assert github_owners(rules, "schemas/tenant.schema.json") == [BOARD]
    assert github_owners(rules, "tenants/odder.yaml") == ["it-chef@odder.example.dk", OPS]
    assert github_owners(rules, "tenants/hedensted.yaml") == [OPS]  # a new municipality
    assert github_owners(rules, "tenants/aarhus.yaml") == ["it-chef@aarhus.example.dk", OPS]


def test_gitlab_syntax_needs_operations_and_the_municipality(history) -> None:
    sections = parse_gitlab(_codeowners(history.root, "--format", "gitlab"))
    assert gitlab_owners(sections, "tenants/odder.yaml") == {
        "Operations": [OPS], "Municipalities": ["it-chef@odder.example.dk"]}
    assert gitlab_owners(sections, "community.yaml") == {"Board": [BOARD]}
    assert gitlab_owners(sections, "tenants/hedensted.yaml") == {"Operations": [OPS]}


def test_named_approvers_nested_groups_and_the_file_itself(history) -> None:
    edit(history.root / "tenants" / "odder.yaml",
         (("onboarding: {wave: 3, target: 2027-05-01}\n",
           ("onboarding: {wave: 3, target: 2027-05-01}\n"
           "approvers: [\"@odder-kommune/it\", digitalisering@odder.example.dk]\n")),))
    written = history.root / ".github" / "CODEOWNERS"
    _codeowners(history.root, "--format", "github", "--write", str(written))
    rules = parse_github(written.read_text(encoding="utf-8"))
    assert github_owners(rules, "tenants/odder.yaml") == [
        "@odder-kommune/it", "digitalisering@odder.example.dk", OPS]
    assert github_owners(rules, ".github/CODEOWNERS") == [BOARD]
    # a GitLab subgroup is fine for GitLab and refused for GitHub, with the fix
    edit(history.root / "tenants" / "odder.yaml",
         (("\"@odder-kommune/it\"", "\"@odder-kommune/it/drift\""),))
    sections = parse_gitlab(_codeowners(history.root, "--format", "gitlab"))
    assert gitlab_owners(sections, "tenants/odder.yaml")["Municipalities"][0] == \
        "@odder-kommune/it/drift"
    result = CliRunner().invoke(app, ["codeowners", "--root", str(history.root)])
    assert result.exit_code == 1
    assert "tenants/odder.yaml [approvers]" in result.output and "--format gitlab" in \
        result.output


def test_check_mode_for_ci(history) -> None:
    target = history.root / ".github" / "CODEOWNERS"
    runner = CliRunner()
    assert runner.invoke(app, ["codeowners", "--root", str(history.root), "--check",
                               str(target)]).exit_code == 1
    assert runner.invoke(app, ["codeowners", "--root", str(history.root), "--write",
                               str(target)]).exit_code == 0
    ok = runner.invoke(app, ["codeowners", "--root", str(history.root), "--check", str(target)])
    assert ok.exit_code == 0 and "up to date" in ok.stdout


def test_a_community_in_a_subdirectory_gets_repository_paths(tmp_path) -> None:
    from tests.delivery.conftest import make_history

    history = make_history(tmp_path / "repo", subdir="midt")
    rules = parse_github(_codeowners(history.root))
    assert github_owners(rules, "midt/tenants/odder.yaml") == ["it-chef@odder.example.dk", OPS]
    assert github_owners(rules, "tenants/odder.yaml") == []


@pytest.mark.parametrize("approver", ["odder-it", "@odder it", "@", "mail@nowhere"])
def test_bad_approvers_are_validation_findings(community_copy, approver) -> None:
    edit(community_copy / "tenants" / "odder.yaml",
         (("onboarding: {wave: 3, target: 2027-05-01}\n",
           f"onboarding: {{wave: 3, target: 2027-05-01}}\napprovers: [\"{approver}\"]\n"),))
    result = CliRunner().invoke(app, ["validate", "--root", str(community_copy), "-o", "json"])
    assert result.exit_code == 1
    assert '"field": "approvers[0]"' in result.stdout


def test_without_approvals_in_the_standards_it_says_what_to_add(community_copy) -> None:
    edit(community_copy / "community.yaml",
         ((("approvals:\n  operations: [\"@faellesdrift-midt/drift\"]\n"
           "  board: [\"@faellesdrift-midt/bestyrelse\"]\n"), ""),))
    result = CliRunner().invoke(app, ["codeowners", "--root", str(community_copy)])
    assert result.exit_code == 1 and "community.yaml [approvals]: missing" in result.output
