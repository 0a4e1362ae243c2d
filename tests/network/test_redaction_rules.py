"""Every rule of the secret catalogue: a secret that must vanish, a near miss that must stay.

One row per case: the rule's family, the platform, a config snippet, the secret
in it, and a snippet that looks alike but holds no secret. A family in the
catalogue without a row here fails the suite.
"""

from __future__ import annotations

import re

import pytest

from faellesdrift.network.redact import MARK, explain, for_backup, marker, redact
from faellesdrift.network.secret_rules import LINE_RULES, families

IOS, EOS, NXOS, JUNOS = "cisco_ios", "arista_eos", "cisco_nxos", "juniper_junos"
CX, FOS = "aruba_aoscx", "fortinet"

# (family, platform, config text, secret value, near miss that must stay as it is)
CASES: list[tuple[str, str, str, str, str]] = [
    ("fortios-secret", FOS, ('config system admin\n    edit "admin"\n'
     '        set password ENC SH2FgtHash0=\n    next\nend'), "SH2FgtHash0=",
     "config system password-policy\n    set minimum-length 12\nend"),
    ("fortios-secret", FOS, ('config vpn ipsec phase1-interface\n    edit "p1"\n'
     "        set psksecret ENC FgtPsk1==\n    next\nend"), "FgtPsk1==",
     ('config vpn ipsec phase1-interface\n    edit "p1"\n        set psksecret-remote\n'
      "    next\nend")),
    ("fortios-secret", FOS, 'config user tacacs+ / edit "t" / set key ENC FgtTac2==',
     "FgtTac2==", 'config user tacacs+ / edit "t" / set key-inactivity 5'),
    ("fortios-secret", FOS, "    set auth-pwd ENC FgtAuth3==", "FgtAuth3==",
     "    set auth-proto sha256"),
    ("fortios-snmp-community", FOS, ('config system snmp community\n    edit 1\n'
     '        set name "FgtComm4"\n    next\nend'), "FgtComm4",
     'config firewall address\n    edit 1\n        set name "lan"\n    next\nend'),
    ("fortios-snmp-community", FOS, 'config system snmp community / edit 2 / set name "FgtComm5"',
     "FgtComm5", 'config system snmp user / edit "mon" / set name "mon"'),
    ("fortios-private-key", FOS, ('config vpn certificate local\n    edit "c"\n'
     '        set private-key "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFfgtKeyBody6\n'
     '-----END ENCRYPTED PRIVATE KEY-----"\n    next\nend'), "MIIFfgtKeyBody6",
     ('config vpn certificate local\n    edit "c"\n        set certificate "-----BEGIN '
      'CERTIFICATE-----\nMIIDcert\n-----END CERTIFICATE-----"\n    next\nend')),
    ("aoscx-user-password", CX,
     "user admin group administrators password ciphertext AQBapYx7Qk0vXw==", "AQBapYx7Qk0vXw==",
     "user admin group administrators"),
    ("aoscx-user-password", CX, "user ops password plaintext Ops-Pw-42", "Ops-Pw-42",
     "password complexity"),
    ("aoscx-snmpv3-user", CX,
     ("snmpv3 user mon auth sha auth-pass ciphertext AQBaAuTh== priv aes priv-pass ciphertext "
      "AQBaPrIv=="), "AQBaPrIv==", "snmpv3 user mon"),
    ("aoscx-snmpv3-user", CX, "snmpv3 user mon auth sha auth-pass plaintext Auth-Cx-1",
     "Auth-Cx-1", "snmpv3 context public vrf mgmt"),
    ("aaa-server-key", CX, "radius-server host 10.250.0.50 key ciphertext AQBaRaD== vrf mgmt",
     "AQBaRaD==", "radius-server host 10.250.0.50 vrf mgmt"),
    ("aaa-server-key", CX, "tacacs-server key ciphertext AQBaTaC==", "AQBaTaC==",
     "tacacs-server timeout 10"),
    ("enable-secret", IOS, "enable secret 5 $1$aB3d$Qq0Ww9Ee8Rr7", "$1$aB3d$Qq0Ww9Ee8Rr7",
     "enable view"),
    ("enable-secret", IOS, "enable algorithm-type scrypt secret 9 $9$xYz$AbC", "$9$xYz$AbC",
     "enable last-resort succeed"),
    ("enable-secret", IOS, "enable read-only-password RoPw-19", "RoPw-19",
     "enable password-policy"),
    ("enable-secret", IOS, "enable super-user-password SuPw-20", "SuPw-20",
     "enable secret-policy"),
    ("enable-secret", EOS, "enable password sha512 $6$eNa$HaSh", "$6$eNa$HaSh",
     "enable password-policy"),
    ("eos-aaa-root-secret", EOS, "aaa root secret sha512 $6$rOOt$xx", "$6$rOOt$xx", "no aaa root"),
    ("username-secret", IOS, "username ops privilege 15 secret 9 $9$uSr$Hash", "$9$uSr$Hash",
     "username ops privilege 1 nopassword"),
    ("username-secret", NXOS, "username admin password 5 $5$nX$HaSh  role network-admin",
     "$5$nX$HaSh", "username admin passphrase  lifetime 99999 warntime 14"),
    ("username-secret", EOS, "username a privilege 15 role network-admin secret sha512 $6$q$w",
     "$6$q$w", "username a ssh-key ssh-rsa AAAAB3Nza a@b"),
    ("snmp-community", IOS, "snmp-server community Rd0nly-77 RO 10", "Rd0nly-77",
     "snmp-server location Rådhuset"),
    ("snmp-community", NXOS, "snmp-server community NxC-5 group network-operator", "NxC-5",
     "snmp-server contact noc@kommune.example"),
    ("snmp-community-map", IOS, "snmp mib community-map MapC-9 context vlan-1", "MapC-9",
     "snmp mib persist cbqos"),
    ("snmp-host-community", IOS, "snmp-server host 10.0.0.9 version 2c TrapC-1", "TrapC-1",
     "snmp-server host 10.0.0.9 use-vrf management"),
    ("snmp-host-community", EOS, "snmp-server host 10.0.0.9 vrf MGMT version 2c TrapC-2",
     "TrapC-2", "snmp-server host 10.0.0.9 vrf MGMT version 3 priv v3user"),
    ("snmp-host-community", IOS, "snmp-server host 10.0.0.9 informs version 2c InfC-3",
     "InfC-3", "snmp-server host 10.0.0.9 source-interface mgmt0"),
    ("snmp-user-auth-priv", IOS, "snmp-server user mon G v3 auth sha AuPw-1 priv aes 128 PrPw-2",
     "PrPw-2", "snmp-server group G v3 priv read V"),
    ("snmp-user-auth-priv", IOS, "snmp-server user mon G v3 auth sha AuPw-1 priv aes 128 PrPw-2",
     "AuPw-1", "snmp-server view V iso included"),
    ("snmp-user-auth-priv", NXOS, ("snmp-server user u network-admin auth md5 0xab12 priv 0xcd34"
     " localizedkey"), "0xcd34", "snmp-server user u use-ipv4acl SNMP"),
    ("aaa-server-key", IOS, "tacacs-server host 10.0.0.49 key 7 0822455D0A16", "0822455D0A16",
     "tacacs-server host 10.0.0.49"),
    ("aaa-server-key", EOS, "tacacs-server host 10.0.0.49 vrf MGMT key 8a CiPh3r==",
     "CiPh3r==", "tacacs-server host 10.0.0.49 vrf MGMT"),
    ("aaa-server-key", NXOS, 'radius-server host 10.0.0.51 key 7 "QuotedK" authentication',
     "QuotedK", "radius-server host 10.0.0.51 authentication accounting"),
    ("aaa-server-key", IOS, "aaa group server tacacs+ T\n server-private 10.0.0.50 key 7 0A1B2C",
     "0A1B2C", "aaa group server tacacs+ T\n server-private 10.0.0.50 timeout 5"),
    ("aaa-server-key", IOS, "tacacs-server key KeyOnly-8", "KeyOnly-8",
     "tacacs-server directed-request"),
    ("aaa-server-block-key", IOS, "tacacs server ISE\n address ipv4 10.0.0.49\n key PlainK-4",
     "PlainK-4", "key chain KC\n key 4\n  accept-lifetime infinite"),
    ("aaa-server-block-key", IOS, "radius server R\n pac key PacK-5", "PacK-5",
     "radius server R\n automate-tester username probe"),
    ("typed-key", IOS, "radius server R\n key 7 110A1016141D", "110A1016141D",
     "key chain EIGRP\n key 1"),
    ("server-key", IOS, "aaa server radius dynamic-author\n server-key CoaK-6", "CoaK-6",
     "aaa server radius dynamic-author\n auth-type any"),
    ("aaa-server-key", IOS, "aaa server radius dynamic-author\n client 10.0.0.5 server-key 7 0A0B",
     "0A0B", "aaa server radius dynamic-author\n client 10.0.0.5 vrf MGMT"),
    ("ldap-server-password", NXOS, 'ldap-server host 10.0.0.8 rootDN "cn=a" password 7 LdPw-1',
     "LdPw-1", "ldap-server host 10.0.0.8 port 389"),
    ("line-password", IOS, "line vty 0 4\n password 7 02050D480809", "02050D480809",
     "aaa common-criteria policy P\n password minimum length 17"),
    ("line-password", IOS, "dot1x credentials C\n password 0 SuppPw-2", "SuppPw-2",
     "no password strength-check"),
    ("ntp-authentication-key", IOS, "ntp authentication-key 1 md5 121A0C0411045D 7",
     "121A0C0411045D", "ntp trusted-key 1"),
    ("ntp-authentication-key", EOS, "ntp authentication-key 2 sha1 7 0A1B2C3D", "0A1B2C3D",
     "ntp server 10.0.0.123 key 2"),
    ("ospf-authentication-key", IOS, "interface G0/1\n ip ospf authentication-key 7 1511021F07",
     "1511021F07", "interface G0/1\n ip ospf authentication message-digest"),
    ("ospf-authentication-key", IOS, ("router ospf 1\n area 1 virtual-link 1.1.1.1 "
     "authentication-key VlK-1"), "VlK-1", "router ospf 1\n area 1 authentication"),
    ("ospf-message-digest-key", EOS, "interface E1\n   ip ospf message-digest-key 1 sha256 7 AbC",
     "AbC", "interface E1\n   ip ospf authentication message-digest"),
    ("ospfv3-ipsec-key", IOS, "interface T1\n ospfv3 authentication ipsec spi 256 md5 FEDCBA98",
     "FEDCBA98", "interface T1\n ospfv3 1 ipv6 area 0"),
    ("isis-password", IOS, "router isis\n area-password ArPw-3", "ArPw-3",
     "router isis\n is-type level-2-only"),
    ("isis-password", IOS, "interface G0/0\n isis password IfPw-4 level-2", "IfPw-4",
     "interface G0/0\n isis authentication mode md5 level-2"),
    ("isis-authentication-key", EOS, "router isis KOM\n   authentication key 7 IsK-5 level-2",
     "IsK-5", "router isis KOM\n   authentication key-chain KC level-2"),
    ("bgp-neighbor-password", IOS, "router bgp 1\n neighbor 10.0.0.2 password 7 0232", "0232",
     "router bgp 1\n neighbor 10.0.0.2 remote-as 2"),
    ("line-password", NXOS, "router bgp 1\n  neighbor 10.0.0.2\n    password 3 NxBgp-6",
     "NxBgp-6", "router bgp 1\n  neighbor 10.0.0.2\n    remote-as 2"),
    ("key-string", IOS, "key chain KC\n key 1\n  key-string 7 104D000A06", "104D000A06",
     "key chain KC\n key 1\n  accept-lifetime 00:00:00 Jan 1 2026 infinite"),
    ("key-string", IOS, "interface G0/1\n standby 1 authentication md5 key-string HsK-7", "HsK-7",
     "interface G0/1\n standby 1 authentication md5 key-chain KC"),
    ("hsrp-vrrp-text-auth", IOS, "interface G0/1\n standby 1 authentication HsTxt-8", "HsTxt-8",
     "interface G0/1\n standby 1 preempt"),
    ("hsrp-vrrp-text-auth", EOS, "interface Vlan1\n   vrrp 12 peer authentication text VrT-9",
     "VrT-9", "interface Vlan1\n   vrrp 12 ipv4 10.0.0.1"),
    ("isakmp-key", IOS, "crypto isakmp key 6 Fj]dB_TeDG address 192.0.2.1", "Fj]dB_TeDG",
     "crypto isakmp keepalive 10 3"),
    ("keyring-pre-shared-key", IOS, ("crypto keyring KR\n pre-shared-key address 192.0.2.7 key "
     "KrPsk-1"), "KrPsk-1", "crypto keyring KR\n local-address Loopback0"),
    ("ikev2-pre-shared-key", IOS, ("crypto ikev2 keyring K\n peer P\n  pre-shared-key local 0 "
     "LocPsk-2"), "LocPsk-2", "crypto ikev2 profile P\n authentication local pre-share"),
    ("eos-shared-key", EOS, "ip security\n   profile P\n      shared-key 7 EsPsk-3", "EsPsk-3",
     "ip security\n   profile P\n      dpd 10 50 clear"),
    ("eos-shared-secret-profile", EOS, ("management security\n   session shared-secret profile P\n"
     "      secret KEY1 7 EsSec-4 receive-lifetime infinite transmit-lifetime infinite"),
     "EsSec-4", "management security\n   ssl profile API\n      secret-hash sha256"),
    ("wlan-psk", IOS, "wlan W 1 W\n security wpa psk set-key ascii 0 WlanPsk-5", "WlanPsk-5",
     "wlan W 1 W\n security wpa akm psk"),
    ("ap-dot1x-mgmtuser", IOS, ("ap profile P\n mgmtuser username a password 0 MgPw-6 secret 0 "
     "MgSec-7"), "MgSec-7", "ap profile P\n mgmtuser username a"),
    ("ap-dot1x-mgmtuser", IOS, ("ap profile P\n dot1x username s password 0 ApDx-8 dot1x "
     "eap-type peap"), "ApDx-8", "ap profile P\n dot1x eap-type peap"),
    ("ppp-password", IOS, "interface S0\n ppp chap password 7 0822455D", "0822455D",
     "interface S0\n ppp chap hostname kom"),
    ("file-transfer-password", IOS, "ip ftp password 7 13061E0108", "13061E0108",
     "ip ftp username backupuser"),
    ("url-credentials", IOS, "archive\n path ftp://bk:ArchPw-9@10.0.0.70/cfg/$h", "ArchPw-9",
     "archive\n path ftp://10.0.0.70/cfg/$h"),
    ("url-credentials", JUNOS, ('set system archival configuration archive-sites '
     '"scp://u:ScpPw-10@10.0.0.70/c"'), "ScpPw-10",
     'set system archival configuration archive-sites "scp://u@10.0.0.70/c"'),
    ("junos-encrypted-password", JUNOS, ('set system root-authentication encrypted-password '
     '"$6$jr$HaSh"'), "$6$jr$HaSh", "set system login password minimum-length 12"),
    ("junos-secret", JUNOS, 'set system tacplus-server 10.0.0.49 secret "$9$TaC"', "$9$TaC",
     "set system tacplus-server 10.0.0.49 single-connection"),
    ("junos-secret", JUNOS, ('set security authentication-key-chains key-chain KC key 0 secret '
     '"$9$KcS"'), "$9$KcS", ("set security authentication-key-chains key-chain KC key 0 "
     'start-time "2026-1-1.00:00:00 +0100"')),
    ("junos-authentication-key", JUNOS, 'set protocols bgp group G authentication-key "$9$BgP"',
     "$9$BgP", "set protocols bgp group G authentication-key-chain KC"),
    ("junos-ntp-key-value", JUNOS, 'set system ntp authentication-key 1 type md5 value "$9$NtP"',
     "$9$NtP", "set system ntp trusted-key 1"),
    ("junos-md5-key", JUNOS, ("set protocols ospf area 0 interface ge-0/0/1.0 authentication md5 1"
     ' key "$9$OsP"'), "$9$OsP", ("set protocols ospf area 0 interface ge-0/0/1.0 "
     "authentication md5 1 start-time 2026-1-1.00:00")),
    ("junos-simple-password", JUNOS, ("set protocols ospf area 0 interface ge-0/0/2.0 "
     'authentication simple-password "$9$SiM"'), "$9$SiM",
     "set protocols ospf area 0 interface ge-0/0/2.0 passive"),
    ("junos-hello-authentication-key", JUNOS, ("set protocols isis interface ge-0/0/1.0 level 2 "
     'hello-authentication-key "$9$HeL"'), "$9$HeL",
     "set protocols isis interface ge-0/0/1.0 level 2 hello-authentication-type md5"),
    ("junos-pre-shared-key", JUNOS, 'set security ike policy P pre-shared-key ascii-text "$9$Ps"',
     "$9$Ps", "set security ike proposal P authentication-method pre-shared-keys"),
    ("junos-pre-shared-key-hex", JUNOS, ("set security ike policy P pre-shared-key hexadecimal "
     '"$9$Hx"'), "$9$Hx", 'set interfaces ge-0/0/1 description "ascii-text hexadecimal"'),
    ("junos-snmp-community", JUNOS, "set snmp community JnC-11 authorization read-only",
     "JnC-11", "set policy-options community JnC-12 members 65010:100"),
    ("junos-snmp-community", JUNOS, ("snmp {\n    community JnC-13 {\n        authorization "
     "read-only;\n    }\n}"), "JnC-13", "policy-options {\n    community BH members 65535:666;\n}"),
    ("junos-snmp-community-name", JUNOS, ("set snmp v3 snmp-community IDX community-name "
     '"$9$CnM"'), "$9$CnM", "set snmp v3 snmp-community IDX security-name mon"),
    ("junos-snmp-v3-password", JUNOS, ("set snmp v3 usm local-engine user m authentication-sha "
     'authentication-password "$9$UaP"'), "$9$UaP",
     "set snmp v3 usm local-engine user m authentication-sha"),
    ("junos-snmp-v3-privacy", JUNOS, ("set snmp v3 usm local-engine user m privacy-aes128 "
     'privacy-password "$9$UpP"'), "$9$UpP", "set snmp v3 usm local-engine user m privacy-aes128"),
    ("junos-snmp-v3-privacy-key", JUNOS, ("set snmp v3 usm local-engine user m privacy-aes128 "
     'privacy-key "$9$UpK"'), "$9$UpK", "set snmp v3 usm local-engine user m privacy-none"),
    ("junos-chap-secret", JUNOS, 'set access profile P client c chap-secret "$9$ChS"', "$9$ChS",
     "set access profile P authentication-order radius"),
    ("junos-pap-password", JUNOS, 'set access profile P client c pap-password "$9$PaP"', "$9$PaP",
     "set access profile P client c firewall-user"),
    ("junos-archive-password", JUNOS, ('set system archival configuration archive-sites '
     '"ftp://u@h/c" password "$9$ArP"'), "$9$ArP", ("set system archival configuration "
     "transfer-on-commit")),
    ("junos-secret-data", JUNOS, ("system {\n    services {\n        unknown-secret-knob "
     '"$9$SdA"; ## SECRET-DATA\n    }\n}'), "$9$SdA",
     'system {\n    login {\n        message "a secret password key";\n    }\n}'),
]


