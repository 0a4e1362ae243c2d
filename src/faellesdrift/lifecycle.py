"""End of life of the server operating systems the tenant model accepts, as dated data.

Each row names the vendor's own lifecycle page it comes from. Two dates matter to a
municipality: when full support ends (after it: security fixes only) and when
security updates end (after it: end of life — the server can no longer be
patched). Debian's second date is its LTS end, Ubuntu's the end of standard
security maintenance (ESM needs an Ubuntu Pro subscription), Red Hat's the end of
maintenance support, Microsoft's the end of extended support. A test pins that
every operating system of the model has a row.

The core holds it because two adapters read it: ``servers facts`` dates the OS a
host reports, the reports date the OS the tenant files name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WARN_DAYS = 365  # security updates ending within a year: plan the upgrade now


@dataclass(frozen=True)
class Lifecycle:
    os: str  # as the tenant model names it
    name: str
    full_support_ends: date
    security_ends: date
    source: str


LIFECYCLE: dict[str, Lifecycle] = {r.os: r for r in (
    Lifecycle("debian11", "Debian 11 (bullseye)", date(2024, 8, 14), date(2026, 8, 31),
              "https://wiki.debian.org/LTS"),
    Lifecycle("debian12", "Debian 12 (bookworm)", date(2026, 6, 10), date(2028, 6, 30),
              "https://wiki.debian.org/LTS"),
    Lifecycle("ubuntu2204", "Ubuntu 22.04 LTS", date(2027, 4, 1), date(2027, 4, 1),
              "https://ubuntu.com/about/release-cycle"),
    Lifecycle("ubuntu2404", "Ubuntu 24.04 LTS", date(2029, 4, 1), date(2029, 4, 1),
              "https://ubuntu.com/about/release-cycle"),
    Lifecycle("rhel9", "Red Hat Enterprise Linux 9", date(2027, 5, 31), date(2032, 5, 31),
              "https://access.redhat.com/support/policy/updates/errata"),
    Lifecycle("windows2016", "Windows Server 2016", date(2022, 1, 11), date(2027, 1, 12),
              "https://learn.microsoft.com/lifecycle/products/windows-server-2016"),
    Lifecycle("windows2019", "Windows Server 2019", date(2024, 1, 9), date(2029, 1, 9),
              "https://learn.microsoft.com/lifecycle/products/windows-server-2019"),
    Lifecycle("windows2022", "Windows Server 2022", date(2026, 10, 13), date(2031, 10, 14),
              "https://learn.microsoft.com/lifecycle/products/windows-server-2022"),
    Lifecycle("windows2025", "Windows Server 2025", date(2029, 11, 13), date(2034, 11, 14),
              "https://learn.microsoft.com/lifecycle/products/windows-server-2025"),
)}


#: what a host reports (Ansible's distribution facts, lowercased) -> the model's name
_FAMILIES = {"debian": "debian", "ubuntu": "ubuntu", "redhat": "rhel"}


def os_key(distribution: str, major_version: str, version: str = "") -> str | None:
    """The lifecycle key of an OS a host reports (``Debian``, ``12``) — ``debian12`` —,
    or None when the table does not know it. Ubuntu keeps its minor version (22.04)."""
    family = _FAMILIES.get(distribution.strip().lower().replace(" ", ""))
    if family is None:
        return None
    number = version.replace(".", "") if family == "ubuntu" else major_version
    key = f"{family}{number.strip()}"
    return key if key in LIFECYCLE else None


def status_of(os: str, today: date) -> tuple[str, int | None]:
    life = LIFECYCLE.get(os)
    if life is None:
        return "unknown", None
    left = (life.security_ends - today).days
    if left < 0:
        return "end of life", left
    if left <= WARN_DAYS:
        return "ending", left
    return ("supported" if today <= life.full_support_ends else "security only"), left
