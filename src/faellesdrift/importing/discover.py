"""Discovery: log in to live gear, read what it says about itself, and turn it into the tenant
file's entries — new hosts through the same build, merge and gap list as ``tenant import``;
differences from the entries already in the file only as a report, never an overwrite.

Network devices are read with netmiko through Nornir (one session per device, closed in its
own task) and parsed by ntc-templates (``devicefacts``); servers with Ansible's ``setup``
module through ansible-runner, over the same strict ssh_config the server runs use.
Credentials come from the environment or the lab's files exactly as the network adapter
reads them; nothing here writes them anywhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Any, Literal

from faellesdrift.errors import ConfigError
from faellesdrift.importing import devicefacts
from faellesdrift.importing.records import Record
from faellesdrift.model import BASELINE_OS, plain
from faellesdrift.settings import Settings

Kind = Literal["network_device", "server"]
Status = Literal["found", "unreachable", "failed", "skipped"]
TargetMode = Literal["auto", "lab", "estate"]
DEFAULT_WORKERS = 40  # the emulated gear times out beyond ~50 sessions at once (FACTS)
_KIND_WORDS = {"server": "server", "network": "network_device", "device": "network_device",
               "network_device": "network_device"}


@dataclass(frozen=True)
class Target:
    address: str
    kind: Kind | None = None
    platform: str | None = None  # a netmiko device type, when known
    name: str | None = None  # the entry in the tenant file, when there is one
    os: str | None = None  # a server's OS in the tenant file
    ref: str = ""  # where the target came from ("tenants/odder.yaml", "targets.txt:3")


@dataclass
class Found:
    """What one target said about itself, or why it said nothing."""

    target: Target
    status: Status
    reason: str = ""
    kind: Kind | None = None
    hostname: str = ""
    platform: str = ""  # network devices: the netmiko device type
    os: str = ""  # servers: the model's OS name (debian12); devices: ""
    os_version: str = ""
    model: str = ""
    serial: str = ""
    interfaces: int | None = None
    vcpu: int | None = None
    memory_gb: int | None = None
    parser: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.target.address, "entry": self.target.name,
                "status": self.status, "reason": self.reason, "kind": self.kind,
                "hostname": self.hostname, "platform": self.platform, "os": self.os,
                "os_version": self.os_version, "model": self.model, "serial": self.serial,
                "interfaces": self.interfaces, "vcpu": self.vcpu, "memory_gb": self.memory_gb,
                "parser": dict(self.parser), "seconds": round(self.seconds, 2)}


@dataclass(frozen=True)
class Difference:
    """A field where the tenant file and the live host disagree: for a person to decide."""

    host: str
    field: str
    in_file: str
    found: str

    def to_dict(self) -> dict[str, str]:
        return {"host": self.host, "field": self.field, "in_file": self.in_file,
                "found": self.found}

    def one_line(self) -> str:
        return f"{self.host}: {self.field} is {self.in_file!r} in the file, {self.found!r} live"


# ------------------------------------------------------------------ targets


def parse_target(text: str, ref: str = "") -> Target:
    """``ADDRESS [server|network|PLATFORM]`` → a target; ConfigError names the fix."""
    words = text.split("#", 1)[0].split()
    if not words:
        raise ConfigError(f"{ref or 'target'}: empty")
    try:
        address = str(IPv4Address(words[0]))
    except ValueError:
        raise ConfigError(f"{ref or 'target'}: {words[0]!r} is not an IPv4 address such as "
                          "10.41.0.1") from None
    kind: Kind | None = None
    platform = None
    for word in words[1:]:
        w = word.casefold()
        if w in _KIND_WORDS:
            kind = _KIND_WORDS[w]  # type: ignore[assignment]
        elif w in devicefacts.COMMANDS:
            kind, platform = "network_device", w
        else:
            raise ConfigError(f"{ref or 'target'}: {word!r} is neither server, network nor a "
                              f"platform ({', '.join(devicefacts.COMMANDS)})")
    return Target(address, kind, platform, ref=ref)


def targets_from_file(path: Path) -> list[Target]:
    """One target per line (``10.41.0.1 cisco_ios``, ``10.41.10.11 server``); # comments."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}); give a text file with one address "
                          "per line") from None
    return [parse_target(line, f"{path.name}:{n}") for n, line in enumerate(lines, 1)
            if line.split("#", 1)[0].strip()]


