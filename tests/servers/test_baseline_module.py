"""The baseline's own modules (playbooks/library), run the way Ansible runs them, on temp files.

Services need systemd and are covered by the lab tests; here: files, directories,
lines, check mode, validation and what the module reports as changed.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import subprocess
import sys
from pathlib import Path
from typing import Any

LIBRARY = Path(__file__).resolve().parents[2] / "playbooks" / "library"
ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def module(name: str, tmp_path: Path, check: bool = False, **args: Any) -> dict[str, Any]:
    argfile = tmp_path / f"args-{os.urandom(3).hex()}.json"
    argfile.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {**args, "_ansible_check_mode": check,
                                                           "_ansible_diff": True}}))
    proc = subprocess.run([sys.executable, str(LIBRARY / f"{name}.py"), str(argfile)],
                          capture_output=True, text=True, timeout=60, check=False)
    return json.loads(proc.stdout)


def spec(dest: Path, content: str, **extra: Any) -> dict[str, Any]:
    return {"dest": str(dest), "content": content, "owner": ME, "group": MY_GROUP,
            "mode": "0640", **extra}


def test_a_new_file_is_a_change_with_its_diff_and_a_second_run_is_not(tmp_path: Path) -> None:
    dest = tmp_path / "chrony.conf"
    out = module("baseline_state", tmp_path, files=[spec(dest, "server 10.0.0.1 iburst\n")])
    assert out["changed"] is True, out
    (entry,) = out["files"]
    assert entry["dest"] == str(dest) and entry["diff"]["before"] == ""
    assert entry["diff"]["after"] == "server 10.0.0.1 iburst\n"
    assert dest.read_text() == "server 10.0.0.1 iburst\n"
    assert oct(dest.stat().st_mode & 0o777) == "0o640"
    again = module("baseline_state", tmp_path, files=[spec(dest, "server 10.0.0.1 iburst\n")])
    assert again["changed"] is False and again["files"] == []


def test_check_mode_reports_the_change_and_writes_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "motd"
    dest.write_text("old\n")
    os.chmod(dest, 0o640)
    out = module("baseline_state", tmp_path, check=True,
                 files=[spec(dest, "new\n")], dirs=[{"path": str(tmp_path / "d"),
                                                      "mode": "0755"}])
    assert out["changed"] is True
    assert [f["dest"] for f in out["files"]] == [str(tmp_path / "d"), str(dest)]
    assert dest.read_text() == "old\n" and not (tmp_path / "d").exists()


def test_only_the_mode_differs_is_a_change_of_attributes(tmp_path: Path) -> None:
    dest = tmp_path / "banner"
    dest.write_text("hello\n")
    os.chmod(dest, 0o600)
    out = module("baseline_state", tmp_path, files=[spec(dest, "hello\n")])
    assert out["changed"] is True
    assert "mode=0600" in out["files"][0]["diff"]["before"]
    assert oct(dest.stat().st_mode & 0o777) == "0o640"


def test_a_file_that_fails_validation_is_never_written(tmp_path: Path) -> None:
    dest = tmp_path / "sudoers"
    dest.write_text("good\n")
    out = module("baseline_state", tmp_path,
                 files=[spec(dest, "bad\n", validate="/bin/grep -q good %s")])
    assert out.get("failed") is True and "validation of" in out["msg"], out
    assert dest.read_text() == "good\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".fd-")]  # no leftovers


def test_a_line_is_inserted_first_only_when_missing(tmp_path: Path) -> None:
    path = tmp_path / "sshd_config"
    path.write_text("Port 22\n")
    line = "Include /etc/ssh/sshd_config.d/*.conf"
    out = module("baseline_state", tmp_path, lines=[{"path": str(path), "line": line}])
    assert out["changed"] is True and path.read_text() == f"{line}\nPort 22\n"
    again = module("baseline_state", tmp_path, lines=[{"path": str(path), "line": line}])
    assert again["changed"] is False


def test_for_each_expands_one_spec_per_item(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    out = module("baseline_state", tmp_path, files=[{
        "for_each": ["a", "b"], "dest": str(tmp_path / "{item}" / "keys"), "content": "k\n",
        "owner": ME, "group": MY_GROUP, "mode": "0600"}])
    assert sorted(f["dest"] for f in out["files"]) == [str(tmp_path / "a" / "keys"),
                                                      str(tmp_path / "b" / "keys")]


def test_an_unknown_owner_fails_on_apply_and_is_a_change_in_check_mode(tmp_path: Path) -> None:
    dest = tmp_path / "authorized_keys"
    bad = {**spec(dest, "k\n"), "owner": "fd-no-such-user"}
    planned = module("baseline_state", tmp_path, check=True, files=[bad])
    assert planned["changed"] is True and not planned.get("failed")
    applied = module("baseline_state", tmp_path, files=[bad])
    assert applied.get("failed") is True and "fd-no-such-user" in applied["msg"]
    assert not dest.exists()


def test_the_probe_reads_the_login_account_and_the_os(tmp_path: Path) -> None:
    out = module("baseline_probe", tmp_path, paths=[str(tmp_path), str(tmp_path / "nope")])
    host = out["baseline_host"]
    assert out["changed"] is False
    assert host["user_id"] == ME and MY_GROUP in host["groups"]
    assert host["exists"] == {str(tmp_path): True, str(tmp_path / "nope"): False}
    assert isinstance(host["may_set_clock"], bool) and host["os_family"]


def test_a_host_is_at_baseline_only_while_nothing_managed_changed(tmp_path: Path) -> None:
    records = tmp_path / "records"
    dest = tmp_path / "baseline.conf"
    role = {"files": [spec(dest, "PasswordAuthentication no\n")], "dirs": [],
            "record": str(records / "ssh.json")}

    def at_baseline(desired: str = "A") -> bool:
        out = module("baseline_probe", tmp_path, records=str(records), desired=desired)
        return out["baseline_host"]["at_baseline"]

    assert not at_baseline()  # never applied: no record, no stamp
    planned = module("baseline_state", tmp_path, check=True, **role)
    assert planned["changed"] and not records.exists()  # check mode records nothing
    module("baseline_state", tmp_path, **role)
    assert json.loads((records / "ssh.json").read_text())["paths"] == [str(dest)]
    assert not at_baseline()  # applied, but not stamped yet
    assert module("baseline_probe", tmp_path, records=str(records), desired="A",
                  stamp=True)["stamped"] is True
    assert at_baseline() and not at_baseline("B")  # new host vars or playbooks: run again
    dest.write_text("PasswordAuthentication yes\n")  # local drift: content
    assert not at_baseline()
    dest.write_text("PasswordAuthentication no\n")
    assert at_baseline()
    dest.chmod(0o644)  # local drift: mode
    assert not at_baseline()
    dest.chmod(0o640)
    dest.unlink()  # local drift: gone
    assert not at_baseline()
