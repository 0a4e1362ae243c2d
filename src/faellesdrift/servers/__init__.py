"""Servers: the baseline playbooks through ansible-runner, verified with testinfra.

One public entry per job; failures are results (per host), never exceptions:

    selection = select(estate, tenants=[...], reachable=access.servers)
    result = run(selection, access, settings, mode="plan" | "apply")   # RunResult
    report = verify(selection, access, settings)                        # VerifyResult
"""

from faellesdrift.servers.access import Access
from faellesdrift.servers.errors import BaselineValueError, ServersError
from faellesdrift.servers.hostvars import CONTROLS, Baseline, Selection, baseline, select
from faellesdrift.servers.results import RunResult, ServerResult
from faellesdrift.servers.runner import run
from faellesdrift.servers.verify import HostVerify, VerifyResult, verify

__all__ = [
    "CONTROLS",
    "Access",
    "Baseline",
    "BaselineValueError",
    "HostVerify",
    "RunResult",
    "Selection",
    "ServerResult",
    "ServersError",
    "VerifyResult",
    "baseline",
    "run",
    "select",
    "verify",
]
