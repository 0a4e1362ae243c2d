"""The settlement result: what metering hands the reports about a period's costs, typed.

One writer (metering: ``bill --compare`` and ``bill close`` save it through
``faellesdrift.results`` as the ``settlement`` kind) and one reader (the reports'
costs section, through ``read``). It says, per municipality:

- the period the comparison was made for and whether it is ``closed`` (the
  municipality's statement for that month is signed) or an ``estimate`` (an open
  month: a draft that corrections and late usage may still change);
- the amount under every allocation model, split into its components
  (``fixed``, ``equal``, ``population``, ``usage``, ``correction``) and into cost
  pools, with the basis (citizens, go-live, usage per meter) and the ``--explain``
  reasons line by line;
- every closed month of the store: model, amount, components, pools, reasons,
  corrections, when and by whom it was closed, and the statement's SHA-256.

The payload inside the results envelope (``results.save`` merges tenant entries)::

    community: {"version": 2, "period": "2026-11", "state": "estimate",
                "currency": "DKK", "mode": "showback", "model": "hybrid",
                "total_dkk": "1234.50",
                "months": [{"period": "2026-10", "state": "closed", "model": "hybrid",
                            "total_dkk": "…", "closed_at": "…", "who": "…"},
                           {"period": "2026-11", "state": "estimate", …}]}
    tenants.<slug>: {"period": "2026-11", "state": "estimate", "population": 24000,
                     "basis": "live since 2026-11-01",
                     "usage": {"server.vcpu": "12"},
                     "amounts": {"<model>": "123.45"},
                     "by_pool": {"<model>": {"<pool>": "…"}},
                     "components": {"<model>": {"<component>": "…"}},
                     "reasons": {"<model>": [{"pool", "component", "text", "amount_dkk"}]},
                     "closed": [{"period", "model", "mode", "amount_dkk", "components",
                                 "by_pool", "reasons", "corrections", "basis",
                                 "closed_at", "who", "sha256"}]}

Amounts are decimal strings in kroner with øre ("1234.50"), exact. ``read`` takes
the payload as data from elsewhere: a field of the wrong shape is left out, never
raised, and a payload of version 1 (amounts and pools only) still reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

KIND = "settlement"
VERSION = 2
COMPONENTS = ("fixed", "equal", "population", "usage", "correction")
State = Literal["closed", "estimate"]


def money(ore: int) -> str:
    """øre → an exact decimal string in kroner ("-12.05")."""
    sign = "-" if ore < 0 else ""
    whole, cents = divmod(abs(int(ore)), 100)
    return f"{sign}{whole}.{cents:02d}"


def to_decimal(value: Any) -> Decimal | None:
    """A finite Decimal from a number or numeric string of a payload, else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _str(value: Any, limit: int = 400) -> str:
    return "" if value is None else str(value)[:limit]


def _amounts(raw: Any) -> dict[str, Decimal]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): d for k, v in raw.items() if (d := to_decimal(v)) is not None}


def _nested(raw: Any) -> dict[str, dict[str, Decimal]]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): _amounts(v) for k, v in raw.items() if isinstance(v, Mapping)}


@dataclass(frozen=True)
class Reason:
    """One ``--explain`` line: which pool and component, the words, and the amount if it
    adds up (detail lines under it have none)."""

    pool: str
    component: str
    text: str
    amount: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"pool": self.pool, "component": self.component, "text": self.text,
                "amount_dkk": None if self.amount is None else str(self.amount)}

    @classmethod
    def read(cls, raw: Any) -> Reason | None:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("text"), str):
            return None
        return cls(_str(raw.get("pool"), 60), _str(raw.get("component"), 30),
                   _str(raw.get("text")), to_decimal(raw.get("amount_dkk")))


