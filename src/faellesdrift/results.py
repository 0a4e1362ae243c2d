"""Run results: the contract between the adapters that run things and the reports that read them.

Adapters never import each other. A run writes what it found here, and reports
(and the onboarding flow) read it back. One JSON file per *kind* of result::

    <state>/results/<kind>.json

``save(settings, kind, payload)`` merges **per tenant**: a run scoped to some
tenants (a shard) replaces only those tenants' entries and keeps every other
tenant's entry from earlier runs, so shards' results combine into one file.
Writes are atomic (a temporary file in the same directory, then ``rename``)
and serialised by an advisory lock, so a reader never sees half a file and two
shards saving at once both land. ``load(settings, kind)`` returns the merged
payload, or ``None`` when no run of that kind has saved anything yet.

Every file has the same envelope::

    {
      "kind": "network.compliance",          # the file's kind (set by save)
      "schema": 1,                           # envelope version (set by save)
      "generated_at": "2026-11-27T10:00:00+00:00",   # the latest save (set by save)
      "community": {...},                    # optional; community-wide data, merged by key
      "tenants": {                           # tenant slug -> that tenant's latest entry
        "aarhus": {
          "generated_at": "...",             # when this entry was produced (save sets it
                                             #   to the save time when the payload has none)
          ...                                # the kind's fields, below
        }
      }
    }

A tenant's entry is replaced whole by the next save that names the tenant:
it is always the complete result of that tenant's latest run, never a mix of
two runs. ``community`` keys given in a payload replace the same keys; keys
not given are kept. All times are ISO 8601 with a timezone (UTC preferred).
Secrets never go into results (they are read by the report site).

Per-host rows share one shape across kinds, so the reports read every layer
the same way::

    {"host": "aar-core01",
     "status": "ok" | "changed" | "failed" | "unreachable" | "not run",
     "reason": "why it failed, or a short note",           # "" when nothing to say
     "compliant": true | false | null,      # null: not read and checked in this run
     "exceptions": ["AAR-EX-001"],          # exceptions that keep local values here
     "controls": [                          # one row per control checked on this host
       {"control": "net.ntp.servers", "compliant": true,
        "source": "standard" | "<exception id>",
        "exception_status": null | "active" | "expiring",
        "missing": ["ntp server 10.250.0.123"],   # optional: what should be there
        "extra": [],                              # optional: what should not be there
        "note": ""}                               # optional
     ]}

The kinds (``KINDS``), who writes them and each tenant entry's fields:

``network.compliance`` — ``faellesdrift network compliance [--tenant X]``
    ``{"generated_at", "ok": bool, "hosts": [host row, ...]}``: one row per
    network device of the tenant that the run selected (``FleetResult``'s
    ``DeviceResult.to_dict()`` rows grouped by tenant fit as they are).

``network.backup`` — ``faellesdrift network backup [--tenant X]``
    ``{"generated_at", "ok": bool, "commit": "<backup repository commit>" | null,
    "hosts": [{"host", "tenant", "platform", "status", "reason", "backed_up": bool,
    "last_success": "2026-11-30T02:00:00+00:00" | null}]}``: ``last_success`` is this
    run's time for a device backed up now, else the one the previous results held.

``servers.verify`` — ``faellesdrift verify [--tenant X]`` (testinfra)
    ``{"generated_at", "ok": bool, "hosts": [host row, ...]}``: one row per
    server; ``controls`` holds one row per control verified on the host.

``servers.apply`` — ``faellesdrift servers apply [--tenant X]``
    ``{"generated_at", "ok": bool, "mode": "plan" | "apply",
    "hosts": [host row + {"changed": int, "changes": [{"task", "role", "action",
    "path", "controls": [...], "diff"}]}]}``. ``servers plan`` may save the
    same shape under ``servers.plan``.

``pulumi.outputs`` — ``faellesdrift pulumi apply`` (and ``pulumi plan`` as ``pulumi.preview``)
    ``{"generated_at", "ok": bool, "stack": "midt-dev", "resources": int,
    "changes": {"create": int, "update": int, "delete": int, "same": int},
    "violations": [...], "exempted": [...], "outputs": {name: value, ...}}``
    (``outputs`` only after an apply); ``community`` may hold
    ``{"stack": ..., "backend": "file://..."}``.

``pulumi.drift`` — ``faellesdrift pulumi drift [--tenant X]`` (refresh --preview-only per stack)
    ``{"generated_at", "ok": bool, "stack": "lab.odder", "error": str | null,
    "drift": [{"tenant", "resource": "odder/server/odd-file01", "type": "ServerPlacement",
    "status": "changed" | "gone", "keys": ["status", ...]}]}`` (``ok`` false: the stack
    could not be read, and ``drift`` says nothing); ``community`` holds ``{"backend"}``
    and, from the shared stack, ``{"shared": {"ok", "stack", "error", "drift": [...]}}``.

``settlement`` — ``faellesdrift bill --compare --period P`` and ``bill close`` (metering)
    A typed artefact: ``faellesdrift.settlement_result`` holds its shape (the period,
    closed or estimate, every model's amount per tenant with its components, pools,
    basis and ``--explain`` reasons, and every closed month's statement), its writer
    (``SettlementResult.to_payload``) and its reader (``settlement_result.read``).

``servers.facts`` — ``faellesdrift servers facts [--tenant X]`` (Ansible facts + apt)
    ``{"generated_at", "ok": bool, "run_id", "hosts": [host row + {"os", "declared_os",
    "os_key", "security_ends", "eol_status", "kernel", "kernel_date", "kernel_age_days",
    "uptime_days", "lists_updated", "reboot_required", "reboot_packages", "updates": int,
    "security_updates": int, "pending": [{"package", "current", "candidate", "security",
    "origins"}]}]}``; ``compliant`` is "patched": no security update pending, no restart
    due (null when the host did not answer).

``lab.status`` — ``faellesdrift lab up|status``
    ``{"generated_at", "ok": bool, "hosts": [{"host", "kind": "server" |
    "network_device", "status": "up" | "down", "address", "reason"}]}``;
    ``community`` may hold ``{"up": bool}``.

``meter.collect`` — ``faellesdrift meter collect``
    ``{"generated_at", "ok": bool, "period", "rows": int,
    "meters": {"server.vcpu": float, ...}}``.

History: for ``network.compliance``, ``servers.verify`` and ``servers.facts`` every save
also appends one line to ``<state>/results/history/<kind>.jsonl`` (each saved tenant's
hosts, checked and compliant counts; for facts also the hosts with security updates
pending, the pending security updates and the hosts waiting for a restart);
``history(settings, kind, slug)`` reads a tenant's last runs, so reports show compliance
and patch state over time.

A new kind is a new entry in ``KINDS`` and a paragraph here; ``save`` accepts
any well-formed kind name (lowercase words joined by dots) so an adapter can
start writing before the reports read it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

from faellesdrift import clock
from faellesdrift.errors import FaellesdriftError
from faellesdrift.files import locked, write_json_atomic, write_text_atomic
from faellesdrift.model import NAME
from faellesdrift.settings import Settings

SCHEMA_VERSION = 1

KINDS: dict[str, str] = {
    "network.compliance": "network devices checked against the baseline",
    "network.backup": "network devices' running configs backed up (redacted, git)",
    "servers.verify": "servers verified (testinfra) against the baseline",
    "servers.apply": "server baseline applied (ansible-runner)",
    "servers.plan": "server baseline in check mode",
    "servers.facts": "servers' patch state and end of life (Ansible facts, apt)",
    "pulumi.outputs": "platform stack applied (Pulumi up): outputs per tenant",
    "pulumi.preview": "platform stack previewed (Pulumi preview)",
    "pulumi.drift": "platform objects changed outside Pulumi (refresh --preview-only)",
    "settlement": "a period's costs per tenant under every allocation model",
    "lab.status": "the lab's emulated devices and servers",
    "meter.collect": "usage collected into the metering store",
}

HOST_STATUSES = ("ok", "changed", "failed", "unreachable", "not run")

_KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


class ResultsError(FaellesdriftError):
    """A results file or payload is malformed."""


def now() -> str:
    return clock.stamp()


def results_dir(settings: Settings) -> Path:
    return settings.state_dir / "results"


def path_for(settings: Settings, kind: str) -> Path:
    _check_kind(kind)
    return results_dir(settings) / f"{kind}.json"


def _check_kind(kind: str) -> None:
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise ResultsError(
            f"results kind {kind!r} is not a valid name: use lowercase words joined by dots "
            "(or one word), "
            f"e.g. {', '.join(sorted(KINDS)[:3])}")


def _check_payload(kind: str, payload: Any) -> None:
    if not isinstance(payload, dict):
        raise ResultsError(
            f"{kind}: the payload must be a JSON object, not {type(payload).__name__}")
    unknown = set(payload) - {"kind", "schema", "generated_at", "community", "tenants"}
    if unknown:
        raise ResultsError(
            f"{kind}: unknown top-level key(s) {', '.join(sorted(unknown))}; put tenant data "
            "under 'tenants' and community-wide data under 'community'")
    if "kind" in payload and payload["kind"] != kind:
        raise ResultsError(f"{kind}: the payload says kind {payload['kind']!r}")
    tenants = payload.get("tenants", {})
    if not isinstance(tenants, dict):
        raise ResultsError(f"{kind}: 'tenants' must map tenant slugs to objects")
    for slug, entry in tenants.items():
        if not isinstance(slug, str) or not NAME.match(slug):
            raise ResultsError(f"{kind}: tenants key {slug!r} is not a tenant slug")
        if not isinstance(entry, dict):
            raise ResultsError(f"{kind}: tenants.{slug} must be an object")
        hosts = entry.get("hosts", [])
        if not isinstance(hosts, list) or not all(
                isinstance(h, dict) and isinstance(h.get("host"), str) for h in hosts):
            raise ResultsError(
                f"{kind}: tenants.{slug}.hosts must be a list of objects with 'host'")
    if not isinstance(payload.get("community", {}), dict):
        raise ResultsError(f"{kind}: 'community' must be an object")


def _read(path: Path, kind: str) -> dict | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{path}: not valid JSON (line {exc.lineno}: {exc.msg}) — delete the file and "
            f"re-run the command that writes {kind!r}") from None
    try:
        _check_payload(kind, data)
    except ResultsError as exc:
        raise ResultsError(f"{path}: {exc} — delete the file and re-run the command") from None
    return data


def merge(current: dict | None, payload: dict, *, kind: str, at: str | None = None) -> dict:
    """``payload`` merged over ``current``: its tenants replace theirs, its community keys too."""
    at = at or now()
    out: dict[str, Any] = {"kind": kind, "schema": SCHEMA_VERSION, "generated_at": at,
                           "community": dict((current or {}).get("community", {})),
                           "tenants": dict((current or {}).get("tenants", {}))}
    out["community"].update(payload.get("community", {}))
    for slug, entry in payload.get("tenants", {}).items():
        out["tenants"][slug] = {"generated_at": payload.get("generated_at", at), **entry}
    return dict(sorted(out.items()))


def save(settings: Settings, kind: str, payload: dict) -> Path:
    """Merge ``payload`` into ``<state>/results/<kind>.json`` (per tenant); return the path."""
    _check_kind(kind)
    _check_payload(kind, payload)
    try:
        json.dumps(payload, allow_nan=False, default=str)
    except (TypeError, ValueError) as exc:
        raise ResultsError(f"{kind}: the payload is not JSON-serialisable: {exc}") from None
    path = path_for(settings, kind)
    with locked(path):
        try:
            current = _read(path, kind)
        except ResultsError:
            # Keep the unreadable file for a person to look at; this run starts a new one.
            os.replace(path, path.with_name(f"{path.name}.corrupt-{now().replace(':', '')}"))
            current = None
        merged = merge(current, payload, kind=kind)
        write_json_atomic(path, merged, durable=True)
        if kind in HISTORY_KINDS:
            _append_history(settings, kind, merged["generated_at"], payload)
    return path


#: kinds whose per-tenant compliance is also kept over time (one line per save)
HISTORY_KINDS = ("network.compliance", "servers.verify", "servers.facts")
#: patch-state counts a history line keeps when the hosts carry them (servers.facts)
PATCH_COUNTS = ("security_pending", "security_updates", "reboot_required")
HISTORY_KEPT = 400  # lines per kind: a year of daily runs and then some


def history_path(settings: Settings, kind: str) -> Path:
    return results_dir(settings) / "history" / f"{kind}.jsonl"


def _append_history(settings: Settings, kind: str, at: str, payload: dict) -> None:
    """One line per save: each saved tenant's hosts, how many were checked and compliant."""
    tenants = {}
    for slug, entry in payload.get("tenants", {}).items():
        hosts = [h for h in entry.get("hosts") or [] if isinstance(h, dict)]
        tenants[slug] = {"hosts": len(hosts),
                         "checked": sum(h.get("compliant") is not None for h in hosts),
                         "compliant": sum(h.get("compliant") is True for h in hosts)}
        if any("security_updates" in h for h in hosts):
            counts = [int(h.get("security_updates") or 0) for h in hosts]
            tenants[slug].update(security_pending=sum(n > 0 for n in counts),
                                 security_updates=sum(counts),
                                 reboot_required=sum(h.get("reboot_required") is True
                                                     for h in hosts))
    path = history_path(settings, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    lines = lines[-(HISTORY_KEPT - 1):] + [json.dumps({"at": at, "tenants": tenants},
                                                      sort_keys=True)]
    write_text_atomic(path, "\n".join(lines) + "\n")


def history(settings: Settings, kind: str, slug: str, limit: int = 12) -> list[dict]:
    """The tenant's last ``limit`` saved runs of ``kind``, oldest first:
    ``{"at", "hosts", "checked", "compliant"}`` (and ``PATCH_COUNTS`` for servers.facts). A line that does not parse is skipped."""
    path = history_path(settings, kind)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            data = json.loads(line)
            entry = data["tenants"][slug]
            point = {"at": str(data["at"]), "hosts": int(entry["hosts"]),
                     "checked": int(entry["checked"]), "compliant": int(entry["compliant"])}
            point.update({k: int(entry[k]) for k in PATCH_COUNTS if k in entry})
            out.append(point)
        except (ValueError, KeyError, TypeError):
            continue
    return out[-limit:]


def load(settings: Settings, kind: str) -> dict | None:
    """The merged results of ``kind``, or None when nothing was saved yet.

    Raises ResultsError (naming the file and the fix) when the file is not valid.
    """
    return _read(path_for(settings, kind), kind)


def tenant_entry(payload: dict | None, slug: str) -> dict | None:
    """One tenant's entry of a loaded payload, or None."""
    if not payload:
        return None
    return payload.get("tenants", {}).get(slug)


def forget(settings: Settings, kind: str, tenants: list[str] | None = None) -> None:
    """Drop some tenants' entries (or the whole file): e.g. when a tenant leaves."""
    path = path_for(settings, kind)
    with locked(path):
        if tenants is None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return
        current = _read(path, kind)
        if current is None:
            return
        for slug in tenants:
            current.get("tenants", {}).pop(slug, None)
        write_json_atomic(path, current, durable=True)
