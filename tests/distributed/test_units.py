"""Pure logic of distributed runs: shards, caps, canary waves, the result codec, settings."""

from __future__ import annotations

import pytest

from faellesdrift import executors
from faellesdrift.distributed.app import broker_url, make_app, shown
from faellesdrift.distributed.codec import fleet_from_json, fleet_to_json
from faellesdrift.distributed.shards import Caps, Gate, plan
from faellesdrift.distributed.tasks import ShardError, fingerprint, run_shard
from faellesdrift.errors import ConfigError
from faellesdrift.estate import Estate
from faellesdrift.network import ControlResult, DeviceResult, FleetResult, Status
from tests.conftest import REPO


def test_shards_are_tenants_largest_first(estate: Estate) -> None:
    hosts = estate.hosts(kind="network_device")
    shards = plan(hosts, 20, Caps())
    assert sorted(s.name for s in shards) == sorted(estate.slugs)
    assert [len(s.hosts) for s in shards] == sorted((len(s.hosts) for s in shards), reverse=True)
    assert sum(len(s.hosts) for s in shards) == len(hosts)
    assert all(s.workers == min(20, len(s.hosts)) for s in shards)


def test_a_site_cap_shards_by_site_and_limits_each_shard(estate: Estate) -> None:
    hosts = [h for h in estate.hosts(kind="network_device") if h.tenant == "odder"]
    shards = plan(hosts, 20, Caps(per_site=1))
    assert {s.name for s in shards} == {"odder/raadhuset", "odder/borgerservice",
                                        "odder/materielgaarden", "odder/skolen_nord",
                                        "odder/plejecenter_syd"}
    assert all(s.workers == 1 for s in shards)


def test_the_gate_keeps_platform_sessions_under_the_cap(estate: Estate) -> None:
    hosts = [h for h in estate.hosts(kind="network_device") if h.tenant in ("odder", "samsoe")]
    caps = Caps(per_platform={"cisco_ios": 2})
    odder, samsoe = sorted(plan(hosts, 20, caps), key=lambda s: s.name)
    assert odder.workers == 2  # never more sessions than the smallest cap of its platforms
    gate = Gate(caps)
    assert gate.fits(odder)
    gate.start(odder)
    assert not gate.fits(samsoe)  # its 2 IOS sessions would make 4
    gate.finish(odder)
    assert gate.fits(samsoe)


def test_caps_from_the_environment() -> None:
    caps = Caps.from_env({"FAELLESDRIFT_MAX_PER_SITE": "4",
                          "FAELLESDRIFT_MAX_PER_PLATFORM": "juniper_junos=2, 10"})
    assert caps.per_site == 4 and caps.platform("juniper_junos") == 2
    assert caps.platform("cisco_ios") == 10
    assert Caps.from_env({}) == Caps()
    with pytest.raises(ConfigError, match="FAELLESDRIFT_MAX_PER_PLATFORM cisco_ios"):
        Caps.from_env({"FAELLESDRIFT_MAX_PER_PLATFORM": "cisco_ios=lots"})
    with pytest.raises(ConfigError, match="FAELLESDRIFT_MAX_PER_SITE"):
        Caps.from_env({"FAELLESDRIFT_MAX_PER_SITE": "0"})


def test_canary_waves() -> None:
    names = ["a", "b", "c", "d"]
    assert executors.waves(names, 0) == (("a", "b", "c", "d"), ())
    assert executors.waves(names, 1) == (("a",), ("b", "c", "d"))
    assert executors.waves(names, 9) == (("a", "b", "c", "d"), ())
    calls: list[tuple[str, ...] | None] = []

    def run(hosts):
        calls.append(hosts)
        return {"hosts": list(hosts or names), "failed": "a" in (hosts or ())}

    def merge(x, y):
        return {"hosts": x["hosts"] + y["hosts"], "failed": x["failed"] or y["failed"]}

    result, untouched = executors.in_waves(names, 1, run, lambda r: r["failed"], merge)
    assert calls == [("a",)] and untouched == ("b", "c", "d") and result["hosts"] == ["a"]
    calls.clear()
    result, untouched = executors.in_waves(names, 2, run, lambda r: False, merge)
    assert calls == [("a", "b"), ("c", "d")] and not untouched
    calls.clear()
    executors.in_waves(names, 0, run, lambda r: False, merge)
    assert calls == [None]  # no canary: one run over the command's own selection
    with pytest.raises(ConfigError):
        executors.waves(names, -1)


