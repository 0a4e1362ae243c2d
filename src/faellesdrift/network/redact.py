"""Secrets never reach disk, logs or reports: one module every writer calls.

The rules live in secret_rules.py (one per command family). Here they are run
one line at a time, so the work is linear in the size of the config: a line is
only looked at closely when it holds a word a secret can follow, and each rule
is anchored at the start of that line.

A secret is replaced by a marker and nothing else changes: keywords,
encryption types, quotes and the line count stay, so a redacted backup keeps
the device's tree. With a key (backups), the marker is a keyed hash prefix —
the same secret gives the same marker in every run, so a backup diff shows a
rotated secret without showing either value, and a weak secret (``public``)
cannot be guessed back without the key. Without a key (logs, reports, JSON)
the marker is the constant ``<redacted>``.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

from faellesdrift.network.configtext import banner_lines, unix_lines
from faellesdrift.network.secret_rules import (
    LINE_RULES,
    MULTILINE_FAMILY,
    MULTILINE_SECRET,
    SECRET_DATA_FAMILY,
    TRIGGER,
    URL_CREDENTIALS,
    URL_FAMILY,
    WORD_RULES,
)

MARK = "<redacted>"
_MARK_PREFIX = "<redacted"
JUNOS = "juniper_junos"

Span = tuple[int, int, str]  # start, end, family

_JUNOS_WORD = re.compile(r'"(?:[^"\\]|\\.)*"|#.*|[{};]|[^\s;{}"]+')
_JUNOS_LEAD = ("set", "delete", "deactivate", "activate")
_RULES_BY_KEYWORD: dict[str, tuple] = {}
for _rule in WORD_RULES:
    _RULES_BY_KEYWORD[_rule.keyword] = (*_RULES_BY_KEYWORD.get(_rule.keyword, ()), _rule)


def marker(secret: str, key: bytes | None) -> str:
    """The placeholder for one secret value."""
    if key is None:
        return MARK
    digest = hashlib.blake2b(secret.encode("utf-8", "surrogatepass"), key=key[:64],
                             digest_size=6)  # keyed BLAKE2: a MAC, and cheap per secret
    return f"<redacted:{digest.hexdigest()}>"


def load_key(path: Path) -> bytes:
    """The keyed-hash key of a backup repository, created (mode 0600) on first use.

    Written to a private temporary file and linked into place, so two runs that
    start together both end up with the one key that won.
    """
    if path.is_file():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(32))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another run made it first: use theirs
    finally:
        tmp.unlink()
    return path.read_bytes()


def _is_junos_line(line: str) -> bool:
    """Junos prints set form unindented and brace form ending in ``;``/``{``/``}``; an
    indented ``set`` without those is FortiOS."""
    s = line.strip()
    return ((s.startswith(("set ", "delete ", "deactivate ")) and line[:1] not in (" ", "\t"))
            or s.endswith((";", "{", "}")) or "## SECRET-DATA" in s)


def _multiline_spans(lines: list[str]) -> dict[int, list[Span]]:
    """FortiOS values over several lines (``set private-key "…``): the lines inside.

    PEM armour lines (``-----BEGIN …``/``-----END …``) are not secret and stay.
    """
    out: dict[int, list[Span]] = {}
    starts = [i for i, line in enumerate(lines) if "private-key" in line
              and MULTILINE_SECRET.match(line)]
    for start in starts:
        for j in range(start + 1, len(lines)):
            line = lines[j].removesuffix("\r")
            close = line.find('"')
            body = line if close < 0 else line[:close]
            if body.strip() and not body.lstrip().startswith("-----"):
                lead = len(body) - len(body.lstrip())
                out.setdefault(j, []).append((lead, len(body.rstrip()), MULTILINE_FAMILY))
            if close >= 0:
                break
    return out


def _ios_spans(line: str, top: Callable[[], str], platform: str | None) -> list[Span]:
    spans: list[Span] = []
    for rule in LINE_RULES:
        if rule.needle not in line or (platform is not None and platform not in rule.platforms):
            continue
        m = rule.regex.match(line)
        if m is None or (rule.parent_regex is not None and not rule.parent_regex.match(top())):
            continue
        spans += [(m.start(g), m.end(g), rule.family)
                  for g, v in m.groupdict().items() if v is not None]
    return spans


def _top_of(lines: list[str], i: int) -> str:
    """The top-level line a line belongs to (itself when it is not indented)."""
    while i > 0 and lines[i][:1] in (" ", "\t"):
        i -= 1
    return lines[i]


class _JunosPath:
    """The curly-brace path of the statement being read (empty in set form)."""

    def __init__(self) -> None:
        self.stack: list[list[str]] = []

    def spans(self, line: str) -> list[Span]:
        spans: list[Span] = []
        words: list[str] = []
        pending: tuple[str, int, int] | None = None  # last word, where it is
        secret_data = "## SECRET-DATA" in line
        found = False
        for m in _JUNOS_WORD.finditer(line):
            tok = m.group(0)
            if tok.startswith("#"):
                break
            if tok == "{":
                self.stack.append(words)
                words, pending = [], None
                continue
            if tok == "}":
                if self.stack:
                    self.stack.pop()
                words, pending = [], None
                continue
            if tok == ";":
                if secret_data and not found and pending:
                    spans.append((pending[1], pending[2], SECRET_DATA_FAMILY))
                    found = True
                words, pending = [], None
                continue
            family = self._family(words, tok, line[:1] in (" ", "\t")) if words else None
            if family:
                spans.append((m.start(), m.end(), family))
                found = True
            words.append(tok)
            pending = (tok, m.start(), m.end())
        return spans

    def _family(self, words: list[str], tok: str, indented: bool) -> str | None:
        """The family of the rule that makes ``tok`` (after ``words``) a secret, if any."""
        for rule in _RULES_BY_KEYWORD.get(words[-1], ()):
            if rule.not_number and tok.isdigit():
                continue
            if rule.after is not None and (len(words) < 2 or words[-2] != rule.after):
                continue
            path = [w for p in self.stack for w in p] + words[:-1]
            if path and path[0] in _JUNOS_LEAD:
                path = path[1:]
            if rule.under is not None and rule.under not in path:
                continue
            fragment = indented and not path  # a lone indented line: its parent is unknown
            if rule.first is not None and not fragment and (not path or path[0] != rule.first):
                continue
            return rule.family
        return None


def line_spans(lines: list[str], platform: str | None = None,
               banner: set[int] | None = None) -> Iterable[tuple[int, list[Span]]]:
    """For every line holding a secret: its index and the secret spans (start, end, family).

    Lines in ``banner`` (banner text, computed when not given) are free text and skipped.
    """
    junos_only = platform == JUNOS
    braces = platform in (None, JUNOS)  # a brace line can carry the path to a secret
    search = TRIGGER.search
    candidates = [i for i, line in enumerate(lines)
                  if line and (search(line) or (braces and ("{" in line or "}" in line)))]
    multi = _multiline_spans(lines) if platform in (None, "fortinet") else {}
    if not candidates and not multi:
        return
    skip = banner if banner is not None else (set() if junos_only else banner_lines(lines))
    junos = _JunosPath()
    if braces and any("{" in lines[i] for i in candidates):
        # curly-brace form: a statement's path needs every line that opens a block
        candidates = [i for i, line in enumerate(lines) if line]
    for i in candidates:
        if i in skip:
            continue
        line = lines[i].removesuffix("\r")
        if junos_only or (platform is None and _is_junos_line(line)):
            spans = junos.spans(line)
        else:
            spans = _ios_spans(line, lambda i=i: _top_of(lines, i), platform)
        if "://" in line:
            spans += [(m.start("s"), m.end("s"), URL_FAMILY)
                      for m in URL_CREDENTIALS.finditer(line)]
        spans += multi.pop(i, [])
        if spans:
            yield i, spans
    yield from sorted(multi.items())


def _apply(line: str, spans: list[Span], key: bytes | None) -> str:
    out, pos = [], 0
    for start, end, _family in sorted(spans):
        if start < pos:
            continue  # two rules on one token: the first one replaced it
        tok = line[start:end]
        quoted = len(tok) >= 2 and tok[0] == tok[-1] == '"'
        value = tok[1:-1] if quoted else tok
        if value.startswith(_MARK_PREFIX):
            new = tok  # already redacted: the marker stays as it is
        else:
            new = f'"{marker(value, key)}"' if quoted else marker(value, key)
        out += [line[pos:start], new]
        pos = end
    out.append(line[pos:])
    return "".join(out)


def redact(text: str, platform: str | None = None, key: bytes | None = None) -> str:
    """The text with every secret the catalogue knows replaced by its marker.

    ``platform`` (a netmiko device type) picks the rules; without it each line
    is read as Junos (``set …``, ``…;``, braces) or as IOS-like.
    """
    lines = text.split("\n")
    _redact_in_place(lines, platform, key)
    return "\n".join(lines)


def _redact_in_place(lines: list[str], platform: str | None, key: bytes | None) -> set[int]:
    """Redact ``lines``; returns the indexes of banner lines (found on the way)."""
    banner = set() if platform == JUNOS else banner_lines(lines)
    for i, spans in line_spans(lines, platform, banner):
        lines[i] = _apply(lines[i], spans, key)
    return banner


def redact_lines(lines: list[str] | tuple[str, ...], platform: str | None = None) -> list[str]:
    return [redact(line, platform) for line in lines]


def explain(text: str, platform: str | None = None) -> list[tuple[int, str]]:
    """(line number from 1, family) for every secret found: what redaction would replace."""
    return [(i + 1, family) for i, spans in line_spans(text.split("\n"), platform)
            for _s, _e, family in spans]


# Lines that change on every read without a config change: dropped from backups.
_VOLATILE = re.compile(
    r"(?:! Last configuration change.*|! NVRAM config last updated.*|## Last commit.*"
    r"|## Last changed.*|! Time: .*|!Time: .*|!Running configuration last done at.*"
    r"|Building configuration.*|Current configuration : \d+ bytes)$")


def for_backup(text: str, platform: str | None = None, key: bytes | None = None) -> str:
    """Redacted, LF line ends, without volatile timestamp lines, one trailing newline.

    Leading and repeated blank or ``!`` lines are dropped outside banners;
    banner text is kept exactly.
    """
    lines = unix_lines(text).split("\n")
    banner = _redact_in_place(lines, platform, key)
    volatile = _VOLATILE.match
    out: list[str] = []
    last = ""  # the last line kept ("" before the first)
    for i, raw in enumerate(lines):
        line = raw.rstrip()
        if banner and i in banner:
            out.append(line)
            last = line
            continue
        if not line:
            if last:
                out.append(line)
                last = line
            continue  # no leading or repeated blank lines
        if line[0] in "!#BC" and volatile(line):
            continue
        if line == "!" and last in ("", "!"):
            continue  # no leading or repeated separators
        out.append(line)
        last = line
    return "\n".join(out).rstrip("\n") + "\n"

