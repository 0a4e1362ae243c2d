import json

from typer.testing import CliRunner

from faellesdrift.cli import app
from faellesdrift.estate import validate
from tests.conftest import TODAY

runner = CliRunner()


def test_validate_flags_the_samples_expired_exception_and_says_the_rest_runs(sample_root):
    result = runner.invoke(app, ["validate", "--root", str(sample_root)])
    assert result.exit_code == 1, result.output  # CI flags the expired exception
    assert "exception.expired" in result.output and "exception.expiring" in result.output
    assert "the other commands run" in result.output
    as_json = json.loads(runner.invoke(app, ["validate", "--root", str(sample_root),
                                             "-o", "json"]).stdout)
    assert (as_json["ok"], as_json["usable"]) == (False, True)
    assert {f["rule"] for f in as_json["findings"] if f["severity"] == "error"} \
        == {"exception.expired"}


def test_validate_a_clean_community_exits_0(community_copy):
    _drop_expired(community_copy)
    result = runner.invoke(app, ["validate", "--root", str(community_copy)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "exception.expiring" in result.output


def _drop_expired(root):
    """The sample without its deliberately expired exception (SAM-EX-002)."""
    path = root / "tenants" / "samsoe.yaml"
    text = path.read_text()
    start = text.index("  - id: SAM-EX-002")
    path.write_text(text[:start] + text[text.index("contracts:", start):])


def test_exceptions_register_json(sample_root):
    result = runner.invoke(app, ["exceptions", "--root", str(sample_root), "-o", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["VIB-EX-002"]["status"] == "expiring"
    assert rows["SAM-EX-002"]["status"] == "expired"
    assert rows["ODD-EX-001"]["status"] == "active"
    assert rows["ODD-EX-001"]["approved_by"].startswith("Driftsudvalget")


def test_exceptions_register_lists_expired_and_refuses_invalid_community(community_copy):
    path = community_copy / "tenants" / "odder.yaml"
    path.write_text(path.read_text().replace("expires: 2028-06-30", "expires: 2026-01-01"))
    result = runner.invoke(app, ["exceptions", "--root", str(community_copy), "-o", "json"])
    assert result.exit_code == 0, result.output
    assert {r["id"]: r["status"] for r in json.loads(result.stdout)}["ODD-EX-001"] == "expired"
    path.write_text(path.read_text().replace("population: ", "population: -"))
    result = runner.invoke(app, ["exceptions", "--root", str(community_copy)])
    assert result.exit_code == 1
    assert "tenants/odder.yaml" in result.output and "faellesdrift validate" in result.output


def test_tenant_new_scaffolds_a_valid_file(community_copy):
    std = community_copy / "community.yaml"
    std.write_text(std.read_text().replace("  samsoe: 10.41.0.0/16",
                                           "  samsoe: 10.41.0.0/16\n  hedensted: 10.66.0.0/16"))
    result = runner.invoke(app, ["tenant", "new", "766", "--population", "47000",
                                 "--root", str(community_copy)])
    assert result.exit_code == 0, result.output
    text = (community_copy / "tenants" / "hedensted.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert 'code: "0766"' in text
    _drop_expired(community_copy)
    check = validate(community_copy, TODAY)
    assert check.ok, [f.one_line() for f in check.findings if f.severity == "error"]
    again = runner.invoke(app, ["tenant", "new", "0766", "--population", "1",
                                "--root", str(community_copy)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_an_unknown_municipality_code_is_bad_usage(community_copy):
    for argv in (["tenant", "new", "999", "--population", "5"],
                 ["tenant", "import", "999", "--from", str(community_copy / "community.yaml")],
                 ["discover", "nowhere", "--dry-run"]):
        result = runner.invoke(app, [*argv, "--root", str(community_copy)])
        assert result.exit_code == 2, (argv, result.output)
        assert "not one of the 98" in result.output
    assert not (community_copy / "tenants" / "999.yaml").exists()


def test_bad_today_is_one_line(sample_root):
    result = runner.invoke(app, ["validate", "--root", str(sample_root), "--today", "soon"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_markup_in_data_and_options_is_shown_as_it_is(community_copy, monkeypatch):
    path = community_copy / "tenants" / "odder.yaml"
    path.write_text(path.read_text().replace(
        "approved_by: Driftsudvalget (board decision 2026-14)",
        "approved_by: '[/bold] [red]Driftsudvalget'", 1))
    path.write_text(path.read_text().replace("expires: 2028-06-30", "expires: 2026-01-01"))
    for width in ("200", "80"):  # the wide table and the one-line-per-row form
        monkeypatch.setenv("COLUMNS", width)
        listed = runner.invoke(app, ["exceptions", "--root", str(community_copy)])
        assert listed.exit_code == 0, listed.output
        assert "[/bold] [red]Driftsudvalget" in listed.output
    bad = runner.invoke(app, ["exceptions", "--root", str(community_copy), "--tenant", "[/x]"])
    assert bad.exit_code == 2 and "no tenant '[/x]'" in bad.output


def test_findings_print_one_per_line_in_a_narrow_terminal(sample_root, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = runner.invoke(app, ["validate", "--root", str(sample_root)])
    line = next(x for x in result.output.splitlines() if "SAM-EX-002" in x)
    assert line.startswith("tenants/samsoe.yaml:") and ": error exception.expired SAM-EX-002" in line
    assert "— fix: renew it" in line


def test_the_state_directory_and_audit_log_are_private(community_copy, tmp_path, monkeypatch):
    from faellesdrift import audit

    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(state))
    assert runner.invoke(app, ["exceptions", "--root", str(community_copy)]).exit_code == 0
    assert state.stat().st_mode & 0o777 == 0o700
    log = state / "audit.jsonl"
    audit.record(log, command="t", tenant="odder", target="x", change=None, result="ok")
    assert log.stat().st_mode & 0o777 == 0o600
