"""Where secrets sit in device configs, per platform family, as data.

Written from the vendors' command references (Cisco IOS/IOS-XE incl. the 9800
wireless controller, NX-OS, Arista EOS, Aruba AOS-CX, Juniper Junos, Fortinet
FortiOS). Each rule names its
command family and marks only the secret token(s), in named groups ``s``,
``s2``…: keywords, encryption types (``7``, ``8a``, ``sha512``) and options stay
as they are, so a redacted config keeps its lines and its tree.

IOS-like rules are regular expressions anchored at the start of one line with
``[ \\t]*`` (never ``\\s*``, which would cross lines), optionally only under a
top-level parent. Junos rules are keyword rules over the tokens of one
statement (set or curly-brace form), so a keyword inside a quoted message is
never taken for a secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

IOS_LIKE = frozenset({"cisco_ios", "cisco_xe", "cisco_nxos", "arista_eos", "aruba_aoscx"})
AOSCX = frozenset({"aruba_aoscx"})
FORTIOS = frozenset({"fortinet"})

# A secret token: a quoted string (its inside is the secret) or one word.
_T = r'(?:"[^"]*"|[^ \t"]\S*)'
# An encryption-type word that precedes the secret: 0 5 6 7 8 9, EOS 8a, sha512 …
_TYPE = r"(?:[ \t]+(?:[0-9]|8a|sha512|sha256))"
# A FortiOS statement, indented in its block or after its path (`config … / edit … / `).
_FOS = r"^[ \t]*(?:(?:config|edit)[ \t][^/\n]*/[ \t])*"
# How AOS-CX marks a secret's form: `ciphertext AQBapX…` or `plaintext …`.
_CX = r"(?:[ \t]+(?:ciphertext|plaintext))"


@dataclass(frozen=True)
class LineRule:
    """An IOS-like secret: a pattern on one line, optionally only under a parent."""

    family: str
    needle: str  # a literal the line must contain: most lines skip the regex
    pattern: str
    parent: str | None = None  # regex on the line's top-level parent
    platforms: frozenset[str] = IOS_LIKE
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    parent_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern))
        object.__setattr__(self, "parent_regex",
                           re.compile(self.parent) if self.parent else None)


LINE_RULES: tuple[LineRule, ...] = (
    LineRule("enable-secret", "enable",
             rf"^[ \t]*enable(?:[ \t]+algorithm-type[ \t]+\S+)?[ \t]+(?:secret|password"
             rf"|read-only-password|super-user-password"
             rf"|port-config-password)(?:[ \t]+level[ \t]+\d+)?{_TYPE}?[ \t]+(?P<s>{_T})"),
    LineRule("eos-aaa-root-secret", "aaa",
             rf"^[ \t]*aaa[ \t]+root[ \t]+secret{_TYPE}?[ \t]+(?P<s>{_T})"),
    LineRule("username-secret", "username",
             rf"^[ \t]*username[ \t]+\S+(?:[ \t]+\S+)*?[ \t]+(?:secret|password)"
             rf"(?:[ \t]+(?:[0-9]|sha512))?[ \t]+(?P<s>{_T})"),
    LineRule("snmp-community", "community",
             rf"^[ \t]*(?:no[ \t]+)?snmp-server[ \t]+community[ \t]+(?P<s>{_T})"),
    LineRule("snmp-community-map", "community-map",
             rf"^[ \t]*snmp[ \t]+mib[ \t]+community-map[ \t]+(?P<s>{_T})"),
    LineRule("snmp-host-community", "snmp-server",
             rf"^[ \t]*snmp-server[ \t]+host[ \t]+\S+(?:[ \t]+vrf[ \t]+\S+)?"
             rf"(?:[ \t]+(?:informs|traps|inform|trap))?(?:[ \t]+version[ \t]+(?:1|2c|v1|v2c))?"
             rf"(?:[ \t]+community)?"
             rf"[ \t]+(?!(?:use-vrf|source-interface|filter-vrf|version|vrf|informs|traps)\b)"
             rf"(?P<s>{_T})"),
    LineRule("snmp-user-auth-priv", "auth",
             rf"^[ \t]*snmp-server[ \t]+user[ \t]+.*?[ \t]auth[ \t]+\S+"
             rf"[ \t]+(?P<s>{_T})(?:[ \t]+priv(?:[ \t]+(?:des|3des|aes|aes-128|des56))?"
             rf"(?:[ \t]+\d{{3}})?[ \t]+(?P<s2>{_T}))?"),
    LineRule("aaa-server-key", "key",
             rf"^[ \t]*(?:tacacs-server|radius-server|server-private|server|client|address)\b"
             rf".*?[ \t](?:key|server-key)(?:[ \t]+(?:[0-9]|8a|ciphertext|plaintext))?"
             rf"[ \t]+(?P<s>{_T})"),
    LineRule("fortios-secret", "set",
             rf"{_FOS}set[ \t]+(?:password|passwd|psksecret|secret|key|auth-pwd|priv-pwd"
             rf"|passphrase|sso-password|ldap-password|psk|private-key)[ \t]+(?:ENC[ \t]+)?"
             rf"(?P<s>{_T})", platforms=FORTIOS),
    LineRule("fortios-snmp-community", "name",
             rf"{_FOS}set[ \t]+name[ \t]+(?P<s>{_T})",
             parent=r"^config[ \t]+system[ \t]+snmp[ \t]+community\b", platforms=FORTIOS),
    LineRule("aoscx-user-password", "password",
             rf"^[ \t]*user[ \t]+\S+(?:[ \t]+group[ \t]+\S+)?[ \t]+password{_CX}?"
             rf"[ \t]+(?P<s>{_T})", platforms=AOSCX),
    LineRule("aoscx-snmpv3-user", "auth-pass",
             rf"^[ \t]*snmpv3[ \t]+user[ \t]+\S+[ \t]+auth[ \t]+\S+[ \t]+auth-pass{_CX}?"
             rf"[ \t]+(?P<s>{_T})(?:[ \t]+priv[ \t]+\S+[ \t]+priv-pass{_CX}?[ \t]+(?P<s2>{_T}))?",
             platforms=AOSCX),
    LineRule("aaa-server-block-key", "key",
             rf"^[ \t]+(?:pac[ \t]+)?(?:key|server-key)(?:[ \t]+(?:[0-9]|8a))?[ \t]+(?P<s>{_T})",
             parent=r"^(?:tacacs[ \t]+server|radius[ \t]+server|aaa[ \t]+server"
                    r"|aaa[ \t]+group[ \t]+server|crypto[ \t]+isakmp[ \t]+client)"),
    LineRule("typed-key", "key",
             rf"^[ \t]+(?:pac[ \t]+)?key[ \t]+(?:[0-9]|8a)[ \t]+(?P<s>{_T})[ \t]*$"),
    LineRule("server-key", "server-key",
             rf"^[ \t]*server-key(?:[ \t]+[0-9])?[ \t]+(?P<s>{_T})"),
    LineRule("ldap-server-password", "ldap-server",
             rf"^[ \t]*ldap-server[ \t]+host\b.*?[ \t]password(?:[ \t]+[0-9])?[ \t]+(?P<s>{_T})"),
    LineRule("line-password", "password",
             rf"^[ \t]+password(?:[ \t]+[0-9])?[ \t]+(?P<s>{_T})[ \t]*$"),
    LineRule("ntp-authentication-key", "ntp",
             rf"^[ \t]*ntp[ \t]+authentication-key[ \t]+\d+[ \t]+(?:md5|sha1|sha256|hmac-sha1"
             rf"|hmac-sha2-256|cmac-aes-128)(?:[ \t]+(?:[0-9]|8a|ciphertext|plaintext)(?=[ \t]))?"
             rf"[ \t]+(?P<s>{_T})"),
    LineRule("ospf-authentication-key", "authentication-key",
             rf"^[ \t]*(?!ntp[ \t])(?:\S+[ \t]+)*?authentication-key(?:[ \t]+[0-9](?=[ \t]))?"
             rf"[ \t]+(?P<s>{_T})"),
    LineRule("ospf-message-digest-key", "message-digest-key",
             rf"^[ \t]*(?:\S+[ \t]+)*?message-digest-key[ \t]+\d+[ \t]+(?:md5|sha1|sha256|sha384"
             rf"|sha512)(?:[ \t]+(?:[0-9]|ciphertext|plaintext)(?=[ \t]))?[ \t]+(?P<s>{_T})"),
    LineRule("ospfv3-ipsec-key", "ipsec",
             rf"^[ \t]*(?:ipv6[ \t]+ospf|ospfv3)[ \t]+(?:\d+[ \t]+)?(?:authentication|encryption)"
             rf"[ \t]+ipsec[ \t]+spi[ \t]+\d+[ \t]+(?:md5|sha1|esp[ \t]+\S+(?:[ \t]+\d+)?)"
             rf"(?:[ \t]+[0-9](?=[ \t]))?[ \t]+(?P<s>{_T})"),
    LineRule("isis-password", "password",
             rf"^[ \t]*(?:area-password|domain-password|isis[ \t]+password)[ \t]+(?P<s>{_T})"),
    LineRule("isis-authentication-key", "authentication",
             rf"^[ \t]*(?:isis[ \t]+)?authentication[ \t]+key(?:[ \t]+(?:[0-9]|8a)(?=[ \t]))?"
             rf"[ \t]+(?P<s>{_T})"),
    LineRule("bgp-neighbor-password", "password",
             rf"^[ \t]*neighbor[ \t]+\S+[ \t]+password(?:[ \t]+[0-9](?=[ \t]))?[ \t]+(?P<s>{_T})"),
    LineRule("key-string", "key-string",
             rf"^[ \t]*(?:\S+[ \t]+)*?key-string(?:[ \t]+[0-9](?=[ \t]))?[ \t]+(?P<s>{_T})"),
    LineRule("hsrp-vrrp-text-auth", "authentication",
             rf"^[ \t]+(?:standby[ \t]+(?:\d+[ \t]+)?authentication(?:[ \t]+text)?"
             rf"|vrrp[ \t]+\d+[ \t]+(?:peer[ \t]+)?authentication[ \t]+text)"
             rf"[ \t]+(?!md5\b)(?P<s>{_T})"),
    LineRule("isakmp-key", "isakmp",
             rf"^[ \t]*crypto[ \t]+isakmp[ \t]+key(?:[ \t]+[06](?=[ \t]))?[ \t]+(?P<s>{_T})"),
    LineRule("keyring-pre-shared-key", "pre-shared-key",
             rf"^[ \t]*pre-shared-key[ \t]+(?:address[ \t]+\S+(?:[ \t]+\S+)?|hostname[ \t]+\S+)"
             rf"[ \t]+key(?:[ \t]+[06](?=[ \t]))?[ \t]+(?P<s>{_T})"),
    LineRule("ikev2-pre-shared-key", "pre-shared-key",
             rf"^[ \t]*pre-shared-key(?:[ \t]+(?:local|remote))?(?:[ \t]+[06](?=[ \t]))?"
             rf"[ \t]+(?!(?:address|hostname|local|remote)\b)(?P<s>{_T})"),
    LineRule("eos-shared-key", "shared-key",
             rf"^[ \t]*shared-key(?:[ \t]+(?:[0-9]|8a)(?=[ \t]))?[ \t]+(?P<s>{_T})"),
    LineRule("eos-shared-secret-profile", "secret",
             rf"^[ \t]+secret[ \t]+\S+[ \t]+(?:[0-9]|8a)[ \t]+(?P<s>{_T})",
             parent=r"^management[ \t]+security"),
    LineRule("wlan-psk", "set-key",
             rf"^[ \t]*security[ \t]+wpa[ \t]+psk[ \t]+set-key[ \t]+(?:ascii|hex)"
             rf"(?:[ \t]+[0-9](?=[ \t]))?[ \t]+(?P<s>{_T})"),
    LineRule("ap-dot1x-mgmtuser", "username",
             rf"^[ \t]*(?:dot1x|mgmtuser)[ \t]+username[ \t]+\S+[ \t]+password"
             rf"(?:[ \t]+[0-9](?=[ \t]))?[ \t]+(?P<s>{_T})"
             rf"(?:[ \t]+secret(?:[ \t]+[0-9](?=[ \t]))?[ \t]+(?P<s2>{_T}))?"),
    LineRule("ppp-password", "ppp",
             rf"^[ \t]*ppp[ \t]+(?:chap[ \t]+password|pap[ \t]+sent-username[ \t]+\S+"
             rf"[ \t]+password)(?:[ \t]+[0-9](?=[ \t]))?[ \t]+(?P<s>{_T})"),
    LineRule("file-transfer-password", "password",
             rf"^[ \t]*ip[ \t]+(?:ftp|http[ \t]+client)[ \t]+password(?:[ \t]+[0-9](?=[ \t]))?"
             rf"[ \t]+(?P<s>{_T})"),
)


@dataclass(frozen=True)
class WordRule:
    """A Junos secret: the token after ``keyword``, when the statement's path fits.

    ``after`` is the word that must come right before ``keyword`` (e.g.
    ``pre-shared-key`` before ``ascii-text``); ``under`` a word that must appear
    earlier in the statement's path (e.g. ``snmp`` for ``community``);
    ``not_number`` skips a keyword followed by a bare number (a key id).
    """

    family: str
    keyword: str
    after: str | None = None
    under: str | None = None
    first: str | None = None  # the path must start with this word
    not_number: bool = False


WORD_RULES: tuple[WordRule, ...] = (
    WordRule("junos-encrypted-password", "encrypted-password"),
    WordRule("junos-secret", "secret"),
    WordRule("junos-authentication-key", "authentication-key", not_number=True),
    WordRule("junos-ntp-key-value", "value", under="authentication-key"),
    WordRule("junos-md5-key", "key", under="md5"),
    WordRule("junos-simple-password", "simple-password"),
    WordRule("junos-hello-authentication-key", "hello-authentication-key"),
    WordRule("junos-pre-shared-key", "ascii-text", after="pre-shared-key"),
    WordRule("junos-pre-shared-key-hex", "hexadecimal", after="pre-shared-key"),
    WordRule("junos-snmp-community", "community", first="snmp"),
    WordRule("junos-snmp-community-name", "community-name"),
    WordRule("junos-snmp-v3-password", "authentication-password"),
    WordRule("junos-snmp-v3-privacy", "privacy-password"),
    WordRule("junos-snmp-v3-privacy-key", "privacy-key"),
    WordRule("junos-chap-secret", "chap-secret"),
    WordRule("junos-pap-password", "pap-password"),
    WordRule("junos-archive-password", "password", under="archive-sites"),
)

# A curly-brace Junos statement the device itself marks as secret.
SECRET_DATA_FAMILY = "junos-secret-data"

# Credentials inside a URL (``ftp://user:password@host``): every platform.
URL_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@\"]+:(?P<s>[^@\s/\"]+)@")
URL_FAMILY = "url-credentials"

# Only lines holding one of these words can hold a secret: the rest are skipped cheaply.
TRIGGER = re.compile(
    r"key|secret|pass|community|auth|psk|pwd|snmp|://|ascii-text|hexadecimal|value|set name")

# A FortiOS value that spans lines (a PEM private key): its lines up to the closing quote.
MULTILINE_SECRET = re.compile(r'^[ \t]*set[ \t]+private-key[ \t]+"[^"]*$')
MULTILINE_FAMILY = "fortios-private-key"


def families() -> tuple[str, ...]:
    """Every family the catalogue knows, in order."""
    return (*(r.family for r in LINE_RULES), *(r.family for r in WORD_RULES), SECRET_DATA_FAMILY,
            URL_FAMILY, MULTILINE_FAMILY)
