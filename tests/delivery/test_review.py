"""`faellesdrift review` on a real git history: a change to one tenant is planned alone."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from faellesdrift.cli import app
from faellesdrift.delivery import markdown
from faellesdrift.delivery.review import review
from faellesdrift.settings import Settings
from tests.delivery.conftest import (
    NEW_SERVER,
    NTP_DEVICE,
    NTP_EXCEPTION,
    RENEWED,
    History,
    edit,
    git,
)

OFFLINE = ("platform", "servers")  # these plans need Pulumi and servers: see test_review_plans


def _review(history: History, skip=OFFLINE):
    return review(Settings.from_env(history.root), "main", skip=skip)


def test_review_lists_exactly_the_change_and_plans_only_that_tenant(history: History) -> None:
    r = _review(history, skip=("platform",))  # the platform's plan: test_review_plans.py
    assert r.ok and r.valid
    assert r.base == history.base and r.head == history.change and not r.dirty
    assert r.changes.files == ("tenants/odder.yaml",)
    assert r.changes.tenants == ("odder",)
    assert [(c.tenant, c.kind, c.subject, c.actions) for c in r.changes.changes] == [
        ("odder", "server", NEW_SERVER, ("added",)),
        ("odder", "exception", NTP_EXCEPTION, ("value changed",)),
        ("odder", "exception", RENEWED, ("renewed",)),
    ]
    # one effective value changes: the NTP servers the core switch gets
    assert [(v.host, v.control, v.before, v.after, v.source_after)
            for v in r.changes.values] == [
        (NTP_DEVICE, "net.ntp.servers", ["10.27.0.123"], ["10.27.0.124"], NTP_EXCEPTION)]
    network = next(p for p in r.plans if p.id == "network")
    assert network.status == "done" and network.targets == (NTP_DEVICE,)
    assert list(network.diffs) == [NTP_DEVICE]
    removed = [x for x in network.diffs[NTP_DEVICE].splitlines() if x.startswith("-ntp")]
    added = [x for x in network.diffs[NTP_DEVICE].splitlines() if x.startswith("+ntp")]
    assert removed == ["-ntp server 10.27.0.123"] and added == ["+ntp server 10.27.0.124"]
    servers = next(p for p in r.plans if p.id == "servers")  # nothing to check before it exists
    assert (servers.status, servers.summary) == ("skipped", (f"new, created by the delivery: "
                                                            f"{NEW_SERVER}"))
    assert [c.tenant for c in r.costs] == ["odder"]
    cost = r.costs[0]
    assert cost.model == "hybrid" and not cost.error
    assert cost.delta_ore > 0 and cost.others_delta_ore == -cost.delta_ore  # pools are shared
    # exception decisions need the municipality and the board
    assert {a.what.split()[0]: a.owners for a in r.approvals} == {
        NTP_EXCEPTION: ("it-chef@odder.example.dk", "@faellesdrift-midt/bestyrelse"),
        RENEWED: ("it-chef@odder.example.dk", "@faellesdrift-midt/bestyrelse")}
    assert r.code_owners == {"tenants/odder.yaml": ("it-chef@odder.example.dk",
                                                    "@faellesdrift-midt/drift")}
    # another municipality's expired exception is listed but does not block this change
    assert [f.rule for f in r.elsewhere] == ["exception.expired"] and not r.findings


def test_the_markdown_gives_a_reviewer_what_they_need(history: History) -> None:
    text = markdown.render(_review(history))
    assert text.startswith(markdown.MARKER)
    assert "## faellesdrift review — ✅ valid" in text
    assert "Affected tenants: **odder**." in text
    sections = re.findall(r"^### (.+)$", text, re.MULTILINE)
    assert sections == ["What changes", "Effective values that change", "Exceptions",
                        "Who must approve", "Validation",
                        "Plans (only what this change touches)", "Cost impact"]
    rows = [line for line in text.splitlines() if line.startswith("| odder |")]
    assert rows[0].startswith(f"| odder | server | {NEW_SERVER} | added | ")
    assert rows[1].startswith(f"| odder | exception | {NTP_EXCEPTION} | value changed | "
                              "value: \\[10.27.0.123\\] → \\[10.27.0.124\\]")
    assert rows[2].startswith(f"| odder | exception | {RENEWED} | renewed | "
                              "expires: 2027-09-01 → 2027-11-15")
    assert (f"| odder | {NTP_DEVICE} | net.ntp.servers | \\[10.27.0.123\\] | "
            f"\\[10.27.0.124\\] | {NTP_EXCEPTION} |") in text
    assert (f"| {RENEWED} (exception, renewed) | odder | it-chef@odder.example.dk, "
            "@faellesdrift-midt/bestyrelse |") in text
    assert "```diff\n--- a/odd-core01.cfg\n+++ b/odd-core01.cfg" in text
    assert "-ntp server 10.27.0.123\n+ntp server 10.27.0.124" in text
    cost = [line for line in text.splitlines() if line.startswith("| odder | hybrid |")]
    assert len(cost) == 1 and re.search(r"\| \+DKK [\d,]+\.\d\d \| -DKK [\d,]+\.\d\d \|$",
                                        cost[0])
    assert "samsoe" in text and "do not block it" in text
    # no other tenant appears as changed or planned
    for other in ("aarhus", "randers", "viborg"):
        assert f"| {other} |" not in text


def test_data_from_tenant_files_is_not_markup(history: History) -> None:
    edit(history.root / "tenants" / "odder.yaml",
         (("justification: Traffic-light controllers need the local GPS clock",
           "justification: \"Traffic | <b>lights</b> need **GPS**\""),))
    text = markdown.render(_review(history))
    row = next(x for x in text.splitlines() if x.startswith(f"| odder | exception | "
                                                            f"{NTP_EXCEPTION} |"))
    assert "Traffic \\| \\<b\\>lights\\</b\\> need \\*\\*GPS\\*\\*" in row
    assert row.count(" | ") == 4  # the pipe in the data did not add a column
    assert "(uncommitted" not in text and "uncommitted changes" in text


def test_an_invalid_change_exits_1_and_names_the_file(history: History) -> None:
    edit(history.root / "tenants" / "odder.yaml",
         (("    value: [10.27.0.124]\n", "    value: [not-an-address]\n"),))
    r = _review(history)
    assert not r.valid and not r.ok
    assert {f.rule for f in r.errors} == {"exception.value-type"}
    result = CliRunner().invoke(app, ["review", "--base", "main", "--root", str(history.root),
                                      "--skip", "platform", "--skip", "servers", "-o", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["valid"] is False and data["findings"][0]["file"] == "tenants/odder.yaml"


def test_a_new_exception_names_who_must_approve(history: History) -> None:
    edit(history.root / "tenants" / "odder.yaml", (("contracts:\n", (
        "  - id: ODD-EX-003\n    control: srv.ssh.password_auth\n    hosts: [odd-app03]\n"
        "    value: true\n    category: waiver\n    justification: Vendor support logs in "
        "with a password\n    risk_owner: Odder, IT\n    approved_by: Driftsudvalget\n"
        "    approved_on: 2026-11-01\n    expires: 2027-03-01\ncontracts:\n")),
        ("population: 24000", "population: 24500")))
    r = _review(history)
    added = next(c for c in r.changes.changes if c.subject == "ODD-EX-003")
    assert added.actions == ("added",) and added.approve == ("tenant", "board")
    population = next(c for c in r.changes.changes if c.subject == "population")
    assert population.approve == ("tenant", "operations")
    owners = {a.what: a.owners for a in r.approvals}
    assert owners["population (field, changed)"] == ("it-chef@odder.example.dk",
                                                     "@faellesdrift-midt/drift")
    assert sorted((v.host, v.control, str(v.after)) for v in r.changes.values) == [
        ("odd-app03", "srv.ssh.password_auth", "True"),
        (NTP_DEVICE, "net.ntp.servers", "['10.27.0.124']")]


def test_review_cli_writes_the_markdown_and_a_junit_report(history: History, tmp_path) -> None:
    md, xml = tmp_path / "review.md", tmp_path / "review.xml"
    result = CliRunner().invoke(app, ["review", "--base", "main", "--root", str(history.root),
                                      "--skip", "platform", "--skip", "servers",
                                      "--markdown", str(md), "--junit", str(xml)])
    assert result.exit_code == 0, result.output
    assert "review ok: 3 change(s) in odder" in result.stdout
    assert md.read_text(encoding="utf-8").startswith(markdown.MARKER)
    assert xml.read_text(encoding="utf-8").startswith("<?xml")


@pytest.mark.parametrize("argv, code, words", [
    (["--base", "no-such-branch"], 2, "--base no-such-branch: no such commit"),
    (["--base", "main", "--skip", "everything"], 2, "--skip everything"),
])
def test_bad_usage_is_one_line_and_exit_2(history: History, argv, code, words) -> None:
    result = CliRunner().invoke(app, ["review", "--root", str(history.root), *argv])
    assert result.exit_code == code
    assert words in result.output and "Traceback" not in result.output


def test_outside_git_review_says_so(tmp_path, community_copy) -> None:
    result = CliRunner().invoke(app, ["review", "--base", "main", "--root",
                                      str(community_copy)])
    assert result.exit_code == 2 and "is not in a git repository" in result.output


def test_a_change_to_the_standards_reaches_every_tenant_it_changes(history: History) -> None:
    git(history.root, "checkout", "-q", "main")
    git(history.root, "checkout", "-q", "-b", "banner")
    edit(history.root / "community.yaml", ((
        ("    default: Authorised access only - Faellesdrift Midt\n    mandatory: false\n"
        "    max_exception_days: 730\n  # --- server"),
        ("    default: Authorised access only - Midt\n    mandatory: false\n"
        "    max_exception_days: 730\n  # --- server")),))
    r = _review(history, skip=("platform", "servers", "network"))
    assert r.changes.standards_changed == ("controls",)
    assert [c.subject for c in r.changes.changes] == ["community.yaml"]
    assert r.changes.changes[0].approve == ("board",)
    devices = {v.host for v in r.changes.values}
    assert {v.control for v in r.changes.values} == {"net.banner.motd"}
    assert len(r.changes.tenants) > 1 and NTP_DEVICE in devices
    assert r.code_owners == {"community.yaml": ("@faellesdrift-midt/bestyrelse",)}


def test_secret_values_never_reach_the_summary(history: History) -> None:
    edit(history.root / "tenants" / "odder.yaml",
         (("    value: [fw-vendor-ro]\n", "    value: [fw-vendor-new]\n"),))
    r = _review(history)
    text = markdown.render(r) + json.dumps(r.to_dict(), default=str)
    network = next(p for p in r.plans if p.id == "network")
    assert "odd-fire04" in network.diffs  # the device's config does change
    assert "fw-vendor-ro" not in text and "fw-vendor-new" not in text


def test_a_summary_too_long_for_a_comment_leaves_the_diffs_out(history: History) -> None:
    r = _review(history)
    full = markdown.render(r)
    short = markdown.render(r, limit=len(full) - 1)
    assert "```diff" in full and "```diff" not in short
    assert "too long for a comment" in short and "ODD-EX-002" in short


def test_a_community_in_a_subdirectory_of_the_repository(tmp_path) -> None:
    from tests.delivery.conftest import make_history

    history = make_history(tmp_path / "repo", subdir="midt")
    r = review(Settings.from_env(history.root), "main", skip=OFFLINE)
    assert r.changes.files == ("tenants/odder.yaml",)
    assert [c.subject for c in r.changes.changes] == [NEW_SERVER, NTP_EXCEPTION, RENEWED]
