"""Config text as devices print it, made safe to parse: bytes, line ends, banners, Junos braces.

Every function here is linear in the size of the text and never raises on odd
input: a truncated read or a stray byte is something to report, not a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def decode_config(data: bytes | str) -> str:
    """Device output as text without losing a byte.

    UTF-8 when the bytes are valid UTF-8; otherwise Latin-1, which maps every
    byte to one character (so ``Rådhuset`` saved by an older device in Latin-1
    reads as itself and nothing is dropped).
    """
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def unix_lines(text: str) -> str:
    """CRLF and lone CR line ends as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------- banners (IOS-like)

_BANNER = re.compile(r"^banner[ \t]+(\S+)(?:[ \t](.*))?$")
_EOS_END = "EOF"


@dataclass(frozen=True)
class Banner:
    """One banner in a config: the lines it spans and the text between its delimiters."""

    start: int  # index of the `banner …` line
    end: int  # index of the last line of the banner (== start for a one-line banner)
    kind: str  # motd, login, exec, …
    body: tuple[str, ...]
    terminated: bool


def find_banners(lines: list[str]) -> list[Banner]:
    """Banners of IOS, IOS-XE, NX-OS and EOS as ``show running-config`` prints them.

    IOS and NX-OS: ``banner motd <d>text<d>`` with a delimiter ``d`` (``^C`` as
    IOS prints it, or one character), on one line or over several. EOS: ``banner
    motd`` alone, then lines up to ``EOF``. A banner whose end is never found (a
    truncated read) is reported as not terminated and spans only its first line,
    so that the lines after it are still read as configuration.
    """
    out: list[Banner] = []
    n = len(lines)
    after = 0  # lines before this belong to a banner already found
    for i in [k for k, line in enumerate(lines) if line.startswith("banner")]:
        m = _BANNER.match(lines[i]) if i >= after else None
        if not m or m.group(1) == "exec-timeout":
            continue
        kind, rest = m.group(1), (m.group(2) or "")
        after = i + 1
        if not rest.strip():  # EOS: body up to a line `EOF`
            j = i + 1
            while j < n and lines[j].strip() != _EOS_END:
                j += 1
            if j < n:
                out.append(Banner(i, j, kind, tuple(lines[i + 1:j]), True))
                after = j + 1
            else:
                out.append(Banner(i, i, kind, (), False))
            continue
        rest = rest.lstrip(" \t")
        delim = "^C" if rest.startswith("^C") else rest[0]
        tail = rest[len(delim):]
        close = tail.find(delim)
        if close >= 0:  # one-line banner
            out.append(Banner(i, i, kind, (tail[:close],), True))
            continue
        body = [tail] if tail else []
        j = i + 1
        while j < n:
            close = lines[j].find(delim)
            if close >= 0:
                if close:
                    body.append(lines[j][:close])
                break
            body.append(lines[j])
            j += 1
        if j < n:
            out.append(Banner(i, j, kind, tuple(body), True))
            after = j + 1
        else:
            out.append(Banner(i, i, kind, (), False))
    return out


def banner_lines(lines: list[str]) -> set[int]:
    """Indexes of the lines of every terminated banner (free text, never configuration)."""
    inside: set[int] = set()
    for b in find_banners(lines):
        if b.terminated:
            inside.update(range(b.start, b.end + 1))
    return inside


BANNER_PLACEHOLDER = "faellesdrift-banner-"


# How each platform prints a multi-line banner: the delimiter after `banner <kind>` and the
# line that ends the text. IOS prints `^C`, NX-OS `#`, AOS-CX `!`; EOS ends with `EOF`.
BANNER_STYLES: dict[str, tuple[str, str]] = {
    "caret": ("^C", "^C"), "hash": ("#", "#"), "bang": ("!", "!"), "eof": ("", _EOS_END)}


def banner_form(style: str, kind: str, body: list[str] | tuple[str, ...]) -> list[str]:
    """A banner's lines in a platform's multi-line form (``style``: a BANNER_STYLES key)."""
    opening, end = BANNER_STYLES[style]
    return [f"banner {kind} {opening}".rstrip(), *body, end]


