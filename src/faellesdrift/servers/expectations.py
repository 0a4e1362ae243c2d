"""What testinfra checks on each host: the same Baselines the playbooks get, as a JSON file.

tests/infra/ reads this file (``--fd-expect``); each check there is bound to a
control and compares the host against the control's effective value — the
exception's value where one is kept, and the report says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faellesdrift.servers.access import Access
from faellesdrift.servers.hostvars import ADMIN_GROUP, Selection

VERSION = 1


def expectations(selection: Selection, access: Access, *, control_dir: Path | None = None
                 ) -> dict[str, Any]:
    hosts: dict[str, Any] = {}
    for b in selection.targets:
        hosts[b.host] = {
            "tenant": b.tenant,
            "address": b.address,
            "admin_group": ADMIN_GROUP,
            "admin_keys": list(access.operator_keys),
            "controls": {c.control: c.to_dict() for c in b.controls},
        }
    return {"version": VERSION, "ssh_config": str(access.ssh_config), "user": access.user,
            "control_dir": str(control_dir) if control_dir else None, "hosts": hosts}


def write(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") != VERSION:
        raise ValueError(f"{path}: expectations version {data.get('version')} is not {VERSION}")
    return data
