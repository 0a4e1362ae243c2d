"""Writes the test asset lists: a realistic spreadsheet for Hedensted (766) and a NetBox export.

Deterministic (a fixed seed), so the committed files can be regenerated:
``.venv/bin/python -m tests.importing.make_data``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

DATA = Path(__file__).parent / "data"
HEADERS = ["Værtsnavn", "IP-adresse", "Type", "Styresystem", "Model", "Rolle", "Lokation",
           "Ejer", "vCPU", "RAM (GB)", "Disk (GB)", "Porte", "Kontraktudløb", "Notes"]
SITES = ["Rådhuset", "Juelsminde Skole", "Tørring Plejecenter", "Løsning Bibliotek",
         "Materielgården"]


def hedensted_rows(servers: int = 60, switches: int = 70, endpoints: int = 180,
                   seed: int = 766) -> list[list[object]]:
    rnd = random.Random(seed)
    rows: list[list[object]] = []
    for i in range(1, servers + 1):
        windows = i % 3 != 0  # a mostly Windows estate
        os_name = rnd.choice(["Windows Server 2019 Standard", "Windows Server 2016",
                              "Windows Server 2022 Datacenter"]) if windows else \
            rnd.choice(["Debian 12", "Debian GNU/Linux 11 (bullseye)"])
        role = rnd.choice(["dc", "citrix", "fileserver", "esdh", "sql", "print"])
        rows.append([f"HED-SRV{i:03d}.hedensted.local",
                     f"10.66.{10 + (i - 1) // 200}.{(i - 1) % 200 + 11}", "Server", os_name,
                     "VMware Virtual Platform", role, "Rådhuset", "IT", rnd.choice([1, 2]),
                     rnd.choice([4, 8]), rnd.choice([60, 100, 120]), None, None, None])
    models = [("Cisco Catalyst 9300-48P", "access"), ("Cisco Catalyst 9500-24Y4C", "core"),
              ("Arista DCS-7050SX-64", "distribution"), ("Juniper SRX345", "firewall")]
    for i in range(1, switches + 1):
        model, role = models[0] if i > 4 else models[i - 1]
        rows.append([f"hed-sw{i:03d}", f"10.66.{(i - 1) // 250}.{(i - 1) % 250 + 2}", "Switch" if role != "firewall"
                     else "Firewall", None, model, role, SITES[i % len(SITES)], "Netværk", None,
                     None, None, None, "2028-06-30" if role == "firewall" else None, None])
    rows.append(["hed-fw-forti", "10.66.0.200", "Firewall", None, "FortiGate 100F", "firewall",
                 "Rådhuset", "Netværk", None, None, None, 10, "2027-12-31", "local vendor"])
    for i in range(1, endpoints + 1):
        rows.append([f"HED-PC{i:04d}", None, rnd.choice(["PC", "Bærbar", "Laptop"]),
                     "Windows 11", None, None, rnd.choice(SITES), None, None, None, None, None,
                     None, None])
    # what real lists hold: blanks, duplicates, bad addresses, kit nobody knows
    rows[5:5] = [[None] * len(HEADERS)]
    rows[40:40] = [[None] * len(HEADERS)]
    rows.append(list(rows[0]))  # the same server twice
    rows.append(["hed-srv999", "10.66.10.300", "Server", "Windows Server 2019", None, "app",
                 "Rådhuset", "IT", 2, 4, 60, None, None, "typo in the address"])
    rows.append(["hed-srv998", "n/a", "Server", "Debian 12", None, "app", "Rådhuset", "IT", 2, 4,
                 60, None, None, None])
    rows.append(["hed-srv997", "10.27.10.11", "Server", "Debian 12", None, "app", "Rådhuset",
                 "IT", 2, 4, 60, None, None, "Odder's address"])
    rows.append(["hed-pbx01", "10.66.20.5", "Server", "OpenVMS 8.4", None, "pbx", "Rådhuset",
                 "IT", 1, 2, 20, None, None, None])
    rows.append([None, "10.66.10.250", "Server", "Debian 12", None, None, None, None, None, None,
                 None, None, None, "no name"])
    return rows


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Aktiver")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    book.save(path)


def netbox_export() -> dict:
    tenant = {"id": 7, "name": "Horsens Kommune", "slug": "horsens-kommune",
              "custom_fields": {"kommunekode": "615"}}
    other = {"id": 8, "name": "Skanderborg", "slug": "skanderborg"}
    ref = {"id": 7, "name": "Horsens Kommune", "slug": "horsens-kommune"}
    devices = [
        {"id": 1, "name": "hor-core-a", "tenant": ref, "role": {"slug": "core", "name": "Core"},
         "device_type": {"model": "C9500-48Y4C", "manufacturer": {"name": "Cisco"}},
         "platform": {"slug": "cisco_ios", "name": "Cisco IOS"}, "site": {"name": "Rådhuset"},
         "primary_ip4": {"address": "10.15.200.1/24"}},
        {"id": 2, "name": "hor-acc-a", "tenant": ref, "role": {"slug": "access"},
         "device_type": {"model": "DCS-7010T-48", "manufacturer": {"name": "Arista"}},
         "platform": {"slug": "eos"}, "site": {"name": "Bygningen"},
         "primary_ip4": {"address": "10.15.200.2/24"}, "custom_fields": {"ports": 48}},
        {"id": 3, "name": "hor-fw-a", "tenant": ref, "role": {"slug": "firewall"},
         "device_type": {"model": "SRX345", "manufacturer": {"name": "Juniper"}},
         "platform": None, "site": {"name": "Rådhuset"},
         "primary_ip4": {"address": "10.15.200.3/24"}},
        {"id": 4, "name": "skb-sw", "tenant": other, "role": {"slug": "access"},
         "device_type": {"model": "C9300-24T"}, "primary_ip4": {"address": "10.46.0.9/24"}},
    ]
    vms = [
        {"id": 10, "name": "hor-dc-a", "tenant": ref, "platform": {"name": "Windows Server 2019"},
         "role": {"name": "dc"}, "vcpus": 2.0, "memory": 8192, "disk": 102400,
         "primary_ip4": {"address": "10.15.210.10/24"}},
        {"id": 11, "name": "hor-app-a", "tenant": ref, "platform": {"slug": "debian12"},
         "role": {"name": "app"}, "vcpus": 4.0, "memory": 16384, "disk": 200,
         "primary_ip4": {"address": "10.15.210.11/24"}},
    ]
    prefixes = [
        {"id": 20, "prefix": "10.15.200.0/24", "tenant": ref, "vlan": {"vid": 300, "name": "net-mgmt"}},
        {"id": 21, "prefix": "10.15.210.0/24", "tenant": ref, "vlan": {"vid": 310, "name": "srv"}},
        {"id": 22, "prefix": "10.46.0.0/24", "tenant": other},
    ]
    vlans = [{"id": 30, "vid": 300, "name": "net-mgmt", "tenant": ref},
             {"id": 31, "vid": 310, "name": "srv", "tenant": ref}]
    return {"tenants": {"count": 2, "results": [tenant, other]}, "devices": devices,
            "virtual_machines": vms, "prefixes": prefixes, "vlans": vlans}


def main() -> None:
    DATA.mkdir(exist_ok=True)
    write_xlsx(DATA / "hedensted_assets.xlsx", hedensted_rows())
    (DATA / "horsens_netbox.json").write_text(json.dumps(netbox_export(), indent=1,
                                                         ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
