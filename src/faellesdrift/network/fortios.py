"""FortiOS configs as path lines, and path lines back into FortiOS CLI.

FortiOS prints nested ``config``/``edit`` blocks closed by ``end``/``next``.
For comparison every leaf statement becomes one line carrying its path::

    config system ntp / config ntpserver / edit 1 / set server "10.250.0.123"

so compliance compares leaves (a changed server in entry 1 is one line, not a
whole section) and a control owns the lines under its top-level section.
Remediation turns path lines back into blocks: ``set`` replaces a value in
place, ``unset`` clears a setting of an entry that stays, ``delete`` removes an
entry the intended config does not have.
"""

from __future__ import annotations

SEP = " / "
NEWLINE = "\\n"  # a line break inside a quoted value, as a path line carries it
_PATH_WORDS = ("config ", "edit ")
INDENT = "    "


def _statements(text: str) -> list[str]:
    """Stripped statements; a quoted value spanning lines is joined into one."""
    out: list[str] = []
    pending: list[str] = []
    for raw in text.split("\n"):
        if pending:
            pending.append(raw)
            if raw.count('"') % 2:
                out.append("\n".join(pending).strip())
                pending = []
            continue
        s = raw.strip()
        if s.count('"') % 2:
            pending = [raw]
            continue
        out.append(s)
    if pending:  # an unterminated quote (a truncated read): what was read
        out.append("\n".join(pending).strip())
    return out


def path_lines(text: str) -> list[str]:
    """A FortiOS config (``show`` output) as one path line per leaf statement.

    Comments (``#config-version=…``) are dropped; an entry or section without
    statements is one line of its own, so an empty ``edit`` is still seen.
    """
    out: list[str] = []
    path: list[str] = []
    filled: list[bool] = []
    for s in _statements(text):
        if not s or s.startswith("#"):
            continue
        if s.startswith(_PATH_WORDS):
            path.append(s)
            filled.append(False)
            continue
        if s in ("next", "end"):
            if path:
                if not filled[-1]:
                    out.append(SEP.join(path))
                path.pop()
                filled.pop()
                if filled:
                    filled[-1] = True
            continue
        out.append(SEP.join([*path, s.replace("\n", NEWLINE)]))
        if filled:
            filled[-1] = True
    return out


def split(line: str) -> tuple[list[str], str]:
    """A path line as (path, leaf); the leaf is "" when the line is a path only."""
    parts: list[str] = []
    rest = line
    while rest.startswith(_PATH_WORDS):
        head, sep, tail = rest.partition(SEP)
        parts.append(head)
        if not sep:
            return parts, ""
        rest = tail
    return parts, rest


def cli(lines: list[str]) -> list[str]:
    """Path lines as the commands that configure them (indented as FortiOS prints)."""
    out: list[str] = []
    open_: list[str] = []
    for line in lines:
        path, leaf = split(line)
        common = 0
        while common < min(len(open_), len(path)) and open_[common] == path[common]:
            common += 1
        while len(open_) > common:
            out.append(INDENT * (len(open_) - 1) + _close(open_.pop()))
        for p in path[common:]:
            out.append(INDENT * len(open_) + p)
            open_.append(p)
        if leaf:
            out.append(INDENT * len(open_) + leaf.replace(NEWLINE, "\n"))
    while open_:
        out.append(INDENT * (len(open_) - 1) + _close(open_.pop()))
    return out


def _close(opened: str) -> str:
    return "next" if opened.startswith("edit ") else "end"


def _key(leaf: str) -> str:
    """``set server "x"`` → ``server``: what a set statement sets."""
    words = leaf.split()
    return words[1] if len(words) > 1 and words[0] in ("set", "unset") else leaf


def plan(missing: list[str], extra: list[str], wanted: list[str]) -> list[str]:
    """The path lines that make a device's lines ``wanted``: additions, then removals.

    An extra ``set`` whose setting is also wanted at that path is replaced by the
    addition, never cleared; an extra setting of an entry that stays is unset;
    an entry the intended config lacks is deleted from its table once.
    """
    wanted_paths: set[tuple[str, ...]] = set()
    wanted_keys: set[tuple[tuple[str, ...], str]] = set()
    for line in [*wanted, *missing]:
        path, leaf = split(line)
        for i in range(1, len(path) + 1):
            wanted_paths.add(tuple(path[:i]))
        if leaf:
            wanted_keys.add((tuple(path), _key(leaf)))
    removals: list[str] = []
    for line in extra:
        path, leaf = split(line)
        if leaf and (tuple(path), _key(leaf)) in wanted_keys:
            continue  # the same setting with the wanted value: set in place
        entry = next((i for i in range(len(path)) if path[i].startswith("edit ")
                      and tuple(path[:i + 1]) not in wanted_paths), None)
        if entry is not None:
            name = path[entry].removeprefix("edit ")
            removal = SEP.join([*path[:entry], f"delete {name}"])
        elif leaf.startswith("set "):
            removal = SEP.join([*path, f"unset {_key(leaf)}"])
        else:
            continue
        if removal not in removals:
            removals.append(removal)
    return [*missing, *removals]
