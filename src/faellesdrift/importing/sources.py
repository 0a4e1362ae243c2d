"""Read a source file into records: CSV and XLSX asset lists, NetBox/Nautobot REST JSON."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from faellesdrift.errors import ConfigError
from faellesdrift.importing.gaps import ImportGap
from faellesdrift.importing.mapping import Mapping
from faellesdrift.importing.records import NetworkHint, Record

MAX_BYTES = 50 * 1024 * 1024
KINDS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".json": "netbox"}


def kind_of_file(path: Path) -> str:
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"--from {path}: unknown file type {path.suffix or '(none)'!r}; "
                         "use .csv, .xlsx or a NetBox/Nautobot .json export")
    return kind


def _read_bytes(path: Path) -> bytes:
    try:
        if not path.is_file():
            raise ConfigError(f"{path}: not a regular file; give the asset list's path")
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError(f"{path}: over the 50 MB limit; split the list")
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}; check the path and its "
                          "permissions") from None


def _table(rows: list[list[Any]], path: Path, mapping: Mapping, first_row: int
           ) -> tuple[list[Record], list[ImportGap]]:
    """Rows of cells with a header row → records; unknown columns and blank rows are gaps."""
    gaps: list[ImportGap] = []
    header_at = next((i for i, r in enumerate(rows) if any(_cell(c) for c in r)), None)
    if header_at is None:
        raise ConfigError(f"{path}: holds no rows; export the asset list with a header row")
    header = [_cell(c) for c in rows[header_at]]
    fields = [mapping.field_of(h) if h else None for h in header]
    if "name" not in fields:
        raise ConfigError(f"{path}: row {header_at + first_row}: no column for the host name "
                          f"(headers: {', '.join(h for h in header if h)}); name it Hostname "
                          "or Værtsnavn, or map it with --map (columns: {name: ...})")
    ignored = [h for h, f in zip(header, fields, strict=True) if h and f is None]
    if ignored:
        gaps.append(ImportGap(f"row {header_at + first_row}", "kept",
                        f"columns not imported: {', '.join(ignored)} (map them with --map "
                        "if they hold a field)"))
    seen: dict[str, int] = {}
    for i, f in enumerate(fields):
        if f is not None and f in seen:
            gaps.append(ImportGap(f"row {header_at + first_row}", "kept",
                            f"columns {header[seen[f]]!r} and {header[i]!r} both map to {f}; "
                            f"the first is used"))
            fields[i] = None
        elif f is not None:
            seen[f] = i
    records, blank = [], []
    for n, row in enumerate(rows[header_at + 1:], start=header_at + 1 + first_row):
        values = {f: _cell(c) for f, c in zip(fields, row, strict=False) if f and _cell(c)}
        if not values:
            blank.append(n)
            continue
        records.append(Record(f"row {n}", values))
    if blank:
        gaps.append(ImportGap(_rows(blank), "skipped", f"{len(blank)} blank row(s)"))
    return records, gaps


def _rows(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:20]))
    return f"rows {shown}{', …' if len(numbers) > 20 else ''}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value).strip()


def read_csv(path: Path, mapping: Mapping) -> tuple[list[Record], list[ImportGap]]:
    raw = _read_bytes(path)
    for encoding in ("utf-8-sig", "cp1252"):  # Excel's "CSV (semikolonsepareret)" is cp1252
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    return _table(rows, path, mapping, 1)


def read_xlsx(path: Path, mapping: Mapping) -> tuple[list[Record], list[ImportGap]]:
    from zipfile import BadZipFile

    import openpyxl

    _read_bytes(path)  # the same checks as every source
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ConfigError(f"{path}: not a readable XLSX workbook ({exc}); save it as .xlsx "
                          "from Excel or LibreOffice") from None
    try:
        sheet = book.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    records, gaps = _table(rows, path, mapping, 1)
    if len(book.sheetnames) > 1:
        gaps.append(ImportGap(f"sheets {', '.join(book.sheetnames[1:])}", "kept",
                        f"only the first sheet ({book.sheetnames[0]!r}) is imported; move "
                        "other assets to it"))
    return records, gaps


# ---------------------------------------------------------------- NetBox / Nautobot

_SECTIONS = ("tenants", "devices", "virtual_machines", "prefixes", "vlans")


def _list(data: dict, key: str, path: Path) -> list[dict]:
    value = data.get(key, [])
    if isinstance(value, dict) and "results" in value:  # a saved page of the REST API
        value = value["results"]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{path}: {key} must be the REST API's list of objects "
                          "(or a page with `results`)")
    return value


def _name(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("slug") or obj.get("name") or obj.get("display") or obj.get("value")
                   or obj.get("label") or "")
    return "" if obj is None else str(obj)


def _ip(obj: dict) -> str:
    ip = obj.get("primary_ip4") or obj.get("primary_ip") or {}
    address = ip.get("address", "") if isinstance(ip, dict) else str(ip)
    return address.split("/")[0]


def _tenant_matches(obj: dict, tenant_ids: set[str]) -> bool:
    t = obj.get("tenant")
    if not tenant_ids:
        return True
    if not isinstance(t, dict):
        return False
    return bool({str(t.get("id")), _name(t), str(t.get("name", ""))} & tenant_ids)


def read_netbox(path: Path, code: str, name: str, slug: str
                ) -> tuple[list[Record], list[NetworkHint], list[ImportGap]]:
    """Devices, virtual machines, prefixes and VLANs of one tenant from a REST export.

    The file is one JSON object with any of ``tenants``, ``devices``,
    ``virtual_machines``, ``prefixes`` and ``vlans``, each the API's list (or a saved
    page with ``results``). NetBox reports VM memory and disk in MB (4.x) and Nautobot
    memory in MB, disk in GB; disk values above 16,384 are read as MB.
    """
    try:
        data = json.loads(_read_bytes(path).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}); export with the REST API") from None
    if not isinstance(data, dict) or not set(data) & set(_SECTIONS):
        raise ConfigError(f"{path}: expected an object with {', '.join(_SECTIONS)}")
    gaps: list[ImportGap] = []
    tenants = _list(data, "tenants", path)
    wanted = {code, code.lstrip("0"), name.casefold(), slug}
    ids: set[str] = set()
    for t in tenants:
        cf = t.get("custom_fields") or {}
        keys = {str(t.get("slug", "")), str(t.get("name", "")).casefold(),
                str(cf.get("kommunekode", "")), str(cf.get("municipality_code", ""))}
        if keys & wanted:
            ids |= {str(t.get("id")), str(t.get("slug", "")), str(t.get("name", ""))}
    if tenants and not ids:
        raise ConfigError(f"{path}: no tenant for {name} ({code}) among "
                          f"{', '.join(_name(t) for t in tenants)}; name the tenant {slug!r} "
                          "or give it the custom field kommunekode")
    records: list[Record] = []
    others = 0
    for i, d in enumerate(_list(data, "devices", path)):
        if not _tenant_matches(d, ids):
            others += 1
            continue
        dtype = d.get("device_type") or {}
        role = _name(d.get("role") or d.get("device_role"))
        values = {
            "name": str(d.get("name") or ""), "address": _ip(d), "role": role,
            "platform": _name(d.get("platform")), "site": str((d.get("site") or {}).get(
                "name", "") if isinstance(d.get("site"), dict) else d.get("site") or ""),
            "model": " ".join(x for x in (_name(dtype.get("manufacturer")),
                                          str(dtype.get("model", ""))) if x),
            "kind": "server" if "server" in role.casefold() else "network",
        }
        cf = d.get("custom_fields") or {}
        if cf.get("ports"):
            values["ports"] = str(cf["ports"])
        records.append(Record(f"devices[{i}]", {k: v for k, v in values.items() if v}))
    for i, vm in enumerate(_list(data, "virtual_machines", path)):
        if not _tenant_matches(vm, ids):
            others += 1
            continue
        values = {"name": str(vm.get("name") or ""), "address": _ip(vm), "kind": "server",
                  "os": _name(vm.get("platform")), "role": _name(vm.get("role"))}
        if vm.get("vcpus"):
            values["vcpu"] = str(int(float(vm["vcpus"])))
        if vm.get("memory"):
            values["memory_gb"] = str(max(1, -(-int(vm["memory"]) // 1024)))
        if vm.get("disk"):
            disk = int(vm["disk"])
            values["disk_gb"] = str(max(1, -(-disk // 1024)) if disk > 16_384 else disk)
        records.append(Record(f"virtual_machines[{i}]", {k: v for k, v in values.items() if v}))
    hints = []
    for i, p in enumerate(_list(data, "prefixes", path)):
        if not _tenant_matches(p, ids):
            others += 1
            continue
        vlan = p.get("vlan") if isinstance(p.get("vlan"), dict) else None
        hints.append(NetworkHint(f"prefixes[{i}]", str(p.get("prefix", "")),
                                 int(vlan["vid"]) if vlan and vlan.get("vid") else None,
                                 str((vlan or {}).get("name") or p.get("description") or "")))
    if others:
        gaps.append(ImportGap(f"{path.name}", "other-tenant",
                        f"{others} object(s) of other tenants (or of no tenant) are not "
                        "imported"))
    return records, hints, gaps
