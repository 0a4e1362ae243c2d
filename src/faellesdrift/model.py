"""Pydantic models for the community standards and the tenant definition files.

Frozen and ``extra="forbid"``: a typo such as ``serverz:`` is an error, never ignored.
Free text that could reach a device CLI or a template is checked here
(no control characters, no Jinja syntax); names that become file names or
hostnames cannot contain path separators.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import is_dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from ipaddress import IPv4Address, IPv4Network
from operator import attrgetter
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

from faellesdrift.municipalities import normalize_code
from faellesdrift.values import ValueType, shown

# C0/C1 controls (U+0085 included), line/paragraph separators, bidi controls, zero-width
# characters and the BOM: each can start a new device config line or hide what text says.
_CONTROL_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")  # hosts and tenant slugs
_RECORD_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")  # exception and contract ids
_CONTROL_ID = re.compile(r"^(net|srv|platform)\.[a-z0-9_]+(\.[a-z0-9_]+)*$")


def _safe_text(value: str) -> str:
    if _CONTROL_CHARS.search(value):
        raise PydanticCustomError(
            "text.control-chars",
            "contains a line break, control, bidi or zero-width character; free text must be "
            "one line of printable characters",
        )
    if "{{" in value or "{%" in value or "{#" in value:
        raise PydanticCustomError(
            "text.template-syntax", "contains template syntax ('{{', '{%' or '{#')"
        )
    return value


def _safe_name(value: str) -> str:
    if NAME.match(value):  # the pattern admits no '/', '\\' or '..'
        return value
    if "/" in value or "\\" in value or ".." in value:
        raise PydanticCustomError(
            "name.unsafe", "contains '/', '\\' or '..'; names become file and host names"
        )
    raise PydanticCustomError(
        "name.invalid",
        "must be lowercase letters, digits and '-' (e.g. 'aar-fil01'), at most 63 characters",
    )


def _safe_value(value: Any) -> Any:
    """Exception and control values may reach device CLIs: check every string inside."""
    if isinstance(value, str):
        return _safe_text(value)
    if isinstance(value, list):
        return [_safe_value(v) for v in value]
    if isinstance(value, dict):
        return {_safe_text(str(k)): _safe_value(v) for k, v in value.items()}
    return value


def _ipv4(value: Any) -> Any:
    """Parse dotted quads in C (inet_pton) — ipaddress' pure-Python parser was a third of
    the time to validate a 100,000-host estate."""
    if isinstance(value, str):
        try:
            return IPv4Address(int.from_bytes(socket.inet_pton(socket.AF_INET, value), "big"))
        except OSError:
            raise PydanticCustomError(
                "schema.value", "is not an IPv4 address such as 10.27.10.11") from None
    return value


def _code(value: object) -> str:
    try:
        return normalize_code(value)
    except ValueError as exc:
        raise PydanticCustomError("tenant.code-format", str(exc)) from None


def _id_pattern(pattern: re.Pattern[str], what: str, example: str):
    def check(value: str) -> str:
        if not pattern.match(value):
            raise PydanticCustomError("name.invalid", f"is not a valid {what} (e.g. {example!r})")
        return value

    return check


# Free text and names are checked by pydantic-core's own regex engine (Rust): a Python
# validator per value was most of the time to validate a 100,000-host estate. The same
# rules in Python explain a mismatch (`explain_mismatch`), with our rule ids.
_UNSAFE = r"\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"  # as above
_SAFE_TEXT = rf"^(?:[^{{{_UNSAFE}]|\{{[^{{%#{_UNSAFE}])*\{{?$"  # no control chars, '{{', '{{%', '{{#'
_PATTERN_CHECKS = {_SAFE_TEXT: _safe_text, NAME.pattern: _safe_name}


def explain_mismatch(pattern: str, value: object) -> PydanticCustomError | None:
    """Our rule for a value the regex `pattern` refused, if the pattern is one of ours."""
    check = _PATTERN_CHECKS.get(pattern)
    if check is None or not isinstance(value, str):
        return None
    try:
        check(value)
    except PydanticCustomError as exc:
        return exc
    return None


SafeText = Annotated[str, Field(min_length=1, max_length=500, pattern=_SAFE_TEXT)]
Name = Annotated[str, Field(strict=True, pattern=NAME.pattern)]
ExceptionId = Annotated[str, AfterValidator(_id_pattern(_RECORD_ID, "id", "ODD-EX-001"))]
ContractId = Annotated[str, AfterValidator(_id_pattern(_RECORD_ID, "contract id", "ODD-K-001"))]
ControlId = Annotated[str, AfterValidator(_id_pattern(_CONTROL_ID, "control id", "net.ntp.servers"))]
Value = Annotated[Any, AfterValidator(_safe_value)]
Count = Annotated[int, Field(strict=True, ge=0)]
Positive = Annotated[int, Field(strict=True, gt=0)]
Code = Annotated[str, BeforeValidator(_code)]
Address = Annotated[IPv4Address, BeforeValidator(_ipv4)]

Mode = Literal["shared", "local", "planned"]
#: Network device platforms (netmiko device types) the network adapter and the lab handle.
Platform = Literal["cisco_ios", "arista_eos", "juniper_junos", "cisco_nxos", "fortinet",
                   "aruba_aoscx"]
OperatingSystem = Literal["debian12", "debian11", "ubuntu2204", "ubuntu2404", "rhel9",
                          "windows2016", "windows2019", "windows2022", "windows2025"]
#: Server operating systems the shared baseline (the playbooks) covers; a server with another
#: OS is kept in the tenant file as inventory, not under the shared baseline.
BASELINE_OS: tuple[str, ...] = ("debian12", "debian11")
Layer = Literal["network", "server", "platform"]
SERVICE_CLASSES = ("servers", "network", "endpoints", "identities", "monitoring", "backup")


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


#: The assets of a tenant, of which a community has up to ~100,000: validated pydantic
#: dataclasses, built in about half the time of a model (no per-instance field set).
asset_record = dataclass(frozen=True, kw_only=True, config=ConfigDict(extra="forbid"))


@cache
def _adapter(kind: type) -> TypeAdapter:
    return TypeAdapter(kind)


def plain(value: Any, *, exclude_none: bool = False) -> Any:
    """A model, an asset record or a list of them as JSON-ready data (by field alias)."""
    if isinstance(value, (list, tuple)):
        return [plain(v, exclude_none=exclude_none) for v in value]
    if isinstance(value, BaseModel) or is_dataclass(value):
        return _adapter(type(value)).dump_python(value, mode="json", by_alias=True,
                                                 exclude_none=exclude_none)
    return value


def is_record(value: object) -> bool:
    """A model or an asset record (compared field by field)."""
    return isinstance(value, BaseModel) or (is_dataclass(value) and not isinstance(value, type))


# ---------------------------------------------------------------- tenant


class Contact(Strict):
    name: SafeText
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")]
    phone: SafeText | None = None


_OWNER = re.compile(r"^(@[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
                    r"(?:/[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)*"
                    r"|[^@\s]+@[^@\s]+\.[a-z]{2,})$")
#: who approves changes in the code host: @user, @org/team (GitLab: @group/subgroup) or an email
Owner = Annotated[str, AfterValidator(_id_pattern(_OWNER, "approver", "@odder-it or @midt/odder"))]


class Contacts(Strict):
    it_lead: Contact
    security: Contact
    local_support: Contact | None = None


class ScopeEntry(Strict):
    """Who runs a service class. ``planned`` needs ``from`` (the handover date)."""

    mode: Mode
    from_: date | None = Field(default=None, alias="from")
    security_control: SafeText | None = None
    note: SafeText | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _scope_shorthand(value: Any) -> Any:
    return {"mode": value} if isinstance(value, str) else value


Scope_ = Annotated[ScopeEntry, BeforeValidator(_scope_shorthand)]


class Scope(Strict):
    servers: Scope_
    network: Scope_
    endpoints: Scope_
    identities: Scope_
    monitoring: Scope_
    backup: Scope_

    def items(self) -> list[tuple[str, ScopeEntry]]:
        return [(name, getattr(self, name)) for name in SERVICE_CLASSES]


class Network(Strict):
    name: Name
    vlan: Annotated[int, Field(strict=True, ge=1, le=4094)]
    prefix: IPv4Network
    purpose: SafeText | None = None


@asset_record
class Server:
    name: Name
    address: Address
    os: OperatingSystem
    role: SafeText
    vcpu: Annotated[int, Field(strict=True, gt=0, le=1_024)]
    memory_gb: Annotated[int, Field(strict=True, gt=0, le=65_536)]
    disk_gb: Annotated[int, Field(strict=True, gt=0, le=10_000_000)]
    criticality: Literal["low", "medium", "high"] = "medium"
    backup: Literal["none", "daily", "hourly"] = "daily"


@asset_record
class NetworkDevice:
    name: Name
    platform: Platform
    address: Address
    role: Literal["core", "distribution", "access", "firewall", "wan", "wlan-controller"]
    site: SafeText
    ports: Annotated[int, Field(strict=True, gt=0, le=100_000)]
    # as the device reports them (`faellesdrift discover` fills them and flags differences)
    model: SafeText | None = None
    serial: SafeText | None = None
    os_version: SafeText | None = None


@asset_record
class OtherAsset:
    """Kit the community must know but does not run under the shared baseline (a FortiGate
    under a local contract, an Aruba switch): inventory only, never handed to an adapter."""

    name: Name
    kind: Literal["network_device", "server", "appliance"]
    platform: SafeText  # as the source names it, e.g. "FortiGate 100F"
    address: Address | None = None
    role: SafeText | None = None
    site: SafeText | None = None
    reason: SafeText  # why it is not under the shared baseline


class AssetCount(Strict):
    """Things the community does not run yet but must see (risk 5): counts only."""

    count: Annotated[int, Field(strict=True, ge=0, le=10_000_000)]
    covered_by: SafeText | None = None
    security_control: SafeText | None = None


class ExceptionRecord(Strict):
    """An approved, time-boxed deviation from one control for some of the tenant's hosts."""

    id: ExceptionId
    control: ControlId
    hosts: Annotated[list[Name], Field(min_length=1)]
    value: Value
    category: Literal["waiver", "mitigated"]
    # not_delivered: the community does not deliver the service on these hosts (not billed)
    delivery: Literal["delivered", "not_delivered"] = "delivered"
    compensating_control: SafeText | None = None
    justification: SafeText
    risk_owner: SafeText
    approved_by: SafeText | None = None
    approved_on: date | None = None
    expires: date | None = None
    contract: ContractId | None = None


