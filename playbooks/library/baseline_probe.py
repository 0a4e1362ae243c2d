#!/usr/bin/python
"""What the baseline needs to know about a host, in one round-trip (instead of facts).

Returns the account the run logs in with and its groups, the OS family (from
/etc/os-release), whether the host may set the clock (CAP_SYS_TIME in the
bounding set) and which of the given paths exist. Changes nothing.

It also tells whether the host is exactly as the last apply left it
(``at_baseline``): the last apply recorded (``stamp: true``) the desired state it
applied (``desired``, a hash of the host vars and the playbooks) and a digest of
everything the roles manage — each path's content, owner, group and mode, the
accounts and groups, the services' enabled and active state. When the desired
state is the same and the digest of the host as it is now matches, no role has
anything to do; any local change to a managed file, account or service, or any new
value in the estate, makes the digest or the desired hash differ.
"""

from __future__ import annotations

import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: baseline_probe
short_description: The few host facts the server baseline uses, in one call
description:
  - Reads the login account and its groups, the OS family, CAP_SYS_TIME in the bounding
    set and whether some paths exist. Never changes anything.
options:
  paths:
    description: Paths whose existence is reported.
    type: list
    elements: str
  records:
    description: The directory of the roles' records (baseline_state record=).
    type: str
  desired:
    description: The hash of the desired state (host vars and playbooks) of this run.
    type: str
  stamp:
    description: Record desired and the digest of the host now (after an apply).
    type: bool
author: faellesdrift
"""

CAP_SYS_TIME = 25


def _os_release():
    info = {}
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path) as fh:
                for line in fh:
                    key, sep, value = line.strip().partition("=")
                    if sep:
                        info[key] = value.strip('"')
            break
        except OSError:
            continue
    return info


def _cap_bounding():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("CapBnd:"):
                return int(line.split()[1], 16)
    return 0


STAMP = "stamp.json"


def _digest(module, records):
    """One hash of the state of everything the roles' records name, and of the records."""
    import hashlib
    import json

    h = hashlib.sha256()
    managed = {"paths": set(), "users": set(), "groups": set(), "services": set()}
    for name in sorted(os.listdir(records)) if os.path.isdir(records) else []:
        if not name.endswith(".json") or name == STAMP:
            continue
        with open(os.path.join(records, name), "rb") as fh:
            data = fh.read()
        h.update(name.encode() + b"\0" + data)
        for key, values in json.loads(data).items():
            managed.setdefault(key, set()).update(values)
    if not any(managed.values()):
        return None
    for path in sorted(managed["paths"]):
        try:
            st = os.lstat(path)
        except OSError:
            h.update(("%s absent\n" % path).encode())
            continue
        h.update(("%s %o %d %d\n" % (path, st.st_mode, st.st_uid, st.st_gid)).encode())
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
    members = {}
    for g in grp.getgrall():
        for m in g.gr_mem:
            members.setdefault(m, []).append(g.gr_name)
    for user in sorted(managed["users"]):
        try:
            pw = pwd.getpwnam(user)
            h.update(repr((pw[:7], sorted(members.get(user, [])))).encode())
        except KeyError:
            h.update(("user %s absent\n" % user).encode())
    for group in sorted(managed["groups"]):
        try:
            h.update(repr(tuple(grp.getgrnam(group)[:3])).encode())
        except KeyError:
            h.update(("group %s absent\n" % group).encode())
    if managed["services"]:
        rc, out, _ = module.run_command(["systemctl", "show", "--property",
                                         "Id,LoadState,UnitFileState,ActiveState",
                                         *sorted(managed["services"])])
        h.update(("%d\n%s" % (rc, out)).encode())
    return h.hexdigest()


def _stamp(module, records, desired):
    import json
    import tempfile

    digest = _digest(module, records)
    if module.check_mode or not desired or digest is None:
        return False
    fd, tmp = tempfile.mkstemp(dir=records, prefix=".stamp-")
    with os.fdopen(fd, "w") as fh:
        json.dump({"desired": desired, "digest": digest}, fh)
    os.replace(tmp, os.path.join(records, STAMP))
    return True


def _at_baseline(module, records, desired):
    import json

    if not desired or not records:
        return False
    try:
        with open(os.path.join(records, STAMP)) as fh:
            stamp = json.load(fh)
    except (OSError, ValueError):
        return False
    return stamp.get("desired") == desired and stamp.get("digest") == _digest(module, records)


def main():
    module = AnsibleModule(argument_spec={
        "paths": {"type": "list", "elements": "str", "default": []},
        "records": {"type": "str", "default": ""},
        "desired": {"type": "str", "default": "", "no_log": False},
        "stamp": {"type": "bool", "default": False},
    }, supports_check_mode=True)
    records, desired = module.params["records"], module.params["desired"]
    if module.params["stamp"]:
        module.exit_json(changed=False, stamped=_stamp(module, records, desired))
    uid = os.geteuid()
    user = pwd.getpwuid(uid).pw_name
    groups = sorted({grp.getgrgid(g).gr_name for g in os.getgroups() + [os.getegid()]})
    release = _os_release()
    family_ids = [release.get("ID", "")] + release.get("ID_LIKE", "").split()
    module.exit_json(changed=False, baseline_host={
        "user_id": user,
        "groups": groups,
        "os_family": "Debian" if "debian" in family_ids else release.get("ID", "unknown"),
        "distribution": release.get("PRETTY_NAME", release.get("ID", "unknown")),
        "may_set_clock": bool(_cap_bounding() >> CAP_SYS_TIME & 1),
        "exists": {p: os.path.exists(p) for p in module.params["paths"]},
        "at_baseline": _at_baseline(module, records, desired),
    })


if __name__ == "__main__":
    main()
