"""The audit log: one append-only JSON-lines file, one event per applied change or decision.

Network runs, server runs, Pulumi applies and exception decisions all write
here through ``record``; metering and reports read it through ``read``.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faellesdrift import clock


def who() -> str:
    """The person (or CI job) behind a run: $FAELLESDRIFT_ACTOR, else the login name."""
    return os.environ.get("FAELLESDRIFT_ACTOR") or getpass.getuser()


def record(log: Path, *, command: str, tenant: str, target: str, change: Any,
           result: str, **extra: Any) -> dict:
    event = {
        "time": clock.stamp(),
        "who": who(), "command": command, "tenant": tenant, "target": target,
        "change": change, "result": result, **extra,
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(event, ensure_ascii=False, default=str) + "\n"
    # One write() on an O_APPEND descriptor: concurrent writers never interleave a line.
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
    return event


def read(log: Path) -> Iterator[dict]:
    if not log.exists():
        return
    with log.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