def targets_from_tenant(tenant: Any, file: str) -> list[Target]:
    """Every server and network device of a tenant file (other_assets are not logged into)."""
    out = [Target(str(d.address), "network_device", d.platform, d.name, ref=file)
           for d in tenant.network_devices]
    out += [Target(str(s.address), "server", None, s.name, s.os, ref=file)
            for s in tenant.servers]
    return out


def targets_from_records(records: list[Record], mapping: Any) -> list[Target]:
    """The hosts of an asset list (the rows ``tenant import`` reads), with their kind and
    platform when the row tells them."""
    from faellesdrift.importing.mapping import kind_of

    out = []
    for r in records:
        try:
            address = str(IPv4Address(r.get("address").split("/")[0]))
        except ValueError:
            continue  # the import's gap list names rows without a usable address
        kind = kind_of(r.get("kind"))
        os_name = mapping.operating_system(r.get("os")) if r.get("os") else None
        platform = None
        if kind != "server" and not os_name:
            platform, _ = mapping.platform(r.get("platform"), r.get("model"), r.get("os"))
        k: Kind | None = "server" if os_name or kind == "server" else (
            "network_device" if platform or kind == "network_device" else None)
        out.append(Target(address, k, platform, os=os_name, ref=r.ref))
    return out


def unique(targets: list[Target]) -> list[Target]:
    """One target per address: the first that names it (the tenant file's entry wins)."""
    seen: dict[str, Target] = {}
    for t in targets:
        seen.setdefault(t.address, t)
    return list(seen.values())


# ------------------------------------------------------------------ where targets are


@dataclass(frozen=True)
class Reach:
    """Where to open a session for an address: a device endpoint or a server's ssh alias."""

    kind: Kind
    host: str  # device: host to connect to; server: the ssh_config alias or the address
    port: int = 22
    lab_name: str = ""


def lab_reach(settings: Settings) -> dict[str, Reach]:
    """Address → where the running lab serves it (its emulated devices and servers)."""
    from faellesdrift.lab import Lab, LabPaths, cache_dir

    paths = LabPaths(root=settings.state_dir / "lab", cache=cache_dir() / "lab")
    status = Lab(paths).status()
    out: dict[str, Reach] = {}
    for d in status.devices:
        if d.running:
            out[str(d.address)] = Reach("network_device", d.host, int(d.port), d.name)
    for s in status.servers:
        if s.running:
            out[str(IPv4Interface(s.address).ip)] = Reach("server", s.name, 22, s.name)
    return out


def resolve_mode(settings: Settings, mode: TargetMode) -> TargetMode:
    if mode != "auto":
        return mode
    from faellesdrift.lab_access import LabAccessError, read_lab_access

    try:
        access = read_lab_access(settings.state_dir)
    except LabAccessError:
        return "lab"  # a lab that wrote a broken artefact: its status says more than a guess
    return "lab" if access is not None and not access.empty else "estate"


# ------------------------------------------------------------------ network devices


def _classify(exc: BaseException) -> tuple[Status, str]:
    from faellesdrift.network.runner import classify

    status, reason = classify(exc)
    return ("unreachable" if status.value == "unreachable" else "failed"), reason


