"""IOS-style running config (cisco_ios, arista_eos, cisco_nxos, aruba_aoscx): top-level lines
with indented children.

Rules, as on the real boxes for the commands the toolkit sends:
- a line adds itself (once) at the current level; a "parent" line (interface,
  router, line, ...) opens a sub-mode whose following lines become children;
- `no X` removes X and every line that starts with "X " (a whole block when X
  is a parent); for features on by default it records "no X" instead;
- single-valued settings (hostname, description, ...) replace the old value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PARENTS = ("interface ", "router ", "line ", "vlan ", "ip access-list ", "ipv6 access-list ",
           "route-map ", "class-map ", "policy-map ", "key chain ", "ip vrf ", "vrf definition ",
           "vrf instance ", "aaa group server ", "management ", "control-plane", "archive",
           "ip sla ", "track ", "crypto pki trustpoint ", "spanning-tree mst configuration",
           "monitor session ", "daemon ", "event-handler ")
GLOBAL_ONLY = ("hostname ", "ntp ", "snmp-server ", "logging ", "aaa ", "username ",
               "service ", "banner ", "tacacs-server ", "tacacs ", "radius-server ", "clock ",
               "enable ", "ip domain", "ip name-server ", "ip route ", "ip ssh ", "ip http ",
               "ip scp ", "boot ", "spanning-tree mode ", "errdisable ", "lldp ", "cdp ",
               "transceiver ", "end")
SINGLE = ("hostname ", "ip domain-name ", "ip domain name ", "clock timezone ",
          "snmp-server location ", "snmp-server contact ", "logging source-interface ",
          "ip ssh version ", "enable secret ", "ntp source ", "spanning-tree mode ",
          "description ", "switchport mode ", "switchport access vlan ", "mtu ", "speed ",
          "duplex ", "switchport trunk native vlan ", "switchport trunk allowed vlan ",
          "name ", "logging buffered ", "ip address ")
DEFAULT_ON = ("shutdown", "ip domain-lookup", "ip domain lookup", "ip http server",
              "ip http secure-server", "cdp run", "lldp run", "service pad", "ip source-route")
NEGATIONS_HIDDEN = ("no shutdown",)  # not shown in running config


@dataclass(frozen=True)
class Style:
    """How a platform prints its running config: child indent and banner delimiters."""

    indent: str
    banner_open: str  # after `banner motd`: IOS " ^C", NX-OS " #", AOS-CX " !", EOS ""
    banner_end: str  # the line that ends a banner's text


STYLES = {
    "cisco_ios": Style(" ", " ^C", "^C"),
    "arista_eos": Style("   ", "", "EOF"),
    "cisco_nxos": Style("  ", " #", "#"),
    "aruba_aoscx": Style("    ", " !", "!"),
}
IOS = STYLES["cisco_ios"]


@dataclass
class Block:
    line: str
    children: list[str] = field(default_factory=list)
    banner: bool = False  # children are the banner's text lines


def parse(lines: list[str], style: Style = IOS) -> list[Block]:
    blocks: list[Block] = []
    banner: Block | None = None
    for raw in lines:
        if banner is not None:
            if raw.strip() == style.banner_end:
                banner = None
            else:
                banner.children.append(raw.rstrip())
            continue
        if not raw.strip() or raw.strip() == "!" or raw.strip() == "end":
            continue
        if raw.startswith("banner "):
            words = raw.split()
            banner = Block(" ".join(words[:2]), banner=True)
            blocks.append(banner)
        elif raw[0].isspace() and blocks:
            blocks[-1].children.append(raw.strip())
        else:
            blocks.append(Block(raw.strip()))
    return blocks


def dump(blocks: list[Block], style: Style = IOS) -> list[str]:
    out: list[str] = []
    indent = style.indent
    for b in blocks:
        if b.banner:
            out.append(b.line + style.banner_open)
            out.extend(b.children)
            out.append(style.banner_end)
            continue
        out.append(b.line)
        out.extend(indent + c for c in b.children)
    return out


def is_parent(line: str) -> bool:
    return any(line == p.strip() or line.startswith(p) for p in PARENTS)


def is_global(line: str) -> bool:
    return line.startswith(GLOBAL_ONLY) or is_parent(line)


def _single_key(line: str) -> str | None:
    if line.startswith("ip address ") and line.endswith(" secondary"):
        return None
    keys = [k for k in SINGLE if line.startswith(k)]
    return max(keys, key=len) if keys else None


def _matches(existing: str, target: str) -> bool:
    return existing == target or existing.startswith(target + " ")


def _add(lines: list[str], line: str) -> list[str]:
    key = _single_key(line)
    kept = [ln for ln in lines if ln != f"no {line}" and not (key and ln.startswith(key))]
    if line in kept:
        return kept
    if line.startswith("no ") and line[3:] in DEFAULT_ON:
        return [ln for ln in kept if ln != line[3:]] + [line]
    return kept + [line]


def _remove(lines: list[str], target: str) -> list[str]:
    kept = [ln for ln in lines if not _matches(ln, target)]
    if len(kept) == len(lines) and target in DEFAULT_ON:
        if f"no {target}" in NEGATIONS_HIDDEN:
            return kept
        return _add(kept, f"no {target}")
    return kept


class IosConfig:
    """Edits on a parsed running config; `context` is the open parent line or None."""

    def __init__(self, lines: list[str], style: Style = IOS) -> None:
        self.style = style
        self.blocks = parse(lines, style)

    def lines(self) -> list[str]:
        return dump(self.blocks, self.style)

    def set_banner(self, kind: str, text: list[str]) -> None:
        """`banner <kind>` with these text lines (replacing the old banner of that kind)."""
        header = f"banner {kind}"
        old = self._block(header)
        if old is not None:
            old.children, old.banner = list(text), True
        else:
            self._insert(Block(header, list(text), banner=True))

    def _insert(self, block: Block) -> None:
        """Next to its kin (after the last line with the same first word), like IOS sorts."""
        word = block.line.split()[0]
        kin = [i for i, b in enumerate(self.blocks) if b.line.split()[0] == word]
        self.blocks.insert(kin[-1] + 1 if kin else len(self.blocks), block)

    def _block(self, line: str) -> Block | None:
        return next((b for b in self.blocks if b.line == line), None)

    def apply(self, context: str | None, line: str) -> None:
        negate = line.startswith("no ")
        target = line[3:].strip() if negate else line
        if context is None:
            if negate:
                self.blocks = [b for b in self.blocks if not _matches(b.line, target)]
                if target in DEFAULT_ON and not any(b.line == line for b in self.blocks):
                    self.blocks.append(Block(line))
                return
            if line in DEFAULT_ON:  # on by default: shown only when switched off
                self.blocks = [b for b in self.blocks if b.line != f"no {line}"]
                return
            if self._block(line) is None:
                key = _single_key(line)
                self.blocks = [b for b in self.blocks if b.line != f"no {line}"]
                old = next((b for b in self.blocks if key and not b.children
                            and b.line.startswith(key)), None)
                if old is not None:
                    old.line = line  # a single-valued setting changes in place
                else:
                    self._insert(Block(line))
            return
        block = self._block(context)
        if block is None:
            block = Block(context)
            self._insert(block)
        if negate:
            block.children = _remove(block.children, target)
        else:
            block.children = _add(block.children, line)