@pytest.mark.parametrize("family,platform,text,secret,near_miss", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_removes_the_secret_and_keeps_the_near_miss(family, platform, text, secret,
                                                         near_miss) -> None:
    out = redact(text, platform, b"k")
    assert secret not in out
    assert family in {f for _, f in explain(text, platform)}, explain(text, platform)
    assert len(out.split("\n")) == len(text.split("\n"))
    assert redact(near_miss, platform, b"k") == near_miss
    assert redact(near_miss) == near_miss  # without a platform too


def test_every_family_has_a_case() -> None:
    tested = {c[0] for c in CASES}
    assert not [f for f in families() if f not in tested]


def test_only_the_secret_token_changes() -> None:
    line = "tacacs-server host 10.0.0.49 vrf MGMT key 8a CiPh3r== timeout 5"
    assert redact(line) == f"tacacs-server host 10.0.0.49 vrf MGMT key 8a {MARK} timeout 5"
    quoted = 'set system tacplus-server 10.0.0.49 secret "$9$TaC"'
    assert redact(quoted) == f'set system tacplus-server 10.0.0.49 secret "{MARK}"'


def test_markers_are_keyed_and_deterministic() -> None:
    text = "snmp-server community Same-1 RO\nsnmp-server community Same-1 RW\n"
    out = redact(text, "cisco_ios", b"key-a")
    first, second = re.findall(r"<redacted:[0-9a-f]{12}>", out)
    assert first == second == marker("Same-1", b"key-a")
    assert marker("Same-1", b"key-b") != first  # the key matters: no guessing it back
    assert marker("Other-2", b"key-a") != first


def test_an_ios_rule_never_eats_a_junos_keyword() -> None:
    text = 'set system tacplus-server 10.0.0.49 secret "$9$TaC"\nenable secret 5 $1$x$y\n'
    out = redact(text)
    assert 'secret "<redacted>"' in out and "enable secret 5 <redacted>" in out


def test_banner_text_is_never_redacted() -> None:
    text = ("banner motd ^C\nNever share your password 7 or key 7 AbC with anyone\n^C\n"
            "line vty 0 4\n password 7 0A0B0C\n")
    out = redact(text, "cisco_ios")
    assert "Never share your password 7 or key 7 AbC with anyone" in out
    assert "0A0B0C" not in out


def test_an_unterminated_banner_does_not_hide_secrets() -> None:
    text = "banner motd ^C\nWelcome\nsnmp-server community Leak-1 RO\n"
    assert "Leak-1" not in redact(text, "cisco_ios")


def test_a_run_of_blank_lines_is_plain_text() -> None:
    text = "\n" * 40_000 + "enable secret 5 $1$q$w\n" + "\n" * 40_000
    assert "$1$q$w" not in for_backup(text)
    assert for_backup(text) == "enable secret 5 <redacted>\n"


def test_line_rules_stay_on_one_line() -> None:
    """Anchored at a line start, never `\\s` (it crosses newlines): linear in the text."""
    for rule in LINE_RULES:
        assert rule.pattern.startswith("^"), rule.family
        assert "\\s" not in rule.pattern, rule.family


def test_the_backup_key_is_created_once_private_and_outside_the_repository(tmp_path) -> None:
    from faellesdrift.network.redact import load_key
    from faellesdrift.network.settings import NetworkSettings

    settings = NetworkSettings(root=tmp_path, state_dir=tmp_path / "state",
                               audit_log=tmp_path / "audit.jsonl")
    path = settings.redaction_key
    assert settings.backups not in path.parents
    key = load_key(path)
    assert len(key) == 32 and load_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600