class Contract(Strict):
    """An existing local investment (risk 2): kept until it ends."""

    id: ContractId
    supplier: SafeText
    covers: Annotated[list[Name], Field(min_length=1)]
    ends: date
    yearly_dkk: Annotated[int, Field(strict=True, ge=0, le=10_000_000_000)]
    early_exit_dkk: Annotated[int, Field(strict=True, ge=0, le=10_000_000_000)]


class Onboarding(Strict):
    wave: Annotated[int, Field(strict=True, ge=1, le=10)]
    target: date


class Tenant(Strict):
    code: Code
    slug: Name
    name: SafeText
    population: Annotated[int, Field(strict=True, gt=0, le=2_000_000)]
    contacts: Contacts
    scope: Scope
    networks: list[Network] = []
    servers: list[Server] = []
    network_devices: list[NetworkDevice] = []
    other_assets: list[OtherAsset] = []
    endpoints: AssetCount
    identities: AssetCount
    exceptions: list[ExceptionRecord] = []
    contracts: list[Contract] = []
    onboarding: Onboarding
    # who approves changes to this file on the municipality's behalf (CODEOWNERS)
    approvers: list[Owner] = []

    @property
    def hostnames(self) -> set[str]:
        return {s.name for s in self.servers} | {d.name for d in self.network_devices}


