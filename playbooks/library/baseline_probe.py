#!/usr/bin/python
"""What the baseline needs to know about a host, in one round-trip (instead of facts).

Returns the account the run logs in with and its groups, the OS family (from
/etc/os-release), whether the host may set the clock (CAP_SYS_TIME in the
bounding set) and which of the given paths exist. Changes nothing.
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


def main():
    module = AnsibleModule(argument_spec={"paths": {"type": "list", "elements": "str",
                                                    "default": []}},
                           supports_check_mode=True)
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
    })


if __name__ == "__main__":
    main()