def lift_banners(text: str, delimiter_style: str
                 ) -> tuple[str, dict[str, str], list[str]]:
    """The text with every banner replaced by a one-line placeholder.

    Returns the text, placeholder → banner in one canonical form, and notes on
    banners that were cut off. ``delimiter_style`` (a BANNER_STYLES key) picks
    the platform's form, e.g. "caret" the IOS form (``banner motd ^C`` / text /
    ``^C``), "eof" the EOS form (``banner motd`` / text / ``EOF``): a one-line
    banner and its multi-line form are then the same. A parser never sees banner text, so a ``!`` or a delimiter inside it
    cannot end it early. An unterminated banner (a truncated read) is left out
    and named in the notes: its text is unknown.
    """
    lines = text.split("\n")
    banners = find_banners(lines)
    if not banners:
        return text, {}, []
    out: list[str] = []
    lifted: dict[str, str] = {}
    seen: dict[str, str] = {}  # the same banner twice is one placeholder
    notes: list[str] = []
    pos = 0
    for b in banners:
        out.extend(lines[pos:b.start])
        pos = b.end + 1
        if not b.terminated:
            notes.append(f"banner {b.kind} on line {b.start + 1} is not terminated "
                         "(truncated read?): its text was not compared")
            continue
        body = [line.rstrip() for line in b.body]
        while body and not body[-1]:
            body.pop()
        banner = "\n".join(banner_form(delimiter_style, b.kind, body))
        key = seen.setdefault(banner, f"{BANNER_PLACEHOLDER}{len(seen)}")
        lifted[key] = banner
        out.append(key)
    out.extend(lines[pos:])
    return "\n".join(out), lifted, notes


# ---------------------------------------------------------------- Junos

_JUNOS_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"'  # a quoted string (may hold spaces, braces, '#')
    r"|/\*.*?\*/"  # a block comment
    r"|#[^\n]*"  # a line comment, including `## SECRET-DATA`
    r"|[;{}\[\]]"
    r'|[^\s;{}\[\]"#]+',
    re.DOTALL,
)
_JUNOS_PREFIXES = ("inactive:", "protect:", "replace:", "active:")


def is_junos_brace(text: str) -> bool:
    """True when a Junos config is in curly-brace form (``show configuration``)."""
    for line in text.split("\n"):
        s = line.strip()
        if not s or s.startswith(("#", "/*")):
            continue
        if s.startswith(("set ", "delete ", "deactivate ", "activate ")):
            return False
        if s.endswith(("{", ";", "}")):
            return True
    return False


def junos_set_form(text: str) -> str:
    """A Junos curly-brace config as the ``set`` lines ``| display set`` prints.

    Tokenises the text (quoted strings, comments, braces, ``[ list ]``) instead
    of relying on indentation, so a config re-indented by a tool still converts;
    a list expands to one line per element, comments are dropped, and an
    ``inactive:`` statement gives its ``set`` lines plus a ``deactivate`` line,
    as the device prints them. Unbalanced braces (a truncated read) end the
    conversion at the last complete statement.
    """
    path: list[list[str]] = []
    words: list[str] = []
    listing: list[str] | None = None
    inactive = False
    out: list[str] = []
    for m in _JUNOS_TOKEN.finditer(text):
        tok = m.group(0)
        if tok.startswith(("#", "/*")):
            continue
        if tok in _JUNOS_PREFIXES:
            inactive = inactive or tok == "inactive:"
            continue
        if tok == "{":
            if inactive:
                out.append(" ".join(["deactivate", *(w for p in path for w in p), *words]))
            path.append(words)
            words, inactive = [], False
        elif tok == "}":
            words = []
            if path:
                path.pop()
        elif tok == "[":
            listing = []
        elif tok == "]":
            words = words + ["\0"] if listing is not None else words
        elif tok == ";":
            head = [w for p in path for w in p]
            if listing is not None and "\0" in words:
                k = words.index("\0")
                out += [" ".join(["set", *head, *words[:k], item, *words[k + 1:]])
                        for item in listing]
            elif words:
                out.append(" ".join(["set", *head, *words]))
                if inactive:
                    out.append(" ".join(["deactivate", *head, *words]))
            words, listing, inactive = [], None, False
        elif listing is not None and "\0" not in words:
            listing.append(tok)
        else:
            words.append(tok)
    return "\n".join(out) + ("\n" if out else "")


def junos_active_set_lines(text: str) -> list[str]:
    """The ``set``/``delete`` lines of a set-form config that are active.

    A ``deactivate <path>`` line makes every ``set <path> …`` line inactive: it
    stays on the device but does nothing, so it is neither compliant nor drift.
    """
    lines = [line.strip() for line in text.split("\n")]
    off = {line.removeprefix("deactivate ").strip() for line in lines
           if line.startswith("deactivate ")}
    active = [line for line in lines if line.startswith(("set ", "delete "))]
    if not off:
        return active
    return [line for line in active if not _under(line.split(" ", 1)[1], off)]


def _under(path: str, off: set[str]) -> bool:
    """True when ``path`` or one of its leading word sequences is in ``off``."""
    prefix = ""
    for word in path.split(" "):
        prefix = f"{prefix} {word}" if prefix else word
        if prefix in off:
            return True
    return False