def read_device(target: Target, reach: Reach, creds: Any, *, timeouts: dict[str, float]
                ) -> Found:
    """One device: log in, tell its platform when unknown, read and parse its facts."""
    from netmiko import ConnectHandler, redispatch

    started = time.monotonic()
    user, password, secret = creds.for_host(target.name or "")
    platform = target.platform
    conn = ConnectHandler(
        device_type=platform or "generic", host=reach.host, port=reach.port, username=user,
        password=password, secret=secret, allow_agent=False, use_keys=False, fast_cli=False,
        conn_timeout=timeouts["conn"], auth_timeout=timeouts["auth"],
        banner_timeout=timeouts["auth"], read_timeout_override=timeouts["read"])
    try:
        if platform is None:
            platform = devicefacts.detect(conn.send_command(devicefacts.DETECT_COMMAND))
            if platform is None and conn.find_prompt().endswith(">"):
                # some images show their version only in privileged mode
                if "assword" in conn.send_command_timing("enable"):
                    conn.send_command_timing(secret)
                platform = devicefacts.detect(conn.send_command(devicefacts.DETECT_COMMAND))
            if platform is None:
                return Found(target, "failed", "show version names no supported platform ("
                             f"{', '.join(devicefacts.COMMANDS)}); if it is a server, mark it "
                             "`server` in the targets", "network_device",
                             seconds=time.monotonic() - started)
            redispatch(conn, device_type=platform)
        if platform != "juniper_junos" and not conn.check_enable_mode():
            conn.enable()
        outputs = {}
        for command in devicefacts.COMMANDS[platform]:
            outputs[command] = conn.send_command(command)
        prompt = conn.base_prompt or ""
    finally:
        conn.disconnect()
    f = devicefacts.facts(platform, outputs, prompt)
    return Found(target, "found", "", "network_device", f.hostname, platform, "",
                 f.os_version, f.model, f.serial, f.interfaces, parser=f.parser,
                 seconds=time.monotonic() - started)


def discover_devices(targets: list[Target], reach: dict[str, Reach], creds: Any, *,
                     workers: int, timeouts: dict[str, float]) -> list[Found]:
    """Every device in parallel with Nornir's threaded runner; a failure is that device's."""
    from nornir.core import Nornir
    from nornir.core.configuration import Config
    from nornir.core.inventory import Defaults, Groups, Host, Hosts, Inventory
    from nornir.core.task import Result, Task
    from nornir.plugins.runners import ThreadedRunner

    if not targets:
        return []
    by_name = {t.address: t for t in targets}
    hosts = Hosts({t.address: Host(t.address, hostname=reach[t.address].host,
                                   port=reach[t.address].port, platform=t.platform)
                   for t in targets})

    def task(t: Task) -> Result:
        target = by_name[t.host.name]
        started = time.monotonic()
        try:
            found = read_device(target, reach[target.address], creds, timeouts=timeouts)
        except Exception as exc:  # noqa: BLE001 - every failure becomes this device's result
            status, why = _classify(exc)
            found = Found(target, status, why, "network_device",
                          seconds=time.monotonic() - started)
        return Result(host=t.host, result=found)

    nr = Nornir(inventory=Inventory(hosts=hosts, groups=Groups(), defaults=Defaults()),
                config=Config(logging={"enabled": False}),
                runner=ThreadedRunner(num_workers=max(1, min(workers, len(targets)))))
    agg = nr.run(task=task, name="discover", on_failed=True)
    out = []
    for t in targets:
        multi = agg.get(t.address)
        r = multi[0].result if multi else None
        out.append(r if isinstance(r, Found) else Found(
            t, "failed", str(multi[0].exception if multi else "no result"), "network_device"))
    return out


# ------------------------------------------------------------------ servers

#: Facts the entries need (distribution, CPUs, memory, hostname); no mounts, no devices.
GATHER_SUBSET = "!all,!min,distribution,platform,hardware,network"
_ANSIBLE_CFG = """\
[defaults]
host_key_checking = True
nocolor = True
deprecation_warnings = False
retry_files_enabled = False
interpreter_python = /usr/bin/python3
timeout = {timeout}
forks = {forks}
gather_timeout = 30
local_tmp = {tmp}

[ssh_connection]
pipelining = True
ssh_args = {ssh_args}
control_path_dir = {control}
"""


def _server_facts(target: Target, data: dict[str, Any], seconds: float) -> Found:
    from faellesdrift.importing.mapping import Mapping

    distribution = str(data.get("ansible_distribution") or "")
    major = str(data.get("ansible_distribution_major_version") or "")
    version = str(data.get("ansible_distribution_version") or major)
    os_name = Mapping().operating_system(f"{distribution} {major}") or ""
    memory = data.get("ansible_memtotal_mb")
    return Found(target, "found", "" if os_name else
                 f"{distribution} {version} is none of the operating systems the model knows",
                 "server", str(data.get("ansible_hostname") or ""), "", os_name,
                 f"{distribution} {version}".strip(), _known(data.get("ansible_product_name")),
                 _known(data.get("ansible_product_serial")),
                 len([i for i in data.get("ansible_interfaces") or [] if i != "lo"]) or None,
                 data.get("ansible_processor_vcpus") or None,
                 max(1, round(memory / 1024)) if isinstance(memory, int) else None,
                 {"setup": "ansible facts"}, seconds)


