"""Secrets never reach disk, logs or reports: one function every writer calls.

The marker is constant so that backups do not churn and a hash of a weak
secret (an SNMP community such as ``public``) cannot be guessed back.
"""

from __future__ import annotations

import re

MARK = "<redacted>"

# (pattern, replacement): each keeps the keyword and replaces the secret token.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.MULTILINE), r) for p, r in (
        # IOS / EOS
        (r"^(\s*enable (?:secret|password)(?: level \d+)?(?: (?:sha512|\d+))?) \S+", rf"\1 {MARK}"),
        (r"^(\s*username \S+\b.*?\b(?:secret|password)(?: (?:sha512|\d+))?) \S+", rf"\1 {MARK}"),
        (r"^(\s*(?:no )?snmp-server community) \S+", rf"\1 {MARK}"),
        (r"^(\s*snmp-server user \S+ \S+.*?\bauth \S+) \S+", rf"\1 {MARK}"),
        (r"(\bpriv (?:des|3des|aes(?: \d+)?)) \S+", rf"\1 {MARK}"),
        (r"^(\s*(?:tacacs|radius)-server\b.*?\bkey(?: \d+)?) \S+", rf"\1 {MARK}"),
        (r"^(\s*(?:server-private|address)\b.*?\bkey(?: \d+)?) \S+", rf"\1 {MARK}"),
        (r"^(\s*key(?: \d+)?) \S+$", rf"\1 {MARK}"),
        (r"^(\s*key-string(?: \d+)?) \S+", rf"\1 {MARK}"),
        (r"^(\s*password(?: \d+)?) \S+", rf"\1 {MARK}"),
        (r"(\bip ospf authentication-key(?: \d+)?) \S+", rf"\1 {MARK}"),
        (r"(\bip ospf message-digest-key \d+ md5(?: \d+)?) \S+", rf"\1 {MARK}"),
        (r"(\bneighbor \S+ password(?: \d+)?) \S+", rf"\1 {MARK}"),
        (r"(\bpre-shared-key (?:\d+ )?)\S+", rf"\1{MARK}"),
        # Junos (set form and brace form)
        ((r"(\b(?:encrypted-password|secret|authentication-key|ascii-text|hexadecimal)) "
         r"\"[^\"]*\""), rf'\1 "{MARK}"'),
        ((r"^((?:set|delete) .*?\b(?:encrypted-password|secret|authentication-key|ascii-text"
         r"|hexadecimal)) [^\s;\"]+"), rf'\1 "{MARK}"'),
        (r"^((?:set|delete) snmp community) \S+", rf"\1 {MARK}"),
        (r"^(\s*community) (?!{)\S+( {)$", rf"\1 {MARK}\2"),
    )
)

# Lines that change on every read without a config change: dropped from backups.
_VOLATILE = re.compile(
    r"^(?:! Last configuration change.*|! NVRAM config last updated.*|## Last commit.*"
    r"|! Time: .*|Building configuration.*|Current configuration : \d+ bytes)$",
    re.MULTILINE,
)


def redact(text: str) -> str:
    """The text with every known kind of secret replaced by the marker."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def redact_lines(lines: list[str] | tuple[str, ...]) -> list[str]:
    return [redact(line) for line in lines]


def for_backup(text: str) -> str:
    """Redacted, without volatile timestamp lines, one trailing newline."""
    text = text.replace("\r\n", "\n")
    text = _VOLATILE.sub("", redact(text))
    lines: list[str] = []
    for line in (raw.rstrip() for raw in text.split("\n")):
        if not line and (not lines or not lines[-1]):
            continue  # no leading or repeated blank lines
        if line == "!" and (not lines or lines[-1] in ("", "!")):
            continue  # no leading or repeated separators
        lines.append(line)
    return "\n".join(lines).rstrip("\n") + "\n"
