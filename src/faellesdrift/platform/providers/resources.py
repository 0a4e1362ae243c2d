"""The platform's resource types: Pulumi dynamic resources, one class per kind.

Type tokens are ``pulumi-python:dynamic/faellesdrift:<Kind>``; the policy pack
selects resources by them (``TYPES``). Every resource's inputs carry
``tenant``, ``name`` and ``tags``; the outputs add ``status``.
"""

from __future__ import annotations

import pickle
import threading
from typing import Any

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

MODULE = "faellesdrift"
TYPE_PREFIX = f"pulumi-python:dynamic/{MODULE}:"
_SERIALISING = threading.Lock()


class _Base(Resource):
    status: pulumi.Output[Any]

    def __init__(self, name: str, provider: ResourceProvider, props: dict[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        # The SDK serialises the provider here, patching pickle to sort dictionaries: it
        # wraps pickle's dict writer anew on every call and never unwraps it, and threads
        # racing on the patch may pickle unsorted. In a process that runs many programs
        # (inline, side by side) the wrappers pile up until pickling overflows the stack.
        # So one at a time, with pickle put back as it was after each.
        with _SERIALISING:
            saved = (pickle.Pickler, pickle._Pickler._batch_setitems,  # type: ignore[attr-defined]
                     pickle._Pickler.save_dict)  # type: ignore[attr-defined]
            try:
                super().__init__(provider, name, {**props, "status": None}, opts)
            finally:
                (pickle.Pickler, pickle._Pickler._batch_setitems,  # type: ignore[attr-defined]
                 pickle._Pickler.save_dict) = saved  # type: ignore[attr-defined,misc]


class NetworkSegment(_Base, module=MODULE, name="NetworkSegment"):
    """One tenant network (VLAN + prefix)."""


class ServerPlacement(_Base, module=MODULE, name="ServerPlacement"):
    """A server placed in the shared compute, counted against the tenant's quota."""


class DeviceRegistration(_Base, module=MODULE, name="DeviceRegistration"):
    """A network device the shared company runs."""


class AccessPolicy(_Base, module=MODULE, name="AccessPolicy"):
    """Shared-service access for one tenant: deny other tenants unless an exception allows."""


class BackupEnrolment(_Base, module=MODULE, name="BackupEnrolment"):
    """A tenant's servers enrolled in the shared backup (one resource per tenant)."""


class MonitoringEnrolment(_Base, module=MODULE, name="MonitoringEnrolment"):
    """A tenant's hosts enrolled in the shared monitoring (one resource per tenant)."""


class SharedSegment(_Base, module=MODULE, name="SharedSegment"):
    """The community's shared-services segment (NTP, DNS, SIEM, monitoring, backup)."""


TYPES: dict[str, str] = {cls.__name__: TYPE_PREFIX + cls.__name__ for cls in (
    NetworkSegment, ServerPlacement, DeviceRegistration, AccessPolicy, BackupEnrolment,
    MonitoringEnrolment, SharedSegment)}
