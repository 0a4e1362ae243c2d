"""Costs per tenant under the chosen allocation model and every model (risk 3).

Reads the ``settlement`` results (written by metering); the same period under
every model side by side, and for each tenant what it gains or loses against
the chosen model.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from faellesdrift.errors import ConfigError
from faellesdrift.model import MODEL_NAMES
from faellesdrift.reports.i18n import N_, to_decimal

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

    def basis_of(self, slug: str) -> tuple[int | None, list[tuple[str, Decimal]]]:
        """What the settlement counted for the tenant: citizens and usage per meter."""
        b = (self.basis or {}).get(slug) or {}
        return b.get("population"), sorted(b.get("usage", {}).items())

    def pools(self, slug: str) -> list[tuple[str, Decimal]]:
        """Where the tenant's amount under the chosen model comes from, pool by pool."""
        return sorted(((self.by_pool or {}).get(slug, {}).get(self.chosen) or {}).items())

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
    if not payload:
        return None
    community = payload.get("community") or {}
    amounts: dict[str, dict[str, Decimal]] = {}
    by_pool: dict[str, dict[str, dict[str, Decimal]]] = {}
    basis: dict[str, dict] = {}
    seen: set[str] = set()
    for slug in slugs:
        entry = (payload.get("tenants") or {}).get(slug) or {}
        raw = entry.get("amounts") or {}
        if not isinstance(raw, dict):
            continue
        figures = {m: v for m, v in ((str(m), to_decimal(v)) for m, v in raw.items()) if v is not None}
        if figures:
            amounts[slug] = figures
            seen |= set(figures)
        population = entry.get("population")
        usage = entry.get("usage") if isinstance(entry.get("usage"), dict) else {}
        basis[slug] = {
            "population": population if isinstance(population, int)
            and not isinstance(population, bool) else None,
            "usage": {str(m): q for m, q in ((m, to_decimal(v)) for m, v in usage.items())
                      if q is not None}}
        pools = entry.get("by_pool") or {}
        if isinstance(pools, dict):
            by_pool[slug] = {
                str(m): {str(p): v for p, v in ((p, to_decimal(x)) for p, x in ps.items())
                         if v is not None}
                for m, ps in pools.items() if isinstance(ps, dict)}
    if not amounts:
        return None
    models = tuple(m for m in MODEL_NAMES if m in seen) + tuple(
        sorted(seen - set(MODEL_NAMES)))
    pick = chosen or community.get("model") or default_model or models[0]
    period = str(community.get("period") or next(
        (str(e.get("period")) for e in (payload.get("tenants") or {}).values()
         if isinstance(e, dict) and e.get("period")), "unknown period"))
    return CostView(period, str(community.get("currency") or "DKK"), str(pick), models, amounts,
                    payload.get("generated_at"), community.get("mode"), pick not in seen,
                    by_pool, basis)
