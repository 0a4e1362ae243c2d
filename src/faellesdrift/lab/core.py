"""The lab: create/read/delete per object (segment, server, device) and up/status/down.

Every public method takes the lab lock, loads the record (state.json), does its
work idempotently and saves the record, also when it fails half-way, so that
`down` always knows what to undo. The creates of single objects wait for them
(a server's boot, a daemon's reload) after releasing the lock, so that several
callers (the platform's stacks side by side) make their objects while others boot.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from types import MappingProxyType

from faellesdrift.lab import image, keys, netns, procs, segments, servers, teardown
from faellesdrift.lab.checks import (
    bindable,
    check_inotify,
    check_plan,
    listening_ports,
    preflight,
    ssh_banner,
)
from faellesdrift.lab.daemons import MODULES, Daemons
from faellesdrift.lab.errors import LabError
from faellesdrift.lab.paths import LabPaths
from faellesdrift.lab.records import DeviceRecord, LabStatus, Leftovers, SegmentRecord, ServerRecord
from faellesdrift.lab.segments import Names
from faellesdrift.lab.spec import (
    SERVICES_SEGMENT,
    DeviceSpec,
    LabPlan,
    LabSettings,
    SegmentSpec,
    ServerSpec,
    ServicesSpec,
)
from faellesdrift.lab.state import LabState, locked, write_atomic
from faellesdrift.lab_access import FILE_NAME as ACCESS_FILE
from faellesdrift.lab_access import DeviceEndpoint, LabAccess, write_lab_access

Progress = Callable[[str], None]
SERVER_USER = "root"  # the account server runs log in with (the operator key's)


def _quiet(_: str) -> None:
    pass


class Lab:
    def __init__(self, paths: LabPaths | None = None, settings: LabSettings | None = None,
                 progress: Progress | None = None) -> None:
        self.paths = paths or LabPaths.default()
        self.settings = settings or LabSettings.from_env()
        self.names = Names(self.settings.prefix)
        self.daemons = Daemons(self.paths, self.names)
        self.progress = progress or _quiet

    # ------------------------------------------------------------------ whole lab

    def up(self, plan: LabPlan, *, reset: bool = False) -> LabStatus:
        """Bring up every object of the plan that is not up yet (nothing is made twice)."""
        preflight(self.paths)
        check_plan(plan)
        check_inotify(len(plan.servers))
        if reset:
            self.down(reset=True)
        with self._session() as state:
            keys.ensure_keys(self.paths)
            keys.credentials(self.paths)
            for spec in plan.devices:
                self._device(state, spec, reset=False)
            wanted_devices = self.daemons.sync_emulator(state)
            base = image.ensure_base(self.paths, self.progress) if plan.servers else None
            self.progress(f"segments: {len(plan.segments)} (router namespace "
                          f"{self.names.router})")
            for seg in plan.segments:
                self._segment(state, seg, plan.services)
            self.progress(f"servers: starting {len(plan.servers)}")
            for spec in plan.servers:
                assert base is not None
                self._server(state, spec, base)
            wanted_forwards = self.daemons.sync_netd(state)
            self.daemons.wait(state, "emulator", wanted_devices)
            self.daemons.wait(state, "netd", wanted_forwards)
            self.progress("waiting for every server's sshd")
            self._wait_servers(state, [s.name for s in plan.servers])
            self._write_access(state)
        return self.status()

    def status(self) -> LabStatus:
        state = LabState.load(self.paths, self.settings.prefix)
        listening = listening_ports()
        emulator = self.daemons.alive(state, "emulator")
        segs = tuple(SegmentRecord(n, r["bridge"], tuple(r["prefixes"]), r["gateways"])
                     for n, r in sorted(state.segments.items()))
        names = Names(state.prefix)  # the lab's own prefix, whatever this process was given
        srvs = tuple(self._server_record(n, r, names) for n, r in sorted(state.servers.items()))
        devs = tuple(self._device_record(n, r, emulator and r["port"] in listening)
                     for n, r in sorted(state.devices.items()))
        files = {"ssh_config": str(self.paths.ssh_config),
                 "known_hosts": str(self.paths.known_hosts),
                 "credentials": str(self.paths.credentials),
                 "services_log": str(self.paths.services_log)}
        return LabStatus(prefix=state.prefix, state_dir=str(self.paths.root),
                         segments=segs, servers=srvs, devices=devs,
                         processes={k: self.daemons.alive(state, k) for k in MODULES},
                         files=files)

    def down(self, *, reset: bool = False) -> Leftovers:
        """Remove every process, namespace, mount and cgroup of the lab (crashed or not).

        Device configs and server disks stay for the next `up` unless reset.
        """
        with locked(self.paths):
            state = LabState.load(self.paths, self.settings.prefix)
            recorded = [r.get("pid") for r in (*state.servers.values(),
                                               *state.processes.values())]
            self.progress("stopping servers, devices and lab daemons")
            pids = [p for p in recorded if p]
            if state.prefix != self.settings.prefix:  # made under another prefix: clean both
                teardown.teardown(self.paths, Names(state.prefix), pids)
            left = teardown.teardown(self.paths, self.names, pids)
            for name in ("devices.json", "forwards.json", "services.json", "devices.ready",
                         "netd.ready"):
                (self.paths.root / name).unlink(missing_ok=True)
            if reset:
                for name in list(state.servers) + _dirs(self.paths.servers):
                    servers.wipe(self.paths, name)
                for cfg in self.paths.devices.glob("*.cfg"):
                    cfg.unlink()
            state.segments, state.servers, state.devices, state.processes = {}, {}, {}, {}
            state.save(self.paths)
            self._publish_access(state)
        if not left.empty:
            raise LabError(f"lab down left {left.describe()}")
        return left

    def leftovers(self) -> Leftovers:
        return teardown.leftovers(self.paths, self.names)

    # ------------------------------------------------------------------ segments

    def create_segment(self, spec: SegmentSpec,
                       services: ServicesSpec | None = None) -> SegmentRecord:
        preflight(self.paths, servers_needed=False)
        forwards = ""
        with self._session() as state:
            self._segment(state, spec, services)
            if spec.name == SERVICES_SEGMENT and self.daemons.alive(state, "netd"):
                self.daemons.stop(state, "netd")  # restarts with the services below
            if spec.name == SERVICES_SEGMENT or state.servers:
                forwards = self.daemons.sync_netd(state)
        self.daemons.wait(state, "netd", forwards)  # outside the lock (see the module doc)
        return self.read_segment(spec.name)  # type: ignore[return-value]

    def read_segment(self, name: str) -> SegmentRecord | None:
        r = LabState.load(self.paths, self.settings.prefix).segments.get(name)
        if r is None or not netns.exists(self.names.router):
            return None
        return SegmentRecord(name, r["bridge"], tuple(r["prefixes"]), r["gateways"])

    def delete_segment(self, name: str) -> bool:
        with self._session() as state:
            record = state.segments.get(name)
            if record is None:
                return False
            users = sorted(n for n, s in state.servers.items() if s["tenant"] == name)
            if users:
                raise LabError(f"segment {name} still has servers {', '.join(users)}: "
                               "delete them first")
            if name == SERVICES_SEGMENT:
                self.daemons.stop(state, "netd")
            segments.delete(self.names, record, services=name == SERVICES_SEGMENT)
            del state.segments[name]
            if name == SERVICES_SEGMENT and state.servers:
                self.daemons.sync_netd(state)
        return True

    # ------------------------------------------------------------------ servers

    def create_server(self, spec: ServerSpec, *, wait: bool = True) -> ServerRecord:
        preflight(self.paths)
        with self._session() as state:
            keys.ensure_keys(self.paths)
            self._server(state, spec, image.ensure_base(self.paths, self.progress))
            forwards = self.daemons.sync_netd(state)
            self._write_access(state)
        # outside the lock: other objects are made while this server boots
        self.daemons.wait(state, "netd", forwards)
        if wait:
            self._wait_servers(state, [spec.name])
        return self.read_server(spec.name)  # type: ignore[return-value]

    def read_server(self, name: str) -> ServerRecord | None:
        state = LabState.load(self.paths, self.settings.prefix)
        r = state.servers.get(name)
        return None if r is None else self._server_record(name, r, Names(state.prefix))

    def delete_server(self, name: str) -> bool:
        """Stop the server and remove it with its disk."""
        with self._session() as state:
            record = state.servers.pop(name, None)
            servers.stop(self.names, self.paths, name, record or {})
            servers.wipe(self.paths, name)
            if record is None:
                return False
            if self.daemons.alive(state, "netd"):
                self.daemons.wait(state, "netd", self.daemons.sync_netd(state))
            self._write_access(state)
        return True

    # ------------------------------------------------------------------ devices

    def create_device(self, spec: DeviceSpec, *, reset: bool = False) -> DeviceRecord:
        """Serve the device; its config file is written from spec only if absent (or reset)."""
        with self._session() as state:
            keys.ensure_keys(self.paths)
            keys.credentials(self.paths)
            self._device(state, spec, reset=reset)
            generation = self.daemons.sync_emulator(state)
            self._write_access(state)
        # outside the lock: devices created meanwhile go live in the same reload
        self.daemons.wait(state, "emulator", generation, devices=[spec.name])
        return self.read_device(spec.name)  # type: ignore[return-value]

    def read_device(self, name: str) -> DeviceRecord | None:
        state = LabState.load(self.paths, self.settings.prefix)
        r = state.devices.get(name)
        if r is None:
            return None
        running = self.daemons.alive(state, "emulator") and r["port"] in listening_ports()
        return self._device_record(name, r, running)

    def delete_device(self, name: str) -> bool:
        """Stop serving the device and forget its config."""
        with self._session() as state:
            if state.devices.pop(name, None) is None:
                return False
            self.paths.device_config(name).unlink(missing_ok=True)
            self.daemons.wait(state, "emulator", self.daemons.sync_emulator(state))
            self._write_access(state)
        return True

    # ------------------------------------------------------------------ internals

    @contextmanager
    def _session(self) -> Iterator[LabState]:
        with locked(self.paths):
            state = LabState.load(self.paths, self.settings.prefix)
            if state.prefix != self.settings.prefix and not state.empty:
                raise LabError(f"{self.paths.state_file}: this lab was made with prefix "
                               f"{state.prefix!r}; run `FAELLESDRIFT_LAB_PREFIX={state.prefix} "
                               "faellesdrift lab down` first")
            state.prefix = self.settings.prefix
            try:
                yield state
            finally:
                state.save(self.paths)
                self._publish_access(state)

    def _segment(self, state: LabState, spec: SegmentSpec,
                 services: ServicesSpec | None) -> None:
        index = state.segments.get(spec.name, {}).get("index")
        if index is None:
            index = _free_index(r["index"] for r in state.segments.values())
        reserved = set(spec.reserved)
        state.segments[spec.name] = segments.create(self.names, spec, index, reserved, services)
        if spec.name == SERVICES_SEGMENT and services is not None:
            state.settings["services"] = {
                "ntp": [str(a) for a in services.ntp], "dns": [str(a) for a in services.dns],
                "syslog": [str(services.syslog[0]), services.syslog[1]],
                "tcp": [[str(a), p] for a, p in services.tcp]}

    def _server(self, state: LabState, spec: ServerSpec, base: Path) -> None:
        seg = state.segments.get(spec.tenant)
        if seg is None or not netns.exists(self.names.router):
            raise LabError(f"server {spec.name}: segment {spec.tenant!r} is not up; "
                           "create the tenant's segment first")
        prefix = next((p for p in seg["prefixes"]
                       if spec.address.ip in IPv4Network(p)), None)
        if prefix is None:
            raise LabError(f"server {spec.name}: address {spec.address} is in none of "
                           f"{spec.tenant}'s networks ({', '.join(seg['prefixes'])})")
        gateway = IPv4Address(seg["gateways"][prefix])
        if spec.address.ip == gateway:
            raise LabError(f"server {spec.name}: address {spec.address.ip} is the lab "
                           f"gateway of {prefix}; add it to the segment's reserved addresses")
        record = state.servers.get(spec.name, {})
        index = record.get("index")
        if index is None:
            index = _free_index(r["index"] for r in state.servers.values())
        ctx = servers.ServerContext(
            names=self.names, paths=self.paths, base=base, bridge=seg["bridge"],
            gateway=gateway,
            dns=tuple(IPv4Address(a) for a in state.settings.get("services", {}).get("dns", [])))
        made = servers.create(ctx, spec, index, record)
        made["loopback"] = str(self.settings.loopback.network_address + index + 1)
        state.servers[spec.name] = made

    def _device(self, state: LabState, spec: DeviceSpec, *, reset: bool) -> None:
        record = state.devices.get(spec.name)
        cfg = self.paths.device_config(spec.name)
        if reset or not cfg.exists():
            write_atomic(cfg, "\n".join(spec.config) + "\n")
        port = record["port"] if record else self._free_port(state)
        state.devices[spec.name] = {
            "tenant": spec.tenant, "platform": spec.platform, "address": str(spec.address),
            "host": "127.0.0.1", "port": port, "config": str(cfg),
            "deviations": list(spec.deviations)}

    def _free_port(self, state: LabState) -> int:
        used = {r["port"] for r in state.devices.values()}
        low, high = self.settings.device_ports
        for port in range(low, high + 1):
            if port not in used and bindable(port):
                return port
        raise LabError(f"no free port left in {low}-{high} for lab devices; "
                       "set FAELLESDRIFT_LAB_PORTS to a wider range")

    def _wait_servers(self, state: LabState, names: list[str]) -> None:
        """Until each server's sshd answers through the forwarder (the operator's path)."""
        pending = {n: state.servers[n] for n in names}
        deadline = time.monotonic() + self.settings.ready_timeout
        while pending:
            for name, r in list(pending.items()):
                if ssh_banner(r["loopback"]):
                    del pending[name]
                elif not procs.alive(r["pid"], servers.marker(self.names, name)):
                    # judged by pid for a server this process started (see procs.alive)
                    log = self.paths.logs / f"server-{name}.log"
                    raise LabError(f"server {name} stopped while booting (log: {log}):\n"
                                   f"{procs.tail(log)}")
            if pending and time.monotonic() > deadline:
                tails = "\n".join(f"{n}:\n{procs.tail(self.paths.logs / f'server-{n}.log', 4)}"
                                  for n in sorted(pending))
                raise LabError(f"servers without sshd after {self.settings.ready_timeout:.0f} s:"
                               f" {', '.join(sorted(pending))} (logs in {self.paths.logs})\n"
                               f"{tails}")
            if pending:
                time.sleep(0.2)

    def _write_access(self, state: LabState) -> None:
        targets = [keys.SshTarget(name=n, aliases=(r["address"].split("/")[0], r["loopback"]),
                                  hostname=r["loopback"], port=22, user=SERVER_USER,
                                  host_key=r["host_key"])
                   for n, r in state.servers.items()]
        if state.devices:
            creds = keys.credentials(self.paths)
            device_key = keys.public_key(self.paths.device_host_key)
            targets += [keys.SshTarget(name=n, aliases=(r["address"],), hostname=r["host"],
                                       port=r["port"], user=creds.username,
                                       host_key=device_key, password_login=True)
                        for n, r in state.devices.items()]
        keys.write_access_files(self.paths, targets)

    def _publish_access(self, state: LabState) -> None:
        """The artefact the network and servers adapters read (never the lab's own files)."""
        pub = self.paths.operator_key.with_name(self.paths.operator_key.name + ".pub")
        write_lab_access(self.paths.root / ACCESS_FILE, LabAccess(
            devices=MappingProxyType({n: DeviceEndpoint(r["host"], int(r["port"]))
                                      for n, r in state.devices.items()}),
            servers=frozenset(state.servers),
            ssh_config=self.paths.ssh_config,
            user=SERVER_USER,
            operator_key=(" ".join(pub.read_text(encoding="utf-8").split()[:2])
                          if pub.is_file() else ""),
            device_credentials=self.paths.credentials))

    @staticmethod
    def _server_record(name: str, r: dict, names: Names) -> ServerRecord:
        running = procs.alive(r.get("pid"), servers.marker(names, name))
        return ServerRecord(name=name, tenant=r["tenant"], address=r["address"],
                            netns=r["netns"], ssh_host=r["loopback"], ssh_port=22,
                            running=running, host_key=r["host_key"],
                            deviations=tuple(r.get("deviations", ())))

    @staticmethod
    def _device_record(name: str, r: dict, running: bool) -> DeviceRecord:
        return DeviceRecord(name=name, tenant=r["tenant"], platform=r["platform"],
                            address=r["address"], host=r["host"], port=r["port"],
                            running=running, config_file=r["config"],
                            deviations=tuple(r.get("deviations", ())))


# ---------------------------------------------------------------------- helpers


def _free_index(used_iter: object) -> int:
    used = set(used_iter)  # type: ignore[call-overload]
    i = 1
    while i in used:
        i += 1
    return i


def _dirs(path: Path) -> list[str]:
    return [p.name for p in path.iterdir() if p.is_dir()] if path.is_dir() else []


def as_json(status: LabStatus) -> str:
    return json.dumps(status.as_dict(), indent=2, default=str)