def _reasons(raw: Any) -> tuple[Reason, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return ()
    return tuple(r for x in raw[:500] if (r := Reason.read(x)) is not None)


@dataclass(frozen=True)
class Correction:
    """A credit (−) or debit (+) for an earlier closed month, and what changed."""

    for_period: str
    amount: Decimal
    what: str

    def to_dict(self) -> dict[str, Any]:
        return {"for_period": self.for_period, "amount_dkk": str(self.amount),
                "what": self.what}

    @classmethod
    def read(cls, raw: Any) -> Correction | None:
        if not isinstance(raw, Mapping) or (a := to_decimal(raw.get("amount_dkk"))) is None:
            return None
        return cls(_str(raw.get("for_period"), 10), a, _str(raw.get("what")))


def _corrections(raw: Any) -> tuple[Correction, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return ()
    return tuple(c for x in raw[:100] if (c := Correction.read(x)) is not None)


@dataclass(frozen=True)
class ClosedStatement:
    """One municipality's signed statement for one closed month."""

    period: str
    model: str
    mode: str
    amount: Decimal
    components: dict[str, Decimal]
    by_pool: dict[str, Decimal]
    reasons: tuple[Reason, ...] = ()
    corrections: tuple[Correction, ...] = ()
    basis: str = ""
    closed_at: str = ""
    who: str = ""
    sha256: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "model": self.model, "mode": self.mode,
                "amount_dkk": str(self.amount),
                "components": {k: str(v) for k, v in self.components.items()},
                "by_pool": {k: str(v) for k, v in self.by_pool.items()},
                "reasons": [r.to_dict() for r in self.reasons],
                "corrections": [c.to_dict() for c in self.corrections],
                "basis": self.basis, "closed_at": self.closed_at, "who": self.who,
                "sha256": self.sha256}

    @classmethod
    def read(cls, raw: Any) -> ClosedStatement | None:
        if not isinstance(raw, Mapping) or (a := to_decimal(raw.get("amount_dkk"))) is None:
            return None
        return cls(_str(raw.get("period"), 10), _str(raw.get("model"), 40),
                   _str(raw.get("mode"), 20), a, _amounts(raw.get("components")),
                   _amounts(raw.get("by_pool")), _reasons(raw.get("reasons")),
                   _corrections(raw.get("corrections")), _str(raw.get("basis")),
                   _str(raw.get("closed_at"), 40), _str(raw.get("who"), 80),
                   _str(raw.get("sha256"), 64))


@dataclass(frozen=True)
class TenantSettlement:
    """One municipality: the period under every model, and its closed months."""

    period: str
    state: State
    population: int | None
    amounts: dict[str, Decimal]  # model → amount
    by_pool: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # model → pool →
    components: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # model → comp →
    reasons: dict[str, tuple[Reason, ...]] = field(default_factory=dict)  # model → lines
    usage: dict[str, Decimal] = field(default_factory=dict)  # meter → quantity counted
    basis: str = ""  # "live since 2026-11-01", "live from …: 10/30 days", "not live (…)"
    closed: tuple[ClosedStatement, ...] = ()  # oldest first
    generated_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period, "state": self.state, "population": self.population,
            "basis": self.basis, "usage": {k: str(v) for k, v in self.usage.items()},
            "amounts": {k: str(v) for k, v in self.amounts.items()},
            "by_pool": {m: {p: str(v) for p, v in ps.items()} for m, ps in self.by_pool.items()},
            "components": {m: {c: str(v) for c, v in cs.items()}
                           for m, cs in self.components.items()},
            "reasons": {m: [r.to_dict() for r in rs] for m, rs in self.reasons.items()},
            "closed": [c.to_dict() for c in self.closed],
        }

    @classmethod
    def read(cls, raw: Any, period: str, state: State) -> TenantSettlement | None:
        if not isinstance(raw, Mapping):
            return None
        population = raw.get("population")
        closed = raw.get("closed")
        reasons = raw.get("reasons")
        return cls(
            _str(raw.get("period"), 10) or period,
            "closed" if raw.get("state", state) == "closed" else "estimate",
            population if isinstance(population, int) and not isinstance(population, bool)
            else None,
            _amounts(raw.get("amounts")), _nested(raw.get("by_pool")),
            _nested(raw.get("components")),
            {str(m): _reasons(v) for m, v in reasons.items()}
            if isinstance(reasons, Mapping) else {},
            _amounts(raw.get("usage")), _str(raw.get("basis")),
            tuple(c for x in closed[:240] if (c := ClosedStatement.read(x)) is not None)
            if isinstance(closed, Sequence) and not isinstance(closed, str) else (),
            _str(raw.get("generated_at"), 40) or None)


