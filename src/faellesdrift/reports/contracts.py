"""Local contracts (risk 2): what ending each one early costs against keeping it to term.

- **ended early**: the contract's ``early_exit_dkk`` — paid once, a write-off;
- **kept to term**: the yearly cost for the rest of the contract, pro rata by
  day from ``as_of`` (today) to ``ends``: ``yearly_dkk × days / 365``;
- **shared charge after exit**: what the municipality pays the community for the
  assets the contract covers once they move, at the community's list prices
  (``settlement.rates``, DKK per unit-month) over the same remaining days — ending
  early is only cheaper when the exit fee plus this charge is below the cost to term;
- a contract **blocks migration** when it ends after the tenant's onboarding
  target: the assets it covers either leave early (and the exit is paid) or
  stay local past the wave.

Money is Decimal and rounded to whole øre; leap days are ignored (365-day year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from faellesdrift.model import Contract, MeterRate, Tenant

ORE = Decimal("0.01")
YEAR_DAYS = 365
MONTH_DAYS = Decimal(YEAR_DAYS) / 12


def monthly_list_price(tenant: Tenant, hosts: list[str] | tuple[str, ...],
                       rates: dict[str, MeterRate]) -> Decimal:
    """The community's list price per month for these hosts, from the level meters a host
    carries (vCPU, memory, disk and one server; one device and its ports)."""
    def rate(meter: str) -> Decimal:
        r = rates.get(meter)
        return Decimal(str(r.dkk)) if r is not None else Decimal(0)

    total = Decimal(0)
    for s in tenant.servers:
        if s.name in hosts:
            total += (rate("server.vcpu") * s.vcpu + rate("server.memory_gb") * s.memory_gb
                      + rate("server.disk_gb") * s.disk_gb + rate("server.count"))
    for d in tenant.network_devices:
        if d.name in hosts:
            total += rate("network.device") + rate("network.port") * d.ports
    return total


@dataclass(frozen=True)
class Exposure:
    tenant: str
    contract: Contract
    as_of: date
    target: date  # the tenant's onboarding target
    monthly_shared_dkk: Decimal = Decimal(0)  # list price of the covered assets once shared

    @property
    def remaining_days(self) -> int:
        return max(0, (self.contract.ends - self.as_of).days)

    @property
    def ended(self) -> bool:
        return self.remaining_days == 0

    @property
    def early_exit_dkk(self) -> Decimal:
        return Decimal(0) if self.ended else Decimal(self.contract.early_exit_dkk)

    @property
    def kept_to_term_dkk(self) -> Decimal:
        amount = Decimal(self.contract.yearly_dkk) * self.remaining_days / YEAR_DAYS
        return amount.quantize(ORE, rounding=ROUND_HALF_UP)

    @property
    def shared_after_exit_dkk(self) -> Decimal:
        """The shared charge for the covered assets from today to the contract's end."""
        amount = self.monthly_shared_dkk * self.remaining_days / MONTH_DAYS
        return amount.quantize(ORE, rounding=ROUND_HALF_UP)

    @property
    def ended_early_dkk(self) -> Decimal:
        """Everything ending early costs until the contract would have ended."""
        return self.early_exit_dkk + self.shared_after_exit_dkk

    @property
    def blocks_migration(self) -> bool:
        return self.contract.ends > self.target

    @property
    def saving_if_ended_early_dkk(self) -> Decimal:
        """Positive: ending early (exit fee + shared charge) saves this much against paying to
        term; negative: ending early costs this much more."""
        return self.kept_to_term_dkk - self.ended_early_dkk

    @property
    def cheaper(self) -> str:
        if self.ended:
            return "already ended"
        s = self.saving_if_ended_early_dkk
        if s > 0:
            return "end early"
        if s < 0:
            return "keep to term"
        return "the same either way"

    def advice(self) -> str:
        c = self.contract
        covers = ", ".join(c.covers)
        return (f"{c.id} ({c.supplier}) runs to {c.ends}, after the wave target {self.target}: "
                f"end it early (DKK {self.early_exit_dkk:,.0f} exit fee + DKK "
                f"{self.shared_after_exit_dkk:,.0f} shared charge) or keep {covers} local until "
                f"then (DKK {self.kept_to_term_dkk:,.0f} to term)")

    def to_dict(self) -> dict:
        c = self.contract
        return {"tenant": self.tenant, "id": c.id, "supplier": c.supplier, "covers": list(c.covers),
                "ends": c.ends.isoformat(), "yearly_dkk": c.yearly_dkk,
                "early_exit_dkk": float(self.early_exit_dkk),
                "kept_to_term_dkk": float(self.kept_to_term_dkk),
                "shared_after_exit_dkk": float(self.shared_after_exit_dkk),
                "saving_if_ended_early_dkk": float(self.saving_if_ended_early_dkk),
                "remaining_days": self.remaining_days,
                "blocks_migration": self.blocks_migration, "cheaper": self.cheaper}


def exposures(tenant: Tenant, as_of: date,
              rates: dict[str, MeterRate] | None = None) -> list[Exposure]:
    """Each local contract of the tenant; with ``rates`` (the community's list prices) the
    shared charge its assets carry once they move is counted against ending early."""
    return [Exposure(tenant.slug, c, as_of, tenant.onboarding.target,
                     monthly_list_price(tenant, c.covers, rates or {}))
            for c in tenant.contracts]


@dataclass(frozen=True)
class Totals:
    early_exit_dkk: Decimal
    kept_to_term_dkk: Decimal
    blocking: int
    contracts: int
    shared_after_exit_dkk: Decimal = Decimal(0)

    @property
    def ended_early_dkk(self) -> Decimal:
        return self.early_exit_dkk + self.shared_after_exit_dkk


def totals(items: list[Exposure]) -> Totals:
    return Totals(sum((e.early_exit_dkk for e in items), Decimal(0)),
                  sum((e.kept_to_term_dkk for e in items), Decimal(0)),
                  sum(e.blocks_migration for e in items), len(items),
                  sum((e.shared_after_exit_dkk for e in items), Decimal(0)))
