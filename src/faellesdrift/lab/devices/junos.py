"""Junos-style config: a list of set statements (without the leading "set").

`set X` adds X (replacing the old value of single-valued leaves), `delete X`
removes X and everything below it. `show configuration` renders the familiar
braces; `| display set` gives the statements back.
"""

from __future__ import annotations

import shlex

SINGLE = ("system host-name ", "system domain-name ", "system time-zone ",
          "snmp location ", "snmp contact ", "system root-authentication encrypted-password ",
          "system login message ")
# keywords whose next word names the node (`community public { ... }`)
NAMED = {"unit", "family", "community", "host", "server", "user", "group", "term",
         "policy-statement", "filter", "address", "zone", "security-zone", "from-zone",
         "to-zone", "policy", "client", "trap-group", "file", "neighbor", "source-address",
         "destination-address", "application", "prefix-list", "route", "class", "name-server"}
# containers: never "key value;" leaves even when one word follows
CONTAINERS = {"system", "services", "protocols", "snmp", "interfaces", "vlans", "security",
              "policy-options", "routing-options", "forwarding-options", "login", "syslog",
              "ntp", "routing-instances", "firewall", "chassis"}


def _matches(existing: str, target: str) -> bool:
    return existing == target or existing.startswith(target + " ")


def set_statement(lines: list[str], stmt: str) -> list[str]:
    keys = [k for k in SINGLE if stmt.startswith(k)]
    kept = [ln for ln in lines if not (keys and ln.startswith(max(keys, key=len)))]
    return kept if stmt in kept else kept + [stmt]


def delete_statement(lines: list[str], stmt: str) -> list[str]:
    return [ln for ln in lines if not _matches(ln, stmt)]


def _groups(stmt: str) -> list[str]:
    try:
        words = shlex.split(stmt)
    except ValueError:
        words = stmt.split()
    words = [f'"{w}"' if " " in w else w for w in words]
    groups, i = [], 0
    while i < len(words):
        if words[i] in NAMED and i + 1 < len(words):
            groups.append(f"{words[i]} {words[i + 1]}")
            i += 2
        else:
            groups.append(words[i])
            i += 1
    single = " " not in groups[-1] or groups[-1].startswith('"')
    if len(groups) >= 2 and single and " " not in groups[-2] \
            and groups[-2] not in NAMED and groups[-2] not in CONTAINERS:
        groups[-2:] = [f"{groups[-2]} {groups[-1]}"]
    return groups


def render(lines: list[str]) -> str:
    """Set statements as a Junos brace hierarchy."""
    tree: dict[str, dict] = {}
    for stmt in lines:
        node = tree
        for group in _groups(stmt):
            node = node.setdefault(group, {})
    out: list[str] = []

    def walk(node: dict[str, dict], depth: int) -> None:
        pad = "    " * depth
        for key, child in node.items():
            if child:
                out.append(f"{pad}{key} {{")
                walk(child, depth + 1)
                out.append(f"{pad}}}")
            else:
                out.append(f"{pad}{key};")

    walk(tree, 0)
    return "\n".join(out)


def display_set(lines: list[str]) -> str:
    return "\n".join(f"set {ln}" for ln in lines)


def compare(active: list[str], candidate: list[str]) -> str:
    removed = [f"- set {ln}" for ln in active if ln not in candidate]
    added = [f"+ set {ln}" for ln in candidate if ln not in active]
    return "\n".join(removed + added)