# ---------------------------------------------------------------- standards


class VlanRange(Strict):
    min: Annotated[int, Field(strict=True, ge=1, le=4094)]
    max: Annotated[int, Field(strict=True, ge=1, le=4094)]


class Endpoint(Strict):
    host: Address
    port: Annotated[int, Field(strict=True, ge=1, le=65535)]
    protocol: Literal["udp", "tcp"] = "tcp"


class SharedServices(Strict):
    prefix: IPv4Network
    ntp: Annotated[list[Address], Field(min_length=1)]
    dns: Annotated[list[Address], Field(min_length=1)]
    syslog: Endpoint
    monitoring: Endpoint
    backup: Endpoint


class Quota(Strict):
    """A tenant's compute quota. The one rule on it, `over`, is applied by the guardrails to
    the tenant file and by the platform's policy pack to what a stack would place."""

    vcpu: Positive
    memory_gb: Positive
    disk_gb: Positive

    #: the resources a quota bounds, as named on Server and on a server placement
    FIELDS: ClassVar[tuple[str, ...]] = ("vcpu", "memory_gb", "disk_gb")

    def usage(self, placed: Iterable[Any]) -> dict[str, tuple[float, int]]:
        """(used, allowed) per resource for these servers: objects with the FIELDS as
        attributes, or mappings (a placement's properties)."""
        items = list(placed)
        if items and isinstance(items[0], Mapping):
            used = {f: sum(v for item in items if isinstance(v := item.get(f), (int, float)))
                    for f in self.FIELDS}
        else:
            used = {f: sum(map(attrgetter(f), items)) for f in self.FIELDS}
        return {f: (int(u) if u == int(u) else u, getattr(self, f)) for f, u in used.items()}

    def over(self, placed: Iterable[Any]) -> list[tuple[str, float, int]]:
        """(resource, used, allowed) for every resource these servers take beyond the quota."""
        return [(f, used, allowed) for f, (used, allowed) in self.usage(placed).items()
                if used > allowed]


