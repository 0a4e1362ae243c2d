import json

from typer.testing import CliRunner

from faellesdrift.cli import app
from faellesdrift.estate import validate
from tests.conftest import TODAY

runner = CliRunner()


def test_validate_sample_exits_0_and_shows_warnings(sample_root):
    result = runner.invoke(app, ["validate", "--root", str(sample_root)])
    assert result.exit_code == 0, result.output
    assert "exception.expiring" in result.output
    assert "valid" in result.output


def test_exceptions_register_json(sample_root):
    result = runner.invoke(app, ["exceptions", "--root", str(sample_root), "-o", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    odd = {r["id"]: r for r in rows if r["tenant"] == "odder"}
    assert odd["ODD-EX-002"]["status"] == "expiring"
    assert odd["ODD-EX-001"]["approved_by"].startswith("Driftsudvalget")


def test_exceptions_register_refuses_invalid_community(community_copy):
    path = community_copy / "tenants" / "odder.yaml"
    path.write_text(path.read_text().replace("expires: 2027-12-31", "expires: 2026-01-01"))
    result = runner.invoke(app, ["exceptions", "--root", str(community_copy)])
    assert result.exit_code == 1
    assert "exception.expired" in result.output


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
    check = validate(community_copy, TODAY)
    assert check.ok, [f.one_line() for f in check.findings if f.severity == "error"]
    again = runner.invoke(app, ["tenant", "new", "0766", "--population", "1",
                                "--root", str(community_copy)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_tenant_new_unknown_code(community_copy):
    result = runner.invoke(app, ["tenant", "new", "999", "--population", "5",
                                 "--root", str(community_copy)])
    assert result.exit_code == 1
    assert "not one of the 98" in result.output


def test_bad_today_is_one_line(sample_root):
    result = runner.invoke(app, ["validate", "--root", str(sample_root), "--today", "soon"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
