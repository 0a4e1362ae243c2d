"""--junit FILE on validate, network compliance and verify: files CI systems read.

Each file is checked twice: against the common JUnit schema's shape (the elements and
attributes GitHub and GitLab read: testsuites/testsuite/testcase with name, classname and
time; failure, error, skipped; system-out) and by junitparser, a reader as CI tools have.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import typer
from junitparser import Error, Failure, JUnitXml, Skipped
from typer.testing import CliRunner

from faellesdrift import junit
from faellesdrift.cli import app
from faellesdrift.estate import load_estate
from faellesdrift.network.cli import network_app
from faellesdrift.servers.cli import _verify_suite
from faellesdrift.servers.verify import CheckResult, HostVerify, VerifyResult
from tests.conftest import REPO, TODAY
from tests.network.conftest import fleet, lab_settings, seeded

CHILDREN = {"testsuites": {"testsuite"},
            "testsuite": {"testcase", "properties", "system-out", "system-err"},
            "testcase": {"failure", "error", "skipped", "system-out", "system-err"},
            "failure": set(), "error": set(), "skipped": set(), "system-out": set()}
REQUIRED = {"testsuite": {"name", "tests", "failures", "errors", "time"},
            "testcase": {"name", "classname", "time"}}
FLEET_PORT = 48550  # this area's own port range (48500-48599)


def check_shape(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    for el in root.iter():
        assert el.tag in CHILDREN, f"unknown element {el.tag}"
        for child in el:
            assert child.tag in CHILDREN[el.tag], f"{child.tag} inside {el.tag}"
        assert REQUIRED.get(el.tag, set()) <= set(el.attrib), f"{el.tag} lacks attributes"
        if el.tag == "testcase":
            float(el.get("time", ""))
            assert len([c for c in el if c.tag in ("failure", "error", "skipped")]) <= 1
    for suite in root:
        cases = suite.findall("testcase")
        assert int(suite.get("tests", -1)) == len(cases)
        assert int(suite.get("failures", -1)) == sum(c.find("failure") is not None
                                                     for c in cases)
        assert int(suite.get("errors", -1)) == sum(c.find("error") is not None for c in cases)
    return root


def outcomes(path: Path) -> dict[tuple[str, str], str]:
    out = {}
    for suite in JUnitXml.fromfile(str(path)):
        for case in suite:
            kinds = {type(r) for r in case.result}
            out[(case.classname, case.name)] = ("failed" if Failure in kinds else "error"
                                                if Error in kinds else "skipped"
                                                if Skipped in kinds else "passed")
    return out


def test_validate_junit_one_case_per_file_or_finding(tmp_path: Path) -> None:
    report = tmp_path / "out" / "validate.xml"
    result = CliRunner().invoke(app, ["validate", "--root", str(REPO), "--junit", str(report)])
    assert result.exit_code == 1  # the sample keeps one expired exception on purpose
    check_shape(report)
    got = outcomes(report)
    assert got[("tenants/samsoe.yaml", "exception.expired [exceptions[1].expires]")] == "failed"
    assert got[("tenants/odder.yaml", "valid")] == "passed"
    assert got[("community.yaml", "valid")] == "passed"
    files = {classname for classname, _ in got}
    assert len([f for f in files if f.startswith("tenants/")]) == 9
    assert Counter(got.values())["failed"] == 1


def test_unwritable_junit_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = CliRunner().invoke(app, ["validate", "--root", str(REPO), "--junit",
                                      str(blocker / "x.xml")])
    assert result.exit_code == 2 and "--junit" in result.output
    assert "Traceback" not in result.output


def test_network_compliance_junit_one_case_per_device_and_control(tmp_path: Path,
                                                                   monkeypatch) -> None:
    estate = load_estate(REPO, TODAY)
    devices = {"odd-core01": seeded(estate, "odd-core01", add="logging host 192.0.2.99\n"),
               "odd-fire04": seeded(estate, "odd-fire04")}
    local = typer.Typer()
    local.add_typer(network_app, name="network")
    report = tmp_path / "network.xml"
    with fleet(devices, FLEET_PORT, tmp_path / "fleet") as gear:
        settings = lab_settings(tmp_path, gear)
        env = {"FAELLESDRIFT_ROOT": str(REPO), "FAELLESDRIFT_STATE": str(settings.state_dir),
               "FAELLESDRIFT_NETWORK_TARGET": "lab"}
        monkeypatch.delenv("FAELLESDRIFT_DEVICE_USER", raising=False)
        monkeypatch.delenv("FAELLESDRIFT_DEVICE_CREDENTIALS", raising=False)
        result = CliRunner().invoke(local, ["network", "compliance", "--host", "odd-core01",
                                            "--host", "odd-fire04", "--junit", str(report)],
                                    env=env)
    assert result.exit_code == 1, result.output  # the core has a rogue syslog host
    root = check_shape(report)
    got = outcomes(report)
    assert {c for c, _ in got} == {"odder.odd-core01", "odder.odd-fire04"}
    per_host = Counter(c for c, _ in got)
    assert per_host["odder.odd-core01"] == per_host["odder.odd-fire04"] >= 5  # every control
    assert got[("odder.odd-core01", "net.syslog.siem")] == "failed"
    assert {k for k, v in got.items() if v != "passed"} == {("odder.odd-core01",
                                                             "net.syslog.siem")}
    failure = root.find(".//testcase[@name='net.syslog.siem']/failure")
    assert failure is not None and "- logging host 192.0.2.99" in (failure.text or "")
    kept = root.find(".//testcase[@classname='odder.odd-fire04']"
                     "[@name='net.snmp.communities']/system-out")
    assert kept is not None and kept.text == "kept by ODD-EX-002"
    assert "fw-vendor-ro" not in report.read_text(encoding="utf-8")  # a secret value


def test_verify_suite_one_case_per_host_and_check(tmp_path: Path) -> None:
    ok = HostVerify("odd-file01", "odder", [
        CheckResult("odd-file01", "srv.ntp.servers", "test_chrony", "passed", "standard"),
        CheckResult("odd-file01", "srv.ssh.password_auth", "test_sshd", "failed", "standard",
                    "PasswordAuthentication yes\nexpected no")])
    silent = HostVerify("odd-dc02", "odder", [])
    result = VerifyResult("run1", {"odd-file01": ok, "odd-dc02": silent},
                          left_out={"odd-web06": "not in the lab"})
    path = junit.write(tmp_path / "verify.xml", [_verify_suite(result)])
    check_shape(path)
    assert outcomes(path) == {("odder.odd-file01", "test_chrony"): "passed",
                              ("odder.odd-file01", "test_sshd"): "failed",
                              ("odder.odd-dc02", "verify"): "error",
                              ("odd-web06", "verify"): "skipped"}


def test_text_xml_cannot_hold_is_replaced(tmp_path: Path) -> None:
    case = junit.Case("a\x00b", "c<d>&\"e", "failed", "line\x1bone", "body ]]> \udcff")
    path = junit.write(tmp_path / "x.xml", [junit.Suite("s", (case,))])
    root = check_shape(path)
    tc = root.find(".//testcase")
    assert tc is not None and tc.get("name") == "c<d>&\"e" and tc.get("classname") == "a\ufffdb"
