"""Verify's per-host summary (from the conftest's records) and the CLI edges without a lab."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from faellesdrift.estate import load_estate
from faellesdrift.lab_access import LabAccess, access_file, write_lab_access
from faellesdrift.servers.access import Access
from faellesdrift.servers.cli import servers_app, verify_cmd
from faellesdrift.servers.errors import ServersError
from faellesdrift.servers.hostvars import select
from faellesdrift.servers.verify import VerifyResult, parse_report, results_payload
from faellesdrift.settings import Settings
from tests.conftest import TODAY, expiry_of


def _rec(host: str, control: str, outcome: str = "passed", source: str = "standard",
         message: str = "") -> dict:
    return {"host": host, "control": control, "check": f"test_{control}", "outcome": outcome,
            "source": source, "message": message}


@pytest.fixture(scope="module")
def selection():
    estate = load_estate(Path(__file__).resolve().parents[2], TODAY)
    return select(estate, hosts=["aar-file01", "aar-citr08", "odd-file01", "odd-dc02"])


def test_verify_summary_reports_exception_kept_values(selection) -> None:
    records = [
        _rec("aar-file01", "srv.ssh.password_auth"),
        _rec("aar-file01", "srv.ntp.servers", "failed", message="chrony sources []"),
        _rec("aar-citr08", "srv.ssh.password_auth", source="AAR-EX-002"),
        _rec("aar-citr08", "srv.ssh.password_auth", source="AAR-EX-002"),
        _rec("aar-citr08", "srv.ntp.servers"),
        _rec("odd-file01", "srv.ntp.servers", "failed", message="odd-file01 unreachable: x"),
        _rec("odd-file01", "srv.banner.motd", "failed", message="odd-file01 unreachable: x"),
        _rec("nobody", "srv.ntp.servers"),
    ]
    hosts = parse_report(records, selection)
    assert hosts["aar-file01"].status == "failed"
    assert hosts["aar-file01"].reason == "chrony sources []"
    citr = hosts["aar-citr08"]
    assert citr.status == "passed" and citr.passed == 3
    (kept,) = citr.kept
    assert (kept.control, kept.exception, kept.value, kept.expires, kept.verified) == (
        "srv.ssh.password_auth", "AAR-EX-002", True, expiry_of("AAR-EX-002").isoformat(), True)
    assert hosts["odd-file01"].status == "unreachable"
    assert hosts["odd-dc02"].status == "not run"
    result = VerifyResult("v1", hosts)
    assert not result.ok
    assert result.summary() == {"passed": 1, "failed": 1, "unreachable": 1, "not run": 1}

    payload = results_payload(result, selection)
    citr_row = next(h for h in payload["tenants"]["aarhus"]["hosts"]
                    if h["host"] == "aar-citr08")
    pw = next(c for c in citr_row["controls"] if c["control"] == "srv.ssh.password_auth")
    assert (citr_row["status"], citr_row["compliant"], pw["compliant"], pw["source"]) == (
        "ok", True, True, "AAR-EX-002")
    odd = next(h for h in payload["tenants"]["odder"]["hosts"] if h["host"] == "odd-file01")
    assert (odd["status"], odd["compliant"]) == ("unreachable", None)


def test_an_exception_value_not_on_the_host_is_flagged(selection) -> None:
    hosts = parse_report([_rec("aar-citr08", "srv.ssh.password_auth", "failed",
                               source="AAR-EX-002", message="sshd -T no")], selection)
    assert hosts["aar-citr08"].kept[0].verified is False


def test_the_lab_access_artefact_gives_servers_user_and_key(tmp_path: Path,
                                                             sample_root: Path) -> None:
    settings = Settings(root=sample_root, state_dir=tmp_path, cache_dir=tmp_path / "c")
    write_lab_access(access_file(tmp_path), LabAccess(
        servers=frozenset({"aar-file01"}), ssh_config=tmp_path / "lab" / "ssh_config",
        operator_key="ssh-ed25519 AAAAop"))
    access = Access.from_lab(settings)
    assert (access.servers, access.user, access.operator_keys) == (
        frozenset({"aar-file01"}), "root", ("ssh-ed25519 AAAAop",))
    write_lab_access(access_file(tmp_path), LabAccess())  # after `lab down`
    with pytest.raises(ServersError, match="the lab runs nothing"):
        Access.from_lab(settings)


def test_no_lab_is_one_clear_error(tmp_path: Path, sample_root: Path) -> None:
    settings = Settings(root=sample_root, state_dir=tmp_path, cache_dir=tmp_path / "c")
    with pytest.raises(ServersError, match="run `faellesdrift lab up` first"):
        Access.from_lab(settings)


@pytest.mark.parametrize("argv", [["plan"], ["apply", "--yes"]])
def test_cli_without_a_lab_fails_with_one_line(argv: list[str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(tmp_path))
    r = CliRunner().invoke(servers_app, [*argv, "--root", str(Path.cwd())])
    assert r.exit_code == 2
    assert "no lab in" in r.output and "Traceback" not in r.output


def test_verify_command_without_a_lab_fails_with_one_line(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(tmp_path))
    app = typer.Typer()
    app.command("verify")(verify_cmd)
    app.command("other")(lambda: None)  # a group, as in the real CLI
    r = CliRunner().invoke(app, ["verify", "--tenant", "aarhus"])
    assert r.exit_code == 2 and "no lab in" in r.output


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--tenant", "arhus", "no tenant 'arhus'"), ("--host", "odd-nope01", "no host 'odd-nope01'")])
@pytest.mark.parametrize("command", [["servers", "plan"], ["servers", "apply", "--yes"],
                                     ["servers", "facts"], ["verify"]])
def test_a_misspelt_filter_is_named_before_the_missing_lab(
        command: list[str], option: str, value: str, message: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from faellesdrift.cli import app

    monkeypatch.setenv("FAELLESDRIFT_STATE", str(tmp_path))
    r = CliRunner().invoke(app, [*command, option, value, "--root", str(Path.cwd())])
    assert r.exit_code == 2, r.output
    assert message in r.output and "no lab in" not in r.output


def test_cli_help_lists_the_commands() -> None:
    r = CliRunner().invoke(servers_app, ["--help"])
    assert r.exit_code == 0 and "plan" in r.output and "apply" in r.output
