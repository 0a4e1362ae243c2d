#!/usr/bin/python
"""Bring a role's files, directories and services to their desired state in one module run.

Each role of the baseline calls this module once, so a host already at the
baseline answers in one round-trip per role. Files are written atomically and
validated before they replace the old ones; a service named in ``services``
is restarted or reloaded when a file that lists it in ``notify`` changed.
Check mode reports the same changes (with diffs) and writes nothing.
"""

from __future__ import annotations

import grp
import os
import pwd
import shlex
import subprocess
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.parsing.convert_bool import boolean

DOCUMENTATION = r"""
module: baseline_state
short_description: The state of one baseline role (files, directories, services) in one call
description:
  - Ensures directories, file contents with owner, group and mode (validated before writing),
    lines at the start of existing files, and systemd services (enabled, started, restarted or
    reloaded when a notifying file changed). Supports check mode and diff mode.
options:
  groups:
    description: Groups that must exist (names).
    type: list
    elements: str
  users:
    description: Accounts that must exist (name, groups added to, home, shell); new ones get no password.
    type: list
    elements: dict
  dirs:
    description: Directories (path, owner, group, mode).
    type: list
    elements: dict
  files:
    description: Files (dest, content, owner, group, mode, validate, notify).
    type: list
    elements: dict
  lines:
    description: Lines that must be in an existing file, inserted first when missing (path, line, validate, notify).
    type: list
    elements: dict
  services:
    description: Services (name, enabled, started, on_change restarted|reloaded, only_if_exists).
    type: list
    elements: dict
  record:
    description: >-
      A file this run records what the role manages in (paths, accounts, groups, services),
      written after a successful apply; baseline_probe digests what the records name.
    type: str
author: faellesdrift
"""

RETURN = r"""
files:
  description: One entry per changed directory, file or line (changed, dest, diff).
  type: list
services:
  description: What was done to each service (enabled, started, restarted, reloaded).
  type: dict
"""


def _ids(owner, group):
    """uid and gid for names, or None where the account does not exist (yet)."""
    try:
        uid = pwd.getpwnam(owner).pw_uid if owner else -1
        gid = grp.getgrnam(group).gr_gid if group else -1
    except KeyError:
        return None
    return uid, gid


def _attrs(path):
    st = os.lstat(path)
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return {"owner": owner, "group": group, "mode": "%04o" % (st.st_mode & 0o7777)}


def _wanted_attrs(spec):
    out = {}
    for key in ("owner", "group", "mode"):
        if spec.get(key) is not None:
            out[key] = spec[key] if key != "mode" else "%04o" % int(str(spec[key]), 8)
    return out


def _attr_diff(path, before, after):
    if not before:
        before_text = "(absent)"
    else:
        before_text = " ".join("%s=%s" % (k, before[k]) for k in sorted(after))
    return {"before": path + ": " + before_text,
            "after": path + ": " + " ".join("%s=%s" % (k, after[k]) for k in sorted(after)),
            "before_header": path, "after_header": path}