def discover_servers(targets: list[Target], reach: dict[str, Reach], settings: Settings, *,
                     ssh_config: Path | None, user: str, forks: int,
                     timeout: int = 15) -> list[Found]:
    """Ansible ``setup`` on every server at once (ansible-runner); per-host failures are
    results. Servers the Linux baseline does not cover (Windows) are not logged into."""
    import ansible_runner

    out: dict[str, Found] = {}
    todo = []
    for t in targets:
        if t.os and t.os not in BASELINE_OS:
            out[t.address] = Found(t, "skipped", f"{t.os}: not covered by the Linux baseline "
                                   "(discovery logs in over SSH); inventory only", "server")
        else:
            todo.append(t)
    if todo:
        aliases = {reach[t.address].host: t for t in todo}
        runs = settings.state_dir / "discover"
        runs.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="run-", dir=runs))
        control = Path(tempfile.mkdtemp(prefix="fd-dc-"))
        started = time.monotonic()
        try:
            (work / "inventory").mkdir()
            hosts = {alias: ({} if ssh_config else {"ansible_host": t.address})
                     for alias, t in aliases.items()}
            inv = {"all": {"hosts": hosts, "vars": {"ansible_user": user}}}
            (work / "inventory" / "hosts.json").write_text(json.dumps(inv))
            ssh_args = (f"-F {ssh_config} " if ssh_config else "") + \
                "-o ControlMaster=auto -o ControlPersist=30s"
            cfg = work / "ansible.cfg"
            cfg.write_text(_ANSIBLE_CFG.format(timeout=timeout, forks=forks, tmp=work / "tmp",
                                               ssh_args=ssh_args, control=control))
            binary_dir = Path(shutil.which("ansible") or "").parent
            import sys
            env = {"ANSIBLE_CONFIG": str(cfg), "PYTHONUNBUFFERED": "1",
                   "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(binary_dir),
                                            os.environ.get("PATH", "")])}
            facts: dict[str, dict] = {}
            failures: dict[str, tuple[Status, str]] = {}

            def on_event(event: dict) -> bool:
                data = event.get("event_data") or {}
                host = data.get("host")
                res = data.get("res") or {}
                if event.get("event") == "runner_on_ok" and host:
                    facts[host] = res.get("ansible_facts") or {}
                elif event.get("event") == "runner_on_unreachable" and host:
                    failures[host] = ("unreachable", _one_line(res.get("msg")))
                elif event.get("event") == "runner_on_failed" and host:
                    failures[host] = ("failed", _one_line(res.get("msg")))
                return True

            ansible_runner.run(private_data_dir=str(work), host_pattern="all", module="setup",
                               module_args=f"gather_subset={GATHER_SUBSET}",
                               inventory=str(work / "inventory" / "hosts.json"), envvars=env,
                               quiet=True, event_handler=on_event, forks=forks,
                               ident="setup", suppress_env_files=True)
            seconds = time.monotonic() - started
            for alias, t in aliases.items():
                if alias in facts:
                    out[t.address] = _server_facts(t, facts[alias], seconds)
                else:
                    status, why = failures.get(alias, ("failed", "no facts returned"))
                    out[t.address] = Found(t, status, why, "server", seconds=seconds)
        finally:
            from faellesdrift.servers.runner import close_masters

            close_masters(control)
            shutil.rmtree(control, ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)
    return [out[t.address] for t in targets]


def _known(value: Any) -> str:
    text = str(value or "").strip()
    return "" if text.casefold() in ("", "na", "n/a", "none", "not specified") else text


def _one_line(msg: Any) -> str:
    return " ".join(str(msg or "").split())[:200]


