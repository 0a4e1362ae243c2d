"""What a worker runs: one shard of a run, through the same adapter code as a local run.

A shard names its tenant, its devices or servers, the day and the adapter
settings; the worker loads the estate from the community repository itself
and calls ``compliance`` or ``remediate`` for exactly those devices, or the
server baseline (``servers plan|apply``: Ansible) for exactly those servers
(each shard saves its tenant's results as a local run does). Two read-only
runs leave the recording to the coordinator, so the merged run is written
once as a local run writes it: a backup shard reads and redacts configs and
sends them home (one commit per run), a verify shard runs testinfra
(``verify``) and sends its checks home (one result.json, one results save).
Before anything, it checks that its copy of the tenant file and of the
community standards is the one the run started from (a hash): a worker on an
outdated checkout fails the shard with that reason instead of checking devices
against other standards.

Remediation never pushes blindly: ``remediate`` reads each device and checks
it before it plans a push, so a shard re-run after a lost worker pushes only
what is still missing, and a device already remediated is "compliant: nothing
to push".
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import time
from datetime import date
from pathlib import Path
from typing import Any

from celery import Celery

from faellesdrift import clock
from faellesdrift.community import STANDARDS_FILE
from faellesdrift.distributed.app import SHARD_TASK
from faellesdrift.distributed.codec import fleet_to_json, verify_to_json
from faellesdrift.errors import FaellesdriftError
from faellesdrift.estate import load_estate
from faellesdrift.network import Filters, NetworkSettings, backup, compliance, remediate
from faellesdrift.network.backup import read as backup_read
from faellesdrift.settings import Settings

OPERATIONS = {"network.backup": backup, "network.compliance": compliance,
              "network.remediate": remediate}
SERVER_OPERATIONS = ("servers.plan", "servers.apply", "servers.verify")
RETRIES = 1  # a shard is tried twice, then reported failed with its reason


class ShardError(FaellesdriftError):
    """A shard that cannot run on this worker (the reason goes into the run's result)."""


def fingerprint(root: Path, tenant: str) -> str:
    """Hash of the community standards and the tenant's file: what the shard is judged by."""
    digest = hashlib.sha256()
    for path in (root / STANDARDS_FILE, root / "tenants" / f"{tenant}.yaml"):
        try:
            digest.update(path.read_bytes())
        except OSError as exc:
            raise ShardError(f"{path}: {exc.strerror}") from None
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def network_settings(settings: Settings, options: dict[str, Any]) -> NetworkSettings:
    opts = dict(options)
    if opts.get("credentials_file"):
        opts["credentials_file"] = Path(opts["credentials_file"])
    for key in ("root", "state_dir", "audit_log"):
        opts.pop(key, None)
    return NetworkSettings.from_settings(settings, **opts)


def run_shard(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one shard; return its result as JSON (codec.fleet_to_json) and where it ran."""
    started = time.time()
    operation = OPERATIONS.get(payload["operation"])
    if operation is None and payload["operation"] not in SERVER_OPERATIONS:
        raise ShardError(f"operation {payload['operation']!r} is not run by workers; "
                         f"known: {', '.join([*OPERATIONS, *SERVER_OPERATIONS])}")
    root, tenant = Path(payload["root"]), payload["tenant"]
    theirs = fingerprint(root, tenant)
    if theirs != payload["fingerprint"]:
        raise ShardError(f"{root}/tenants/{tenant}.yaml or {STANDARDS_FILE} on worker "
                         f"{socket.gethostname()} differs from the run's "
                         f"({theirs} ≠ {payload['fingerprint']}): update the worker's "
                         "community repository, or run again")
    day = date.fromisoformat(payload["today"])
    os.environ[clock.ENV] = day.isoformat()  # one clock: this process runs one shard at a time
    base = Settings.from_env(root)
    settings = Settings(root=root, state_dir=Path(payload["state_dir"]),
                        cache_dir=base.cache_dir)
    estate = load_estate(root, day)
    if payload["operation"] == "servers.verify":
        return {"verify": _verify(payload, settings, estate),
                "worker": f"{socket.gethostname()}:{os.getpid()}", "started": started,
                "finished": time.time()}
    if operation is None:
        return {"run": _servers(payload, settings, estate),
                "worker": f"{socket.gethostname()}:{os.getpid()}", "started": started,
                "finished": time.time()}
    net = network_settings(settings, payload["network"])
    filters = Filters(tenants=(tenant,), hosts=tuple(payload["hosts"]))
    extra = {"apply": bool(payload.get("apply"))} if payload["operation"] == \
        "network.remediate" else {}
    configs: dict[str, str] = {}
    if payload["operation"] == "network.backup":  # the coordinator commits the whole run once
        fleet, configs = backup_read(estate, net, filters)
    else:
        fleet = operation(estate, net, filters, **extra)
    return {"fleet": fleet_to_json(fleet), "configs": configs,
            "worker": f"{socket.gethostname()}:{os.getpid()}", "started": started,
            "finished": time.time()}


def _servers(payload: dict[str, Any], settings: Settings, estate) -> dict[str, Any]:
    """One tenant's servers through the server adapter (Ansible), as ``RunResult.to_dict``."""
    from faellesdrift.servers.access import Access
    from faellesdrift.servers.hostvars import select
    from faellesdrift.servers.runner import run

    access = Access.from_lab(settings)
    selection = select(estate, tenants=(payload["tenant"],), hosts=payload["hosts"],
                       reachable=access.servers, connect_user=access.user)
    mode = payload["operation"].split(".", 1)[1]
    return run(selection, access, settings, mode=mode, forks=payload.get("forks")).to_dict()


def _verify(payload: dict[str, Any], settings: Settings, estate) -> dict[str, Any]:
    """One tenant's servers through testinfra; the coordinator records the merged run."""
    from faellesdrift.servers.access import Access
    from faellesdrift.servers.hostvars import select
    from faellesdrift.servers.verify import check

    access = Access.from_lab(settings)
    selection = select(estate, tenants=(payload["tenant"],), hosts=payload["hosts"],
                       reachable=access.servers, connect_user=access.user)
    directory = Path(payload["directory"]) / payload["tenant"]
    shutil.rmtree(directory, ignore_errors=True)  # a re-run shard starts from nothing
    return verify_to_json(check(selection, access, settings, workers=payload["workers"],
                                run_id=payload["run_id"], directory=directory))


def register(app: Celery) -> None:
    """The shard task on ``app``: late acknowledgement, requeued when its worker dies."""

    @app.task(name=SHARD_TASK, bind=True, acks_late=True, reject_on_worker_lost=True,
              autoretry_for=(Exception,), max_retries=RETRIES, default_retry_delay=1)
    def shard(self, payload: dict[str, Any]) -> dict[str, Any]:
        result = run_shard(payload)
        result["worker"] = self.request.hostname or result["worker"]
        result["attempts"] = self.request.retries + 1
        result["redelivered"] = bool((self.request.delivery_info or {}).get("redelivered"))
        return result