class Role:
    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.changed_files = []
        self.notified = set()

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, files=self.changed_files, **extra)

    def _set_attrs(self, path, spec):
        wanted = _wanted_attrs(spec)
        ids = _ids(spec.get("owner"), spec.get("group"))
        if ids is None:
            self.fail("%s: owner %s or group %s does not exist"
                      % (path, spec.get("owner"), spec.get("group")))
        os.chown(path, ids[0], ids[1])
        if "mode" in wanted:
            os.chmod(path, int(wanted["mode"], 8))

    def directory(self, spec):
        path = spec["path"]
        wanted = _wanted_attrs(spec)
        exists = os.path.isdir(path)
        before = _attrs(path) if exists else {}
        if exists and all(before.get(k) == v for k, v in wanted.items()):
            return
        if not self.check:
            if not exists:
                os.makedirs(path)
            self._set_attrs(path, spec)
        self.changed_files.append({"changed": True, "dest": path,
                                   "diff": _attr_diff(path, before, wanted)})

    def _validate(self, command, path):
        if not command:
            return
        argv = shlex.split(command.replace("%s", shlex.quote(path)))
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            self.fail("validation of %s failed (%s): %s" % (path, command, (err or out).strip()))

    def _write(self, dest, content, spec):
        directory = os.path.dirname(dest) or "."
        fd, tmp = tempfile.mkstemp(prefix=".fd-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            self._set_attrs(tmp, spec)
            self._validate(spec.get("validate"), tmp)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def file(self, spec):
        dest = spec["dest"]
        content = spec["content"].encode("utf-8")
        wanted = _wanted_attrs(spec)
        exists = os.path.isfile(dest)
        old = b""
        before = {}
        if exists:
            with open(dest, "rb") as fh:
                old = fh.read()
            before = _attrs(dest)
        same_content = exists and old == content
        same_attrs = exists and all(before.get(k) == v for k, v in wanted.items())
        if same_content and same_attrs:
            return
        if self.check:
            if not same_content and spec.get("validate") and _ids(
                    spec.get("owner"), spec.get("group")) is not None:
                self._check_validate(content, spec, dest)
        elif same_content:
            self._set_attrs(dest, spec)
        else:
            self._write(dest, content, spec)
        if same_content:
            diff = _attr_diff(dest, before, wanted)
        else:
            diff = {"before": old.decode("utf-8", "replace"),
                    "after": content.decode("utf-8", "replace"),
                    "before_header": dest, "after_header": dest}
        self.changed_files.append({"changed": True, "dest": dest, "diff": diff})
        self.notified.update(spec.get("notify") or [])

    def _check_validate(self, content, spec, dest):
        """In check mode, validate the new content in a temporary file (nothing replaced)."""
        fd, tmp = tempfile.mkstemp(prefix=".fd-check-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            self._validate(spec.get("validate"), tmp)
        finally:
            os.unlink(tmp)

    def line(self, spec):
        path, line = spec["path"], spec["line"]
        try:
            with open(path, "rb") as fh:
                old = fh.read().decode("utf-8")
        except OSError as exc:
            self.fail("%s: cannot read (%s)" % (path, exc))
        if line in old.splitlines():
            return
        new = line + "\n" + old
        if not self.check:
            st = os.stat(path)
            directory = os.path.dirname(path) or "."
            fd, tmp = tempfile.mkstemp(prefix=".fd-", dir=directory)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(new.encode("utf-8"))
                os.chown(tmp, st.st_uid, st.st_gid)
                os.chmod(tmp, st.st_mode & 0o7777)
                self._validate(spec.get("validate"), tmp)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        self.changed_files.append({"changed": True, "dest": path, "diff": {
            "before": old, "after": new, "before_header": path, "after_header": path}})
        self.notified.update(spec.get("notify") or [])

    def group(self, name):
        try:
            grp.getgrnam(name)
            return
        except KeyError:
            pass
        if not self.check:
            self._run(["groupadd", name])
        self.changed_files.append({"changed": True, "dest": None, "diff": {
            "before": "group %s: absent" % name, "after": "group %s: present" % name}})

    def user(self, spec):
        name = spec["name"]
        wanted = list(spec.get("groups") or [])
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            entry = None
        if entry is None:
            if not self.check:
                argv = ["useradd", "--create-home", "--home-dir", spec["home"],
                        "--shell", spec["shell"]]
                if wanted:
                    argv += ["--groups", ",".join(wanted)]
                self._run(argv + [name])
            self.changed_files.append({"changed": True, "dest": None, "diff": {
                "before": "user %s: absent" % name,
                "after": "user %s: present, groups %s" % (name, ",".join(wanted))}})
            return
        have = {g.gr_name for g in grp.getgrall() if name in g.gr_mem}
        missing = [g for g in wanted if g not in have]
        if not missing:
            return
        if not self.check:
            self._run(["usermod", "--append", "--groups", ",".join(missing), name])
        self.changed_files.append({"changed": True, "dest": None, "diff": {
            "before": "user %s: groups %s" % (name, ",".join(sorted(have))),
            "after": "user %s: groups %s" % (name, ",".join(sorted(have | set(missing))))}})

    def _run(self, argv):
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            self.fail("%s failed (rc %s): %s" % (" ".join(argv), rc, (err or out).strip()))

    def _systemctl(self, *args):
        return self.module.run_command(["systemctl"] + list(args))

    def service(self, spec, done):
        name = spec["name"]
        if spec.get("only_if_exists") and not os.path.exists(spec["only_if_exists"]):
            done[name] = ["absent: not managed"]
            return False
        actions = []
        if boolean(spec.get("enabled", False)):
            rc, out, _ = self._systemctl("is-enabled", name)
            if out.strip() not in ("enabled", "enabled-runtime", "static", "alias", "indirect"):
                actions.append("enable")
        restart = spec.get("on_change") if name in self.notified else None
        if boolean(spec.get("started", False)):
            rc, out, _ = self._systemctl("is-active", name)
            if out.strip() != "active" and not restart:
                actions.append("start")
        if restart:
            actions.append({"restarted": "restart", "reloaded": "reload"}[restart])
        if not actions:
            done[name] = []
            return False
        if not self.check:
            for action in actions:
                rc, out, err = self._systemctl(action, name)
                if rc != 0:
                    self.fail("systemctl %s %s failed: %s" % (action, name,
                                                              (err or out).strip()))
        done[name] = actions
        return True


def _expand(specs):
    """A spec with ``for_each`` stands for one spec per item, ``{item}`` filled in."""
    out = []
    for spec in specs:
        items = spec.get("for_each")
        if items is None:
            out.append(spec)
            continue
        for item in items:
            out.append({k: v.replace("{item}", item) if isinstance(v, str) else v
                        for k, v in spec.items() if k != "for_each"})
    return out


def _record(path, params):
    """What this role manages, for baseline_probe's digest of the host's baseline state."""
    import json

    users = _expand(params["users"])
    managed = {
        "paths": sorted({s["path"] for s in _expand(params["dirs"])}
                        | {s["dest"] for s in _expand(params["files"])}
                        | {s["path"] for s in params["lines"]}
                        | {s["home"] for s in users if s.get("home")}),
        "users": sorted(s["name"] for s in users),
        "groups": sorted(set(params["groups"]) | {g for s in users for g in s.get("groups") or []}),
        "services": sorted(s["name"] for s in params["services"]),
    }
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".record-")
    with os.fdopen(fd, "w") as fh:
        json.dump(managed, fh, sort_keys=True)
    os.replace(tmp, path)


def main():
    module = AnsibleModule(
        argument_spec={
            "groups": {"type": "list", "elements": "str", "default": []},
            "users": {"type": "list", "elements": "dict", "default": []},
            "dirs": {"type": "list", "elements": "dict", "default": []},
            "files": {"type": "list", "elements": "dict", "default": []},
            "lines": {"type": "list", "elements": "dict", "default": []},
            "services": {"type": "list", "elements": "dict", "default": []},
            "record": {"type": "str", "default": None},
        },
        supports_check_mode=True,
    )
    role = Role(module)
    for name in module.params["groups"]:
        role.group(name)
    for spec in _expand(module.params["users"]):
        role.user(spec)
    for spec in _expand(module.params["dirs"]):
        role.directory(spec)
    for spec in module.params["lines"]:
        role.line(spec)
    for spec in _expand(module.params["files"]):
        role.file(spec)
    services = {}
    service_changed = False
    for spec in module.params["services"]:
        service_changed = role.service(spec, services) or service_changed
    changed = bool(role.changed_files) or service_changed
    if module.params["record"] and not module.check_mode:
        _record(module.params["record"], module.params)
    diff = [f["diff"] for f in role.changed_files]
    module.exit_json(changed=changed, files=role.changed_files, services=services,
                     dest=", ".join(f["dest"] for f in role.changed_files if f["dest"]) or None,
                     diff=diff)


if __name__ == "__main__":
    main()
