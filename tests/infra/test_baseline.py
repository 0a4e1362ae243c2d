"""testinfra checks of the server baseline, one or more per control.

Every check compares the host with the control's *effective* value for that
host (``case.value``): the standard, or the value an active exception keeps
(``case.source`` is then the exception id, and the test id says so). Run by
`faellesdrift verify`, or directly: `pytest tests/infra` against the lab.
"""

from __future__ import annotations

import re

import pytest

ROOT_LOGIN_ALIASES = {"without-password": "prohibit-password"}


def control(control_id: str):
    """Bind a check to the control it verifies (conftest parametrizes it per host)."""

    def mark(fn):
        fn.fd_control = control_id
        return fn

    return mark


def _where(case) -> str:
    if case.kept_by_exception:
        return f"{case.host} ({case.control} kept by exception {case.source})"
    return f"{case.host} ({case.control})"


# ------------------------------------------------------------------ time


@control("srv.ntp.servers")
def test_chrony_uses_only_the_ntp_servers(case, target):
    conf = target.file("/etc/chrony/chrony.conf")
    assert conf.exists, f"{_where(case)}: /etc/chrony/chrony.conf is missing"
    sources = [line.split()[:2] for line in conf.content_string.splitlines()
               if re.match(r"^\s*(server|pool|peer|sourcedir|confdir)\b", line)]
    assert sources == [["server", s] for s in case.value], (
        f"{_where(case)}: chrony sources {sources}, expected servers {case.value}")


CAP_SYS_TIME = 25


@control("srv.ntp.servers")
def test_chrony_runs_where_the_host_may_set_the_clock(case, target):
    svc = target.service("chrony")
    assert svc.is_enabled, f"{_where(case)}: chrony is not enabled"
    bounding = int(target.check_output("grep -m1 '^CapBnd:' /proc/self/status").split()[1], 16)
    if bounding >> CAP_SYS_TIME & 1:  # a container without CAP_SYS_TIME cannot run chronyd
        assert svc.is_running, f"{_where(case)}: chrony is not running"


# ------------------------------------------------------------------ logging


@control("srv.syslog.siem")
def test_rsyslog_forwards_everything_to_the_siem(case, target):
    siem = case.value
    out = target.run("cat /etc/rsyslog.conf /etc/rsyslog.d/*.conf 2>/dev/null").stdout
    actions = [line for line in out.splitlines()
               if line.lstrip().startswith("*.*") and 'type="omfwd"' in line]
    want = (f'target="{siem["host"]}" port="{siem["port"]}" '
            f'protocol="{siem.get("protocol", "udp")}"')
    assert any(want in a for a in actions), (
        f"{_where(case)}: no '*.* omfwd {want}' in rsyslog's configuration; found {actions}")


@control("srv.syslog.siem")
def test_rsyslog_runs(case, target):
    svc = target.service("rsyslog")
    assert svc.is_running and svc.is_enabled, f"{_where(case)}: rsyslog is not running+enabled"


# ------------------------------------------------------------------ ssh


@control("srv.ssh.password_auth")
def test_sshd_password_authentication(case, sshd_config):
    want = "yes" if case.value else "no"
    assert sshd_config.get("passwordauthentication") == [want], (
        f"{_where(case)}: sshd -T passwordauthentication "
        f"{sshd_config.get('passwordauthentication')}, expected {want}")


@control("srv.ssh.password_auth")
def test_sshd_offers_password_login_only_where_kept(case, offered_methods):
    offered = "password" in offered_methods
    assert offered == case.value, (
        f"{_where(case)}: sshd offers {','.join(offered_methods)}; password login should be "
        f"{'offered' if case.value else 'refused'}")


@control("srv.ssh.permit_root_login")
def test_sshd_root_login(case, sshd_config):
    got = [ROOT_LOGIN_ALIASES.get(v, v) for v in sshd_config.get("permitrootlogin", [])]
    assert got == [case.value], f"{_where(case)}: sshd -T permitrootlogin {got}"


@control("srv.ssh.allow_groups")
def test_sshd_allow_groups(case, sshd_config):
    got = sorted(g for line in sshd_config.get("allowgroups", []) for g in line.split())
    assert got == sorted(case.value), f"{_where(case)}: sshd -T allowgroups {got}"


@control("srv.ssh.allow_groups")
def test_sshd_runs(case, target):
    svc = target.service("ssh")
    assert svc.is_running and svc.is_enabled, f"{_where(case)}: sshd is not running+enabled"


# ------------------------------------------------------------------ admin accounts


@control("srv.admin.accounts")
def test_admin_accounts_exist_with_only_the_operator_keys(case, target):
    group = case.spec["admin_group"]
    for name in case.value:
        user = target.user(name)
        assert user.exists, f"{_where(case)}: account {name} is missing"
        assert group in user.groups, f"{_where(case)}: {name} is not in {group}"
        shadow = target.check_output("getent shadow %s", name).split(":")[1]
        assert shadow.startswith(("!", "*")), f"{_where(case)}: {name} has a usable password"
        keys = target.file(f"{user.home}/.ssh/authorized_keys")
        assert keys.exists and keys.user == name and keys.mode == 0o600, (
            f"{_where(case)}: {keys.path} missing or not {name}'s with mode 0600")
        got = sorted(" ".join(k.split()[:2]) for k in keys.content_string.splitlines()
                     if k.strip())
        assert got == sorted(case.spec["admin_keys"]), (
            f"{_where(case)}: {name}'s authorized_keys hold other keys than the operator's")


@control("srv.admin.accounts")
def test_admin_accounts_log_in_with_the_key_and_use_sudo(case, target, login_as):
    for name in case.value:
        host = login_as(name, case.host)
        try:
            who = host.check_output("id -un")
        except RuntimeError as exc:
            pytest.fail(f"{_where(case)}: {name} cannot log in with the operator key: "
                        f"{getattr(exc.args[0], 'stderr', exc)}", pytrace=False)
        assert who == name
        sudo = host.run("sudo -n true")
        assert sudo.rc == 0, f"{_where(case)}: {name} cannot sudo: {sudo.stderr.strip()}"


# ------------------------------------------------------------------ monitoring


@control("srv.monitoring.agent")
def test_monitoring_agent_points_at_the_server(case, target):
    conf = target.file("/etc/zabbix/zabbix_agent2.d/faellesdrift.conf")
    assert conf.exists, f"{_where(case)}: the agent's configuration is missing"
    lines = set(conf.content_string.splitlines())
    m = case.value
    for want in (f"Server={m['server']}", f"ServerActive={m['server']}:{m['port']}",
                 f"Hostname={case.host}"):
        assert want in lines, f"{_where(case)}: {conf.path} lacks {want!r}"


# ------------------------------------------------------------------ banner


@control("srv.banner.motd")
def test_banner_before_and_after_login(case, target, sshd_config):
    for path in ("/etc/motd", "/etc/issue.net"):
        f = target.file(path)
        assert f.exists and f.content_string == case.value + "\n", (
            f"{_where(case)}: {path} does not hold the banner {case.value!r}")
    assert sshd_config.get("banner") == ["/etc/issue.net"], (
        f"{_where(case)}: sshd -T banner {sshd_config.get('banner')}")