# ------------------------------------------------------------------ into the model


def compare(found: Found, entry: dict[str, Any]) -> list[Difference]:
    """Identity fields where the file and the live host disagree. Sizes (vCPU, memory) are
    shown but not compared: a file holds the allocation, a host reports what it sees."""
    host = entry.get("name") or found.target.address
    diffs = []

    def differ(name: str, in_file: Any, live: Any) -> None:
        if in_file and live and str(in_file) != str(live):
            diffs.append(Difference(host, name, str(in_file), str(live)))

    differ("hostname", entry.get("name"), found.hostname.split(".")[0].casefold())
    if found.kind == "network_device":
        differ("platform", entry.get("platform"), found.platform)
        differ("os_version", entry.get("os_version"), found.os_version)
        differ("model", entry.get("model"), found.model)
        differ("serial", entry.get("serial"), found.serial)
    else:
        differ("os", entry.get("os"), found.os)
    if entry.get("address") and str(entry["address"]) != found.target.address:
        diffs.append(Difference(host, "address", str(entry["address"]), found.target.address))
    return diffs


def to_record(found: Found) -> Record:
    """A found host as an import record: what ``tenant import`` builds entries from."""
    values = {"name": found.hostname, "address": found.target.address,
              "kind": "server" if found.kind == "server" else "network device",
              "model": found.model, "os_version": found.os_version}
    if found.kind == "server":
        values["os"] = found.os or found.os_version
        values["vcpu"] = str(found.vcpu or "")
        values["memory_gb"] = str(found.memory_gb or "")
    else:
        values["platform"] = found.platform
        values["ports"] = str(found.interfaces or "")
        values["serial"] = found.serial
    return Record(f"{found.target.address} (discovered)",
                  {k: v for k, v in values.items() if v})


ProgressFn = Callable[[str], None]


def hostname_ok(name: str) -> bool:
    return bool(re.match(r"^[A-Za-z0-9]", name or ""))


# ------------------------------------------------------------------ the run


@dataclass
class DiscoverResult:
    tenant: str
    mode: str
    found: list[Found]
    differences: list[Difference]
    imported: Any = None  # the ImportResult of the new hosts, None when there were none
    seconds: float = 0.0

    @property
    def unreached(self) -> list[Found]:
        return [f for f in self.found if f.status in ("unreachable", "failed")]

    def counts(self) -> dict[str, int]:
        out = {s: sum(f.status == s for f in self.found)
               for s in ("found", "unreachable", "failed", "skipped")}
        out["differences"] = len(self.differences)
        out["new"] = len([f for f in self.found if f.status == "found" and not f.target.name])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "target": self.mode, "seconds": round(self.seconds, 1),
                "counts": self.counts(), "hosts": [f.to_dict() for f in self.found],
                "differences": [d.to_dict() for d in self.differences],
                "import": self.imported.to_dict() if self.imported is not None else None}