def test_executors_by_name() -> None:
    assert executors.names()[:1] == ["local"] and "celery" in executors.names()
    with pytest.raises(ConfigError, match="use one of: local, celery"):
        executors.check_name("dask")


def test_the_codec_loses_nothing() -> None:
    host = DeviceResult("odd-core01", "odder", "cisco_ios", Status.CHANGED, "remediated",
                      (ControlResult("net.ntp.servers", "ODD-EX-001", ("ntp server 10.0.0.1",),
                                     ("ntp server 10.9.9.9",), "active", "a note"),),
                      ("ntp server 10.0.0.1",), ("ODD-EX-001",), {"diff": ["+x"]}, 1.23456)
    fleet = FleetResult("network remediate --apply", (host,), target="lab",
                        details={"apply": True})
    back = fleet_from_json(fleet_to_json(fleet))
    assert back == fleet


def test_broker_url_is_required_and_its_password_never_shown(monkeypatch) -> None:
    monkeypatch.delenv("FAELLESDRIFT_BROKER_URL", raising=False)
    with pytest.raises(ConfigError, match="FAELLESDRIFT_BROKER_URL is not set"):
        broker_url()
    with pytest.raises(ConfigError, match="use a Redis URL"):
        broker_url("amqp://guest:pw@host//")
    assert shown("redis://user:s3cret@host:6379/0") == "redis://user:***@host:6379/0"
    conf = make_app("redis://127.0.0.1:1/0").conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1 and conf.accept_content == ["json"]


def test_a_worker_refuses_a_shard_of_another_checkout(community_copy) -> None:
    payload = {"operation": "network.compliance", "root": str(community_copy),
               "tenant": "odder", "fingerprint": fingerprint(community_copy, "odder")}
    (community_copy / "tenants" / "odder.yaml").write_text(
        (community_copy / "tenants" / "odder.yaml").read_text() + "# changed\n")
    with pytest.raises(ShardError, match=r"tenants/odder.yaml .* differs from the run's"):
        run_shard(payload)
    with pytest.raises(ShardError, match="not run by workers"):
        run_shard({**payload, "operation": "network.intended"})
    assert fingerprint(REPO, "odder") != fingerprint(REPO, "samsoe")


def test_the_verify_codec_loses_nothing() -> None:
    from faellesdrift.distributed.codec import verify_from_json, verify_to_json
    from faellesdrift.servers.verify import CheckResult, HostVerify, KeptValue, VerifyResult

    host = HostVerify("odd-file01", "odder", [
        CheckResult("odd-file01", "srv.banner.motd", "test_banner", "failed", "standard",
                    "/etc/motd does not hold the banner"),
        CheckResult("odd-file01", "srv.ntp.servers", "test_ntp", "passed", "ODD-EX-002")],
        [KeptValue("srv.ntp.servers", "ODD-EX-002", ["10.0.0.1"], "2027-01-01", True)])
    result = VerifyResult("20261127-verify-1", {"odd-file01": host}, {"odd-win01": "windows"},
                          12.3456, ["shard 0: boom"], "/state/servers/verify/x")
    back = verify_from_json(verify_to_json(result))
    assert back == result and back.to_dict() == result.to_dict()


def test_canary_waves_of_server_runs_merge_into_one_result() -> None:
    from faellesdrift.servers.results import RunResult, ServerResult
    from faellesdrift.servers.verify import HostVerify, VerifyResult

    first = RunResult("apply", "r1", {"a": ServerResult("a", "t", ok=3)}, {"w": "windows"},
                      0, "successful", "", 1.0, "/runs/r1", {"ntp : x": 1.0})
    rest = RunResult("apply", "r2", {"b": ServerResult("b", "t", failed=1)}, {}, 2, "failed",
                     "", 2.0, "/runs/r2", {"ntp : x": 0.5, "ssh : y": 1.0})
    both = first.merge(rest)
    assert list(both.hosts) == ["a", "b"] and both.left_out == {"w": "windows"}
    assert both.rc == 2 and both.status == "failed,successful" and not both.ok
    assert both.elapsed == 3.0
    assert both.task_seconds == {"ntp : x": 1.5, "ssh : y": 1.0}
    assert both.run_id == "r1, r2"
    v = VerifyResult("v1", {"a": HostVerify("a", "t")}, directory="/d1").merge(
        VerifyResult("v2", {"b": HostVerify("b", "t")}, errors=["x"], directory="/d2"))
    assert list(v.hosts) == ["a", "b"] and v.errors == ["x"] and v.directory == "/d1, /d2"