class Quotas(Strict):
    default: Quota
    per_tenant: dict[str, Quota] = {}


class Control(Strict):
    id: ControlId
    layer: Layer
    description: SafeText
    value_type: ValueType  # what the default and every exception value must look like
    default: Value
    secret: bool = False  # values never reach reports, logs or JSON output
    mandatory: bool
    max_exception_days: Annotated[int, Field(strict=True, gt=0)] | None = None

    @model_validator(mode="after")
    def _default_fits_its_type(self) -> Control:
        problem = self.value_type.problem(self.default)
        if problem:
            raise PydanticCustomError(
                "control.default-type", "default does not fit value_type: {problem}; expected "
                "{expected}", {"problem": problem, "expected": self.value_type.describe()})
        return self

    def shown(self, value: Any) -> Any:
        """The value as reports and JSON may show it (secret values masked)."""
        return shown(value, self.secret)

    @field_validator("max_exception_days")
    @classmethod
    def _days_for_waivable(cls, days: int | None, info) -> int | None:
        if not info.data.get("mandatory", True) and days is None:
            raise PydanticCustomError(
                "control.max-days-missing", "a waivable control needs max_exception_days"
            )
        return days


# ---------------------------------------------------------------- settlement

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_METER = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")

PoolName = Literal["servers", "network", "endpoints", "identities", "monitoring", "backup",
                   "operations"]
ModelName = Literal["per_capita", "consumption", "hybrid", "equal_plus_population"]
MODEL_NAMES: tuple[str, ...] = ("per_capita", "consumption", "hybrid", "equal_plus_population")
Money = Annotated[Decimal, Field(ge=0, le=10_000_000_000, max_digits=15, decimal_places=2,
                                 allow_inf_nan=False)]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=4)]
MonthId = Annotated[str, AfterValidator(_id_pattern(_PERIOD, "month", "2027-07"))]
MeterName = Annotated[str, AfterValidator(_id_pattern(_METER, "meter name", "server.vcpu"))]


class MeterRate(Strict):
    """List price of one meter: DKK per unit-month (levels) or per event (counters)."""

    pool: PoolName
    dkk: Money


class PerCapitaParams(Strict):
    """Each pool split by population over the tenants that share the service."""


class ConsumptionParams(Strict):
    """Each pool split by consumption priced at the list rates (``settlement.rates``)."""


