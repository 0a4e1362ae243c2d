"""Host vars come from the estate's effective values: standard, exception-kept, never a lock-out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from faellesdrift.community import load_community
from faellesdrift.errors import ConfigError, ValidationFailed
from faellesdrift.estate import Estate, load_estate
from faellesdrift.servers.errors import BaselineValueError
from faellesdrift.servers.hostvars import (
    ADMIN_GROUP,
    CONTROL_IDS,
    CONTROLS,
    baseline,
    inventory,
    select,
)
from tests.conftest import TODAY, day_after_expiry, expiry_of

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeOperatorKeyForTests operator"


@pytest.fixture(scope="module")
def estate() -> Estate:
    return load_estate(Path(__file__).resolve().parents[2], TODAY)


def _add_exception(root: Path, tenant: str, **record) -> None:
    path = root / "tenants" / f"{tenant}.yaml"
    data = yaml.safe_load(path.read_text())
    data.setdefault("exceptions", []).append({
        "category": "waiver", "justification": "test", "risk_owner": "test owner",
        "approved_by": "security board", "approved_on": date(2026, 10, 1),
        "expires": date(2027, 3, 1), **record})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def test_every_server_control_of_the_catalog_is_applied(estate: Estate) -> None:
    server_controls = {c.id for c in estate.standards.controls if c.layer == "server"}
    assert set(CONTROL_IDS) == server_controls
    assert len({c.var for c in CONTROLS}) == len(CONTROLS)


def test_a_standard_host_gets_the_community_defaults(estate: Estate) -> None:
    b = baseline(estate, "aar-file01")
    assert b.tenant == "aarhus" and b.address == "10.51.10.11"
    assert b.exceptions == ()
    for c in CONTROLS:
        assert b.get(c.control).source == "standard"
    hv = b.host_vars([KEY])
    assert hv["fd_ntp_servers"] == ["10.250.0.123", "10.250.0.124"]
    assert hv["fd_syslog_siem"] == {"host": "10.250.0.14", "port": 514, "protocol": "udp"}
    assert hv["fd_ssh_password_auth"] is False
    assert hv["fd_ssh_permit_root_login"] == "prohibit-password"
    assert hv["fd_ssh_allow_groups"] == ["fd-operators", "root"]
    assert hv["fd_admin_accounts"] == ["fd-ops"]
    assert hv["fd_admin_group"] == ADMIN_GROUP
    assert hv["fd_admin_keys"] == [KEY]
    assert hv["fd_monitoring_agent"] == {"server": "10.250.0.20", "port": 10051}
    assert hv["fd_banner_motd"] == "Authorised access only - Faellesdrift Midt"
    assert set(hv["fd_sources"].values()) == {"standard"}


def test_a_host_with_an_exception_keeps_the_exceptions_value(estate: Estate) -> None:
    b = baseline(estate, "aar-citr08")
    kept = b.get("srv.ssh.password_auth")
    assert (kept.value, kept.source, kept.expires) == (True, "AAR-EX-002", expiry_of("AAR-EX-002"))
    assert b.exceptions == (kept,)
    hv = b.host_vars([KEY])
    assert hv["fd_ssh_password_auth"] is True
    assert hv["fd_sources"]["srv.ssh.password_auth"] == "AAR-EX-002"
    # the other controls on the same host stay standard
    assert hv["fd_ssh_allow_groups"] == ["fd-operators", "root"]
    assert hv["fd_sources"]["srv.ntp.servers"] == "standard"


def test_an_expired_exception_no_longer_keeps_its_value(sample_root: Path) -> None:
    community, _ = load_community(sample_root)
    assert community is not None
    estate = Estate.build(community, day_after_expiry("AAR-EX-002"))
    kept = baseline(estate, "aar-citr08").get("srv.ssh.password_auth")
    assert (kept.value, kept.source) == (False, "standard")


def test_an_exception_that_would_lock_out_the_operator_is_refused(community_copy: Path) -> None:
    _add_exception(community_copy, "aarhus", id="AAR-EX-090", control="srv.ssh.allow_groups",
                   hosts=["aar-file01"], value=["root", "legacy"])
    estate = load_estate(community_copy, TODAY)
    with pytest.raises(BaselineValueError) as err:
        baseline(estate, "aar-file01")
    msg = str(err.value)
    assert "tenants/aarhus.yaml exception AAR-EX-090" in msg and ADMIN_GROUP in msg


def test_the_run_account_must_stay_able_to_log_in(community_copy: Path) -> None:
    _add_exception(community_copy, "aarhus", id="AAR-EX-091", control="srv.ssh.allow_groups",
                   hosts=["aar-file01"], value=["fd-operators", "legacy"])
    estate = load_estate(community_copy, TODAY)
    with pytest.raises(BaselineValueError, match="leaves out root"):
        baseline(estate, "aar-file01")  # the runs log in as root
    b = baseline(estate, "aar-file01", connect_user="fd-ops")  # ... but fd-ops is fine
    assert b.get("srv.ssh.allow_groups").source == "AAR-EX-091"
    with pytest.raises(BaselineValueError, match="could be locked out"):
        baseline(estate, "aar-app03", connect_user="someone")


def _unguarded(root: Path, expected: str) -> Estate:
    """validate refuses the value (naming the type); the adapter must refuse it on its own too."""
    with pytest.raises(ValidationFailed, match=f"exception.value-type: .*{expected}"):
        load_estate(root, TODAY)
    community, _ = load_community(root)
    assert community is not None
    return Estate.build(community, TODAY)


def test_a_value_of_the_wrong_shape_names_file_control_and_host(community_copy: Path) -> None:
    _add_exception(community_copy, "aarhus", id="AAR-EX-092", control="srv.ssh.password_auth",
                   hosts=["aar-app03"], value="yes")
    estate = _unguarded(community_copy, "true or false")
    with pytest.raises(BaselineValueError) as err:
        baseline(estate, "aar-app03")
    assert str(err.value) == ("tenants/aarhus.yaml exception AAR-EX-092: srv.ssh.password_auth "
                              "for aar-app03: expected true or false, got 'yes'")


def test_ntp_exception_values_are_checked(community_copy: Path) -> None:
    _add_exception(community_copy, "aarhus", id="AAR-EX-093", control="srv.ntp.servers",
                   hosts=["aar-app03"], value=["10.51.0.123", "ntp bad"])
    estate = _unguarded(community_copy, "IPv4 addresses")
    with pytest.raises(BaselineValueError, match="'ntp bad'"):
        baseline(estate, "aar-app03")


def test_selection_keeps_to_reachable_servers_and_says_why(estate: Estate) -> None:
    s = select(estate, tenants=["aarhus"], reachable={"aar-file01", "aar-citr08", "odd-x"})
    assert s.names == ("aar-citr08", "aar-file01")
    assert s.tenants == ("aarhus",)
    assert s.left_out["aar-app03"] == "not in the lab"
    # a Windows server is inventory: left out with the reason, wherever it is
    assert s.left_out["aar-dc02"] == "windows2019: not covered by the Linux baseline " \
        "(inventory only)"
    assert not any(h.startswith("odd-") for h in s.left_out)  # other tenants are not asked
    everything = select(estate)
    linux = [h for h in estate.hosts(kind="server") if h.spec.os.startswith("debian")]
    assert len(everything.targets) == len(linux)
    assert len(everything.left_out) == len(estate.hosts(kind="server")) - len(linux) > 0
    named = select(estate, hosts=["aar-dc02"], reachable={"aar-file01"})
    assert not named.targets and "not covered by the Linux baseline" in named.left_out["aar-dc02"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"hosts": ["aar-core01"]}, "is a network device, not a server"),
    ({"hosts": ["aar-app03"], "reachable": {"aar-file01"}}, "not in the lab"),
    ({"hosts": ["aar-app03"], "tenants": ["odder"]}, "belongs to tenant aarhus"),
    ({"hosts": ["nope01"]}, "no host 'nope01'"),
    ({"tenants": ["atlantis"]}, "no tenant 'atlantis'"),
])
def test_selection_errors_are_one_line(estate: Estate, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        select(estate, **kwargs)


def test_inventory_groups_servers_by_tenant(estate: Estate) -> None:
    s = select(estate, hosts=["aar-citr08", "odd-file01"])
    inv = inventory(s, [KEY], {"ansible_user": "root"})
    groups = inv["all"]["children"]
    assert set(groups) == {"tenant_aarhus", "tenant_odder"}
    citr = groups["tenant_aarhus"]["hosts"]["aar-citr08"]
    assert citr["fd_ssh_password_auth"] is True and citr["ansible_user"] == "root"
    assert groups["tenant_odder"]["hosts"]["odd-file01"]["fd_ssh_password_auth"] is False


def test_no_operator_key_means_no_run(estate: Estate) -> None:
    s = select(estate, hosts=["aar-file01"])
    with pytest.raises(ConfigError, match="would lock the operator out"):
        inventory(s, [" "])


def test_a_host_with_unsafe_values_is_refused_while_the_others_go_on(
        community_copy: Path) -> None:
    _add_exception(community_copy, "aarhus", id="AAR-EX-094", control="srv.ssh.allow_groups",
                   hosts=["aar-app03"], value=["root"])
    estate = load_estate(community_copy, TODAY)
    s = select(estate, hosts=["aar-file01", "aar-app03"])
    assert s.names == ("aar-file01",)
    (refused,) = s.refused
    assert (refused.host, refused.tenant) == ("aar-app03", "aarhus")
    assert "AAR-EX-094" in refused.reason and "fd-operators" in refused.reason
    assert s.tenants == ("aarhus",)