@dataclass(frozen=True)
class MonthState:
    """A month of the store as the reports show its data coverage."""

    period: str
    state: State
    model: str = ""
    total: Decimal | None = None
    closed_at: str = ""
    who: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "state": self.state, "model": self.model,
                "total_dkk": None if self.total is None else str(self.total),
                "closed_at": self.closed_at, "who": self.who}

    @classmethod
    def read(cls, raw: Any) -> MonthState | None:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("period"), str):
            return None
        return cls(_str(raw["period"], 10),
                   "closed" if raw.get("state") == "closed" else "estimate",
                   _str(raw.get("model"), 40), to_decimal(raw.get("total_dkk")),
                   _str(raw.get("closed_at"), 40), _str(raw.get("who"), 80))


@dataclass(frozen=True)
class SettlementResult:
    """The whole artefact: the community's figures and one entry per municipality."""

    period: str
    state: State
    currency: str
    mode: str | None
    model: str | None  # the community's chosen (default) model
    tenants: dict[str, TenantSettlement]
    months: tuple[MonthState, ...] = ()
    total: Decimal | None = None
    generated_at: str | None = None
    version: int = VERSION

    def to_payload(self) -> dict[str, Any]:
        """The ``settlement`` results payload (``results.save`` adds the envelope)."""
        community: dict[str, Any] = {
            "version": VERSION, "period": self.period, "state": self.state,
            "currency": self.currency, "mode": self.mode, "model": self.model,
            "months": [m.to_dict() for m in self.months]}
        if self.total is not None:
            community["total_dkk"] = str(self.total)
        return {"community": community,
                "tenants": {slug: t.to_dict() for slug, t in self.tenants.items()}}

    @property
    def closed_months(self) -> list[str]:
        return [m.period for m in self.months if m.state == "closed"]

    @property
    def estimated_months(self) -> list[str]:
        return [m.period for m in self.months if m.state == "estimate"]


def read(payload: Mapping[str, Any] | None) -> SettlementResult | None:
    """The typed result from a saved payload, or None when there is none."""
    if not isinstance(payload, Mapping):
        return None
    community = payload.get("community") if isinstance(payload.get("community"),
                                                       Mapping) else {}
    raw_tenants = payload.get("tenants") if isinstance(payload.get("tenants"), Mapping) else {}
    period = _str(community.get("period"), 10) or next(
        (_str(e.get("period"), 10) for e in raw_tenants.values()
         if isinstance(e, Mapping) and e.get("period")), "")
    state: State = "closed" if community.get("state") == "closed" else "estimate"
    tenants = {str(slug): t for slug, e in raw_tenants.items()
               if (t := TenantSettlement.read(e, period, state)) is not None}
    months = community.get("months")
    version = community.get("version")
    return SettlementResult(
        period, state, _str(community.get("currency"), 3) or "DKK",
        _str(community.get("mode"), 20) or None, _str(community.get("model"), 40) or None,
        tenants,
        tuple(m for x in months[:240] if (m := MonthState.read(x)) is not None)
        if isinstance(months, Sequence) and not isinstance(months, str) else (),
        to_decimal(community.get("total_dkk")), _str(payload.get("generated_at"), 40) or None,
        version if isinstance(version, int) and not isinstance(version, bool) else 1)
