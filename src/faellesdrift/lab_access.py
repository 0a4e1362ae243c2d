"""How runs reach the lab: the one artefact the lab writes for the network and servers adapters.

``<state>/lab/access.json``, rewritten by the lab whenever what it runs changes (and
emptied by ``lab down``); read by the network adapter (where each emulated device is
served, where the device login is kept) and the servers adapter (the ssh_config with
pinned host keys, the operator's public key, which servers exist). It holds no secret:
the device login stays in the lab's own 0600 credentials file, named here by path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from faellesdrift.errors import FaellesdriftError
from faellesdrift.files import write_text_atomic

VERSION = 1
FILE_NAME = "access.json"


class LabAccessError(FaellesdriftError):
    """The lab's access artefact is missing where it is required, or unreadable."""


@dataclass(frozen=True)
class DeviceEndpoint:
    host: str
    port: int


@dataclass(frozen=True)
class LabAccess:
    devices: Mapping[str, DeviceEndpoint] = field(default_factory=lambda: MappingProxyType({}))
    servers: frozenset[str] = frozenset()
    ssh_config: Path | None = None  # every server's (and device's) Host entry, keys pinned
    user: str = "root"  # the account server runs log in with
    operator_key: str = ""  # the public key ("type base64") admin accounts get
    device_credentials: Path | None = None  # the lab's device login (a secret file, 0600)

    @property
    def empty(self) -> bool:
        return not self.devices and not self.servers


def access_file(state_dir: Path) -> Path:
    return state_dir / "lab" / FILE_NAME


def write_lab_access(path: Path, access: LabAccess) -> None:
    """Write the artefact (the lab's ``<lab dir>/access.json``) atomically: readers see the
    old or the new file, never half of one; owner-only."""
    body = {
        "version": VERSION,
        "devices": {n: {"host": e.host, "port": e.port} for n, e in sorted(access.devices.items())},
        "servers": sorted(access.servers),
        "ssh_config": str(access.ssh_config) if access.ssh_config else None,
        "user": access.user,
        "operator_key": access.operator_key,
        "device_credentials": (str(access.device_credentials)
                               if access.device_credentials else None),
    }
    write_text_atomic(path, json.dumps(body, indent=2) + "\n")


def read_lab_access(state_dir: Path) -> LabAccess | None:
    """The lab's access, None when no lab was ever brought up in this state dir.

    A file that exists but cannot be read, or was written by another version, is a
    LabAccessError: never mistaken for "no lab".
    """
    path = access_file(state_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LabAccessError(f"{path}: unreadable ({exc}); run `faellesdrift lab up` to "
                             "rewrite it") from None
    if not isinstance(raw, dict) or raw.get("version") != VERSION:
        found = raw.get("version") if isinstance(raw, dict) else None
        raise LabAccessError(f"{path}: version {found!r} is not {VERSION}; run "
                             "`faellesdrift lab up` with this version to rewrite it")
    try:
        return _parse(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise LabAccessError(f"{path}: malformed ({exc!r}); run `faellesdrift lab up` to "
                             "rewrite it") from None


def require_lab_access(state_dir: Path, what: str) -> LabAccess:
    """The lab's access for a run that needs `what` (e.g. "servers"), or a clear error."""
    access = read_lab_access(state_dir)
    if access is None or access.empty:
        why = "no lab" if access is None else "the lab runs nothing"
        raise LabAccessError(f"{why} in {access_file(state_dir).parent} for {what}: run "
                             "`faellesdrift lab up` first (FAELLESDRIFT_STATE selects "
                             "another state dir)")
    return access


def _parse(raw: dict[str, Any]) -> LabAccess:
    devices = {str(n): DeviceEndpoint(str(e["host"]), int(e["port"]))
               for n, e in raw["devices"].items()}
    return LabAccess(
        devices=MappingProxyType(devices),
        servers=frozenset(str(n) for n in raw["servers"]),
        ssh_config=Path(raw["ssh_config"]) if raw.get("ssh_config") else None,
        user=str(raw.get("user") or "root"),
        operator_key=str(raw.get("operator_key") or ""),
        device_credentials=(Path(raw["device_credentials"])
                            if raw.get("device_credentials") else None),
    )
