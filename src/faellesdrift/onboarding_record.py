"""The onboarding record: one JSON file per tenant, written by the onboarding flow, read by reports.

It lives in the core so that reports read it like any other result and never import
the flow. The record lists the flow's steps (``plan``) and each step's outcome
(``steps``); ``version`` says which shape it has.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faellesdrift import clock
from faellesdrift.errors import ConfigError
from faellesdrift.files import write_json_atomic
from faellesdrift.model import NAME
from faellesdrift.settings import Settings

VERSION = 1


def check_slug(tenant: str) -> str:
    if not NAME.match(tenant):
        raise ConfigError(f"{tenant!r} is not a tenant slug (e.g. 'odder'); see the slug: "
                          "field of the tenant file")
    return tenant


def record_path(settings: Settings, tenant: str) -> Path:
    return settings.state_dir / "onboarding" / f"{check_slug(tenant)}.json"


def load_record(settings: Settings, tenant: str) -> dict[str, Any] | None:
    """The tenant's record, None when it never onboarded; an unreadable record says so."""
    try:
        data = json.loads(record_path(settings, tenant).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        return {"tenant": tenant, "steps": {}, "plan": [],
                "error": f"the onboarding record cannot be read ({exc.__class__.__name__})"}
    return data if isinstance(data, dict) else None


def save_record(settings: Settings, tenant: str, record: dict[str, Any]) -> None:
    """Write the record atomically (a reader never sees half a file)."""
    path = record_path(settings, tenant)
    record["version"] = VERSION
    record["updated_at"] = clock.stamp()
    write_json_atomic(path, record)


def status(settings: Settings, tenant: str) -> list[dict[str, Any]]:
    """Every step of the recorded flow with its outcome: id, title, phase, status, finished,
    message. Empty when the tenant has not started onboarding."""
    record = load_record(settings, tenant) or {}
    done = record.get("steps") or {}
    out = []
    for s in record.get("plan") or []:
        if not isinstance(s, dict) or "id" not in s:
            continue
        r = done.get(s["id"]) or {}
        out.append({"id": s["id"], "title": s.get("title", ""), "phase": s.get("phase", ""),
                    "status": r.get("status", "not run"), "finished": r.get("finished"),
                    "message": r.get("message", "")})
    return out