def run_discover(settings: Settings, code: str, *, addresses: list[str] = (),
                 targets_file: Path | None = None, source: Path | None = None,
                 mapping_file: Path | None = None, mode: TargetMode = "auto",
                 workers: int = DEFAULT_WORKERS, population: int | None = None,
                 today: Any, dry_run: bool = False) -> DiscoverResult:
    """Discover the targets (default: every host of the tenant file) and bring what was found
    into the tenant file: new hosts merged as ``tenant import`` merges them, differences for
    hosts already in the file reported."""
    from faellesdrift.community import TENANTS_DIR, load_community
    from faellesdrift.importing import sources
    from faellesdrift.importing.mapping import load_mapping
    from faellesdrift.importing.run import import_records, municipality
    from faellesdrift.scaffold import slug_for

    started = time.monotonic()
    m = municipality(code)
    slug = slug_for(m.name)
    mapping = load_mapping(mapping_file)
    community, findings = load_community(settings.root)
    if community is None:
        raise ConfigError(findings[0].one_line())
    own = next((s.tenant for s in community.sources if s.tenant.slug == slug), None)
    file = f"{TENANTS_DIR}/{slug}.yaml"
    entries: dict[str, dict] = {}  # address -> the file's entry
    kinds: dict[str, Kind] = {}
    if own is not None:
        for d in own.network_devices:
            entries[str(d.address)] = plain(d, exclude_none=True)
            kinds[str(d.address)] = "network_device"
        for s in own.servers:
            entries[str(s.address)] = plain(s, exclude_none=True)
            kinds[str(s.address)] = "server"
    wanted = [parse_target(a, "--address") for a in addresses]
    if targets_file is not None:
        wanted += targets_from_file(targets_file)
    if source is not None:
        kind = sources.kind_of_file(source)
        if kind == "netbox":
            records, _, _ = sources.read_netbox(source, m.code, m.name, slug)
        else:
            records, _ = (sources.read_xlsx if kind == "xlsx" else sources.read_csv)(
                source, mapping)
        wanted += targets_from_records(records, mapping)
    if not wanted:
        if own is None:
            raise ValueError(f"no {file} yet: give addresses (--address, --targets) or an "
                             "asset list (--from) to discover")
        wanted = targets_from_tenant(own, file)
    targets = []
    for t in unique(wanted):  # the file's entry tells the name, kind and platform
        e = entries.get(t.address)
        if e is not None:
            k = kinds[t.address]
            t = Target(t.address, k, e.get("platform") or t.platform, e["name"], e.get("os"),
                       t.ref)
        targets.append(t)

    mode = resolve_mode(settings, mode)
    if mode == "lab":
        reach = lab_reach(settings)
    else:
        reach = {t.address: Reach(t.kind or "network_device", t.address, 22) for t in targets}
    found: dict[str, Found] = {}
    devices, servers = [], []
    for t in targets:
        r = reach.get(t.address)
        if t.kind == "server" and t.os and t.os not in BASELINE_OS:
            found[t.address] = Found(t, "skipped", f"{t.os}: not covered by the Linux baseline"
                                     " (discovery logs in over SSH); inventory only", t.kind)
        elif r is None:
            found[t.address] = Found(t, "unreachable", f"the lab serves nothing at {t.address}"
                                     " (is it up with this tenant?)", t.kind)
        elif t.kind and r.kind != t.kind:
            found[t.address] = Found(t, "failed", f"{t.address} is a "
                                     f"{r.kind.replace('_', ' ')} in the lab, not a "
                                     f"{t.kind.replace('_', ' ')}", t.kind)
        elif r.kind == "server":
            servers.append(t)
        else:
            devices.append(t)
    # devices (netmiko sessions) and servers (ansible-runner) at the same time: both wait
    # on their hosts more than they compute
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = []
        if devices:
            from faellesdrift.network.connect import load_credentials
            from faellesdrift.network.settings import NetworkSettings

            ns = NetworkSettings.from_settings(settings)
            creds = load_credentials(ns)
            timeouts = {"conn": ns.conn_timeout, "auth": ns.auth_timeout,
                        "read": ns.read_timeout}
            jobs.append(pool.submit(discover_devices, devices, reach, creds, workers=workers,
                                    timeouts=timeouts))
        if servers:
            from faellesdrift.servers.runner import default_forks

            ssh_config, user = None, os.environ.get("FAELLESDRIFT_SERVER_USER", "root")
            if mode == "lab":
                from faellesdrift.servers.access import Access

                access = Access.from_lab(settings)
                ssh_config, user = access.ssh_config, access.user
            jobs.append(pool.submit(discover_servers, servers, reach, settings,
                                    ssh_config=ssh_config, user=user,
                                    forks=default_forks(len(servers))))
        for job in jobs:
            for f in job.result():
                found[f.target.address] = f
    ordered = [found[t.address] for t in targets]

    differences = [d for f in ordered if f.status == "found" and f.target.address in entries
                   for d in compare(f, entries[f.target.address])]
    new = [to_record(f) for f in ordered if f.status == "found" and f.target.address not in entries]
    result = DiscoverResult(slug, mode, ordered, differences)
    if new:
        result.imported = import_records(settings.root, m.code, new, [], mapping=mapping,
                                         population=population, today=today, dry_run=dry_run)
    result.seconds = time.monotonic() - started
    return result
