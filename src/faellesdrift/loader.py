"""The only place that reads tenant and standards YAML.

Defends against hostile files before anything else sees them: size cap,
duplicate keys, alias bombs, non-mapping documents. Every problem becomes a
Finding with file, line and field; nothing raises to the caller.

Two parsers, one job each: yaml-rs (Rust, YAML 1.2, ~15x faster than
PyYAML's C loader, refuses duplicate keys, caps alias expansion) reads every
file; PyYAML's composer is only used when something is wrong, to name the
rule and the line (its node graph has line marks; alias expansion is counted
on the graph, never by expanding it). YAML 1.2 also means an unquoted
``code: 0741`` is the number 741, not the YAML 1.1 octal 481.
"""

from __future__ import annotations

import os
import stat
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml
import yaml_rs
from pydantic import BaseModel, ValidationError

from faellesdrift.findings import Finding
from faellesdrift.model import explain_mismatch

MAX_BYTES = 5 * 1024 * 1024
MAX_EXPANDED_NODES = 2_000_000
_ALIAS_LIMITS = yaml_rs.AliasLimits(max_total_replayed_events=MAX_EXPANDED_NODES)

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
M = TypeVar("M", bound=BaseModel)


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader (C parser when available) that refuses duplicate keys."""

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = key_node.value
            if key in seen:
                raise _DuplicateKey(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_yaml_map
)


class Document:
    """A parsed YAML mapping; its line-marked node graph is built only when asked for."""

    def __init__(self, path: Path, display: str, data: dict, text: str) -> None:
        self.path, self.display, self.data, self._text = path, display, data, text

    @cached_property
    def node(self) -> yaml.Node:
        return yaml.compose(self._text, Loader=_Loader)

    def line_of(self, loc: tuple) -> int | None:
        return _line_of(self.node, loc)


def _finding(display: str, rule: str, message: str, fix: str, line: int | None = None,
             field: str = "") -> Finding:
    return Finding(rule=rule, severity="error", file=display, message=message, fix=fix,
                   line=line, field=field)


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """Number of nodes the document would have with every alias expanded (memoised)."""
    memo: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        cached = memo.get(id(node))
        if cached is not None:
            return cached
        memo[id(node)] = 1  # cycles count once
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(v) for v in node.value)
        else:
            total = 1
        memo[id(node)] = min(total, limit + 1)
        return memo[id(node)]

    return size(root)


def _read_regular(path: Path, display: str) -> bytes | Finding:
    """The bytes of a regular file, at most MAX_BYTES: FIFOs, devices and directories are
    refused without blocking, and the size is checked on what is read, not on stat()."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        return _finding(display, "file.unreadable", exc.strerror or str(exc),
                        "check the path and its permissions")
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket")
            return _finding(display, "file.not-regular", f"is {kind}, not a regular file",
                            "keep only YAML files in tenants/")
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        return _finding(display, "file.unreadable", exc.strerror or str(exc),
                        "check the path and its permissions")
    finally:
        os.close(fd)
    if size > MAX_BYTES:
        return _finding(display, "file.too-large", "over the 5 MB limit",
                        "split the file or remove generated content")
    return b"".join(chunks)


def read_document(path: Path, display: str | None = None) -> Document | Finding:
    display = display or str(path)
    raw = _read_regular(path, display)
    if isinstance(raw, Finding):
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _finding(display, "file.encoding", f"not UTF-8 ({exc.reason} at byte {exc.start})",
                        "save the file as UTF-8")
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    nul = text.find("\x00")
    if nul >= 0:
        return _finding(display, "file.nul-byte", "contains a NUL byte, which hides what "
                        "follows it from some tools", "remove the NUL byte (save as plain text)",
                        text.count("\n", 0, nul) + 1)
    try:
        data = yaml_rs.loads(text, alias_limits=_ALIAS_LIMITS)
    except yaml_rs.YAMLDecodeError as exc:
        return _diagnose(text, display, str(exc))
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        return _finding(display, "yaml.not-a-mapping",
                        f"the top level is {kind}, not a mapping of fields",
                        "the file must be `key: value` lines, e.g. `code: \"0751\"`", line=1)
    return Document(path, display, data, text)


def _diagnose(text: str, display: str, fast_error: str) -> Finding:
    """The fast parser refused the file: find the rule and the line with PyYAML's composer."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return _finding(display, "yaml.not-a-mapping", "the file is empty",
                            "start from `faellesdrift tenant new CODE`")
        if "&" in text and _expanded_size(node, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES:
            return _finding(display, "yaml.alias-bomb",
                            "aliases expand to more than 2,000,000 nodes",
                            "remove the anchors (&) and aliases (*)",
                            line=node.start_mark.line + 1)
        loader.construct_document(node)
    except _DuplicateKey as exc:
        mark = exc.problem_mark
        return _finding(display, "yaml.duplicate-key", exc.problem or "duplicate key",
                        "keep one of the two entries", line=mark.line + 1 if mark else None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return _finding(display, "yaml.syntax", f"{exc.problem or exc.context}",
                        "fix the YAML syntax (indentation, quotes, colons)",
                        line=mark.line + 1 if mark else None)
    except yaml.YAMLError as exc:
        return _finding(display, "yaml.syntax", str(exc).splitlines()[0], "fix the YAML syntax")
    except RecursionError:
        return _finding(display, "yaml.too-deep", "nesting is too deep", "flatten the document")
    finally:
        loader.dispose()
    message = fast_error.strip().splitlines()[0] if fast_error.strip() else "not valid YAML"
    return _finding(display, "yaml.syntax", message, "fix the YAML syntax")


def _line_of(node: yaml.Node, loc: tuple) -> int | None:
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                return line
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_TYPE_HINTS = {
    "missing": ("schema.missing-field", "add the field; see schemas/ for what it holds"),
    "extra_forbidden": ("schema.unknown-field",
                        "remove it or fix its spelling; schemas/ lists the allowed fields"),
}


def _rule_for(error: dict) -> tuple[str, str]:
    kind = error["type"]
    if kind in _TYPE_HINTS:
        return _TYPE_HINTS[kind]
    if "." in kind:  # our own PydanticCustomError types are rule ids
        return kind, "change the value as the message says"
    if kind.endswith(("_type", "_parsing")) or kind in {"literal_error", "enum"}:
        return "schema.type", "use the type the schema expects"
    return "schema.value", "use a value the schema allows"


def _explained(error: dict) -> dict:
    """A regex mismatch on one of the model's own patterns, as the model's own rule."""
    if error["type"] != "string_pattern_mismatch":
        return error
    ours = explain_mismatch(error.get("ctx", {}).get("pattern", ""), error.get("input"))
    if ours is None:
        return error
    return {**error, "type": ours.type, "msg": ours.message()}


def validate_document(doc: Document, model: type[M]) -> tuple[M | None, list[Finding]]:
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        findings = []
        for error in exc.errors(include_url=False):
            error = _explained(error)
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
            rule, fix = _rule_for(error)
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = f"unknown field {loc[-1]!r}"
            elif error["type"] not in _TYPE_HINTS and "input" in error:
                shown = repr(error["input"])
                message = f"{message} (got {shown[:60]})"
            findings.append(_finding(doc.display, rule, message, fix,
                                     line=doc.line_of(loc), field=field_path(loc)))
        return None, findings


def load_model(path: Path, model: type[M], display: str | None = None
               ) -> tuple[M | None, list[Finding]]:
    doc = read_document(path, display)
    if isinstance(doc, Finding):
        return None, [doc]
    return validate_document(doc, model)
