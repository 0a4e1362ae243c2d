"""Costs per tenant under the chosen allocation model and every model (risk 3).

Reads the ``settlement`` result (``faellesdrift.settlement_result``, written by
metering): the same period under every model side by side, for each tenant what it
gains or loses against the chosen model, the components of every amount with their
basis and reasons, which months are closed and which are estimates, and each
municipality's signed statements of the closed months.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from faellesdrift import settlement_result
from faellesdrift.errors import ConfigError
from faellesdrift.model import MODEL_NAMES
from faellesdrift.reports.i18n import N_
from faellesdrift.settlement_result import (
    COMPONENTS,
    ClosedStatement,
    MonthState,
    Reason,
    SettlementResult,
    TenantSettlement,
)

#: what each component of an amount is computed from
COMPONENT_LABELS = {
    "fixed": N_("fixed"), "equal": N_("equal share"), "population": N_("population"),
    "usage": N_("usage"), "correction": N_("correction"),
}
COMPONENT_BASIS = {
    "fixed": N_("a fixed price per citizen per year (reduced above a threshold), for the "
                "shared services taken"),
    "equal": N_("an equal share per municipality, pro rata by the days it takes the service"),
    "population": N_("the number of citizens, pro rata by the days it takes the service"),
    "usage": N_("measured usage (servers, network ports, backup …) priced at the list rates"),
    "correction": N_("credits (−) and debits (+) for closed months whose figures changed"),
}

LABELS = {
    "per_capita": N_("Per capita"),
    "consumption": N_("By consumption"),
    "hybrid": N_("Hybrid (KOMBIT: per citizen + consumption)"),
    "equal_plus_population": N_("Equal share + population (eKommune)"),
}


def check_model(name: str | None) -> str | None:
    if name is not None and name not in MODEL_NAMES:
        raise ConfigError(f"--model {name!r} is not an allocation model; use one of "
                          f"{', '.join(MODEL_NAMES)}")
    return name


@dataclass(frozen=True)
class CostView:
    period: str
    currency: str
    chosen: str
    models: tuple[str, ...]  # models with figures, in the standard order
    amounts: dict[str, dict[str, Decimal]]  # tenant -> model -> amount
    generated_at: str | None
    mode: str | None = None  # showback / chargeback, when the settlement says
    chosen_missing: bool = False  # the chosen model has no figures in the settlement
    by_pool: dict[str, dict[str, dict[str, Decimal]]] | None = None  # tenant -> model -> pool
    basis: dict[str, dict] | None = None  # tenant -> {"population": n, "usage": {meter: qty}}
    result: SettlementResult | None = None  # everything metering handed over

    @property
    def state(self) -> str:
        """``closed`` (signed statements exist for the period) or ``estimate``."""
        return self.result.state if self.result else "estimate"

    @property
    def months(self) -> tuple[MonthState, ...]:
        """The months the store holds, each closed or an estimate (oldest first)."""
        return self.result.months if self.result else ()

    @property
    def closed_months(self) -> list[MonthState]:
        return [m for m in self.months if m.state == "closed"]

    @property
    def estimated_months(self) -> list[MonthState]:
        return [m for m in self.months if m.state == "estimate"]

    def tenant(self, slug: str) -> TenantSettlement | None:
        return self.result.tenants.get(slug) if self.result else None

    def tenant_basis(self, slug: str) -> str:
        t = self.tenant(slug)
        return t.basis if t else ""

    def basis_of(self, slug: str) -> tuple[int | None, list[tuple[str, Decimal]]]:
        """What the settlement counted for the tenant: citizens and usage per meter."""
        b = (self.basis or {}).get(slug) or {}
        return b.get("population"), sorted(b.get("usage", {}).items())

    def pools(self, slug: str) -> list[tuple[str, Decimal]]:
        """Where the tenant's amount under the chosen model comes from, pool by pool."""
        return sorted(((self.by_pool or {}).get(slug, {}).get(self.chosen) or {}).items())

    def components(self, slug: str) -> list[tuple[str, dict[str, Decimal], Decimal | None]]:
        """(model, component -> amount, amount) per model with a component split; the
        components of a row add up to its amount."""
        t = self.tenant(slug)
        if t is None:
            return []
        return [(m, {c: t.components[m].get(c, Decimal(0)) for c in COMPONENTS},
                 t.amounts.get(m)) for m in self.models if t.components.get(m)]

    def used_components(self, slug: str) -> list[str]:
        """The components that are not zero under any model, in the standard order."""
        rows = self.components(slug)
        return [c for c in COMPONENTS if any(comps.get(c) for _m, comps, _a in rows)]

    def reasons(self, slug: str, model: str | None = None) -> tuple[Reason, ...]:
        """The ``--explain`` lines of the tenant's amount under ``model`` (default: chosen)."""
        t = self.tenant(slug)
        return t.reasons.get(model or self.chosen, ()) if t else ()

    def closed(self, slug: str) -> tuple[ClosedStatement, ...]:
        """The tenant's signed statements, oldest first."""
        t = self.tenant(slug)
        return t.closed if t else ()

    def label(self, model: str) -> str:
        return LABELS.get(model, model)

    def total(self, model: str) -> Decimal:
        return sum((a.get(model, Decimal(0)) for a in self.amounts.values()), Decimal(0))

    def rows(self, slug: str) -> list[tuple[str, str, Decimal | None, Decimal | None]]:
        """(model, label, amount, difference against the chosen model) for one tenant."""
        mine = self.amounts.get(slug, {})
        base = mine.get(self.chosen)
        return [(m, self.label(m), mine.get(m),
                 None if base is None or mine.get(m) is None else mine[m] - base)
                for m in self.models]


def cost_view(payload: dict | None, slugs: list[str] | tuple[str, ...], *,
              chosen: str | None = None, default_model: str | None = None) -> CostView | None:
    """The settlement for these tenants, or None when there is none yet."""
    result = settlement_result.read(payload)
    if result is None:
        return None
    amounts: dict[str, dict[str, Decimal]] = {}
    by_pool: dict[str, dict[str, dict[str, Decimal]]] = {}
    basis: dict[str, dict] = {}
    seen: set[str] = set()
    for slug in slugs:
        entry = result.tenants.get(slug)
        if entry is None:
            continue
        if entry.amounts:
            amounts[slug] = dict(entry.amounts)
            seen |= set(entry.amounts)
        basis[slug] = {"population": entry.population, "usage": dict(entry.usage)}
        by_pool[slug] = {m: dict(ps) for m, ps in entry.by_pool.items()}
    if not amounts:
        return None
    models = tuple(m for m in MODEL_NAMES if m in seen) + tuple(
        sorted(seen - set(MODEL_NAMES)))
    pick = chosen or result.model or default_model or models[0]
    return CostView(result.period or "unknown period", result.currency, str(pick), models,
                    amounts, result.generated_at, result.mode, pick not in seen, by_pool, basis,
                    result)
