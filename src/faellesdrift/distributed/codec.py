"""A shard's result as JSON and back, without loss (what a worker sends home).

Network runs (``FleetResult``) and server verifications (``VerifyResult``;
server plans and applies travel as ``RunResult.to_dict``). The JSON the CLI
prints (``FleetResult.to_dict``) is for people and scripts: it redacts and rounds. Between a worker and the coordinator every field travels
as it is, so the merged result is the one a local run would have produced.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from faellesdrift.network.results import ControlResult, DeviceResult, FleetResult, Status
from faellesdrift.servers.verify import CheckResult, HostVerify, KeptValue, VerifyResult


def _control(c: ControlResult) -> dict[str, Any]:
    return {f.name: getattr(c, f.name) for f in fields(ControlResult)}


def host_to_json(h: DeviceResult) -> dict[str, Any]:
    out = {f.name: getattr(h, f.name) for f in fields(DeviceResult)}
    out["status"] = h.status.value
    out["controls"] = [_control(c) for c in h.controls]
    return out


def host_from_json(d: dict[str, Any]) -> DeviceResult:
    controls = tuple(ControlResult(**{**c, "missing": tuple(c["missing"]),
                                      "extra": tuple(c["extra"])}) for c in d["controls"])
    return DeviceResult(d["host"], d["tenant"], d["platform"], Status(d["status"]), d["reason"],
                      controls, tuple(d["pushed"]), tuple(d["exceptions"]), d["details"],
                      d["seconds"])


def fleet_to_json(f: FleetResult) -> dict[str, Any]:
    return {"command": f.command, "hosts": [host_to_json(h) for h in f.hosts],
            "started": f.started.isoformat(),
            "finished": f.finished.isoformat() if f.finished else None,
            "target": f.target, "details": f.details}


def fleet_from_json(d: dict[str, Any]) -> FleetResult:
    return FleetResult(d["command"], tuple(host_from_json(h) for h in d["hosts"]),
                       datetime.fromisoformat(d["started"]),
                       datetime.fromisoformat(d["finished"]) if d["finished"] else None,
                       d["target"], d["details"])


def verify_to_json(r: VerifyResult) -> dict[str, Any]:
    return {"run_id": r.run_id, "elapsed": r.elapsed, "errors": list(r.errors),
            "directory": r.directory, "left_out": dict(r.left_out),
            "hosts": [{"host": h.host, "tenant": h.tenant,
                       "checks": [{f.name: getattr(c, f.name) for f in fields(CheckResult)}
                                  for c in h.checks],
                       "kept": [{f.name: getattr(k, f.name) for f in fields(KeptValue)}
                                for k in h.kept]} for h in r.hosts.values()]}


def verify_from_json(d: dict[str, Any]) -> VerifyResult:
    hosts = {h["host"]: HostVerify(h["host"], h["tenant"],
                                   [CheckResult(**c) for c in h["checks"]],
                                   [KeptValue(**k) for k in h["kept"]]) for h in d["hosts"]}
    return VerifyResult(d["run_id"], hosts, dict(d["left_out"]), d["elapsed"],
                        list(d["errors"]), d["directory"])