class HybridParams(Strict):
    """KOMBIT's model: a fixed price per citizen per year, reduced above a threshold,
    plus the rest of the pool by consumption."""

    base_dkk_per_citizen: Annotated[Decimal, Field(ge=0, le=10_000, decimal_places=4,
                                                   allow_inf_nan=False)] = Decimal(25)
    threshold_citizens: Annotated[int, Field(strict=True, ge=0, le=2_000_000)] = 150_000
    above_threshold_factor: Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)] = Decimal(
        "0.5")


class EqualPlusPopulationParams(Strict):
    """Norway's eKommune: a share split equally, the rest by population."""

    equal_pct: Percent = Decimal(30)
    population_pct: Percent = Decimal(70)

    @model_validator(mode="after")
    def _sums_to_100(self) -> EqualPlusPopulationParams:
        total = self.equal_pct + self.population_pct
        if total != 100:
            raise PydanticCustomError(
                "settlement.percent-sum",
                "equal_pct + population_pct is {total} %; they must sum to 100 % "
                "(e.g. equal_pct: 30, population_pct: 70)", {"total": str(total)})
        return self


class SettlementModels(Strict):
    per_capita: PerCapitaParams = PerCapitaParams()
    consumption: ConsumptionParams = ConsumptionParams()
    hybrid: HybridParams = HybridParams()
    equal_plus_population: EqualPlusPopulationParams = EqualPlusPopulationParams()


class PeriodPolicy(Strict):
    """Showback before chargeback: computed and reported, not invoiced, until ``chargeback_from``."""

    default: Literal["showback", "chargeback"] = "showback"
    chargeback_from: MonthId | None = None
    showback: list[MonthId] = []  # months kept as showback even after chargeback_from

    def mode(self, month: str) -> Literal["showback", "chargeback"]:
        if month in self.showback:
            return "showback"
        if self.chargeback_from is not None and month >= self.chargeback_from:
            return "chargeback"
        return self.default


class Settlement(Strict):
    """How the community's yearly cost is spread over its tenants."""

    currency: Literal["DKK"] = "DKK"
    default_model: ModelName = "hybrid"
    pools: Annotated[dict[PoolName, Annotated[Money, Field(gt=0)]], Field(min_length=1)]
    rates: Annotated[dict[MeterName, MeterRate], Field(min_length=1)]
    models: SettlementModels = SettlementModels()
    periods: PeriodPolicy = PeriodPolicy()

    @model_validator(mode="after")
    def _pools_and_rates_agree(self) -> Settlement:
        unknown = sorted({r.pool for r in self.rates.values()} - set(self.pools))
        if unknown:
            raise PydanticCustomError(
                "settlement.pool-unknown",
                "a rate names pool(s) {pools} that settlement.pools does not list; "
                "add the pool with its yearly DKK or fix the rate's pool",
                {"pools": ", ".join(unknown)})
        unpriced = sorted(set(self.pools) - {r.pool for r in self.rates.values()})
        if unpriced:
            raise PydanticCustomError(
                "settlement.pool-unmetered",
                "pool(s) {pools} have no meter in settlement.rates, so consumption cannot "
                "split them; give each pool at least one rate",
                {"pools": ", ".join(unpriced)})
        return self


class Approvals(Strict):
    """The company's groups in the code host: operations co-own every tenant file, the
    board owns the standards (community.yaml, schemas) and decides on exceptions."""

    operations: Annotated[list[Owner], Field(min_length=1)]
    board: Annotated[list[Owner], Field(min_length=1)]


class Standards(Strict):
    """The community standards file: what is shared by every tenant."""

    community: SafeText
    operator: SafeText
    region: SafeText
    vlan_range: VlanRange
    pools: dict[str, IPv4Network]
    shared_services: SharedServices
    quotas: Quotas
    controls: Annotated[list[Control], Field(min_length=1)]
    settlement: Settlement | None = None  # required by `meter` and `bill`
    approvals: Approvals | None = None  # required by `codeowners`

    def quota_for(self, slug: str) -> Quota:
        return self.quotas.per_tenant.get(slug, self.quotas.default)

    def control(self, control_id: str) -> Control | None:
        return next((c for c in self.controls if c.id == control_id), None)
