"""FortiOS-style running config (fortinet): nested ``config``/``edit`` blocks.

``config X`` opens a section (created when new), ``edit N`` an entry of its
table, ``set K …`` sets one setting (replacing its value), ``unset K`` clears
it, ``delete N`` removes an entry, ``next`` closes an entry and ``end`` a
section — as the FortiGate CLI does; ``show`` prints the blocks indented by
four spaces per level.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INDENT = "    "


@dataclass
class Node:
    settings: dict[str, str] = field(default_factory=dict)  # key -> the whole `set` statement
    entries: dict[str, Node] = field(default_factory=dict)  # `edit NAME`
    sections: dict[str, Node] = field(default_factory=dict)  # `config NAME`


def key(statement: str) -> str:
    """``set server "x"`` → ``server``."""
    words = statement.split()
    return words[1] if len(words) > 1 else statement


def parse(lines: list[str]) -> Node:
    root = Node()
    stack = [root]
    for raw in lines:
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        node = stack[-1]
        if s.startswith("config "):
            stack.append(node.sections.setdefault(s[len("config "):], Node()))
        elif s.startswith("edit "):
            stack.append(node.entries.setdefault(s[len("edit "):], Node()))
        elif s in ("next", "end"):
            if len(stack) > 1:
                stack.pop()
        elif s.startswith("set "):
            node.settings[key(s)] = s
    return root


def dump(node: Node, depth: int = 0) -> list[str]:
    pad = INDENT * depth
    out = [pad + s for s in node.settings.values()]
    for name, entry in node.entries.items():
        out += [f"{pad}edit {name}", *dump(entry, depth + 1), f"{pad}next"]
    for name, section in node.sections.items():
        out += [f"{pad}config {name}", *dump(section, depth + 1), f"{pad}end"]
    return out


def walk(root: Node, path: list[tuple[str, str]]) -> Node:
    """The node at ``path`` ((``config``|``edit``, name) pairs), created when missing."""
    node = root
    for kind, name in path:
        table = node.sections if kind == "config" else node.entries
        node = table.setdefault(name, Node())
    return node


def section(root: Node, name: str) -> list[str]:
    """``show system ntp``: one top-level section as the device prints it."""
    if name not in root.sections:
        return []
    return [f"config {name}", *dump(root.sections[name], 1), "end"]
