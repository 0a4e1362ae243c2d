"""The record provider: the base of every faellesdrift dynamic provider.

A record provider keeps the desired state in the stack and nothing else (a
registration: the shared company's books say "this server is placed here,
enrolled there"). Providers with real effects (the lab) override
``realise`` / ``remove`` / ``observe``; diffing, ids and outputs stay here so
every kind behaves the same:

- inputs are plain values; the outputs are the inputs plus ``status`` (what the
  target reports: addresses, ports, …);
- changes to identity keys (``IDENTITY`` per kind) replace the resource, delete first;
- keys in ``never_diff`` (lab seed configs, reserved addresses) are recorded but
  never cause an update: after creation the object belongs to the other adapters.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

PROVIDER_KEY = "__provider"
STATUS = "status"

#: inputs that make an object a different object: changing one replaces it (delete first)
IDENTITY: dict[str, tuple[str, ...]] = {
    "segment": ("tenant", "name", "prefix"),
    "server": ("tenant", "name", "address"),
    "device": ("tenant", "name", "platform"),
    "shared": ("tenant", "name", "prefix"),
}
DEFAULT_IDENTITY = ("tenant", "name")


def resource_id(props: dict[str, Any]) -> str:
    return f"{props['tenant']}/{props['name']}"


def changed_keys(olds: dict[str, Any], news: dict[str, Any],
                 ignore: tuple[str, ...] = ()) -> list[str]:
    skip = {PROVIDER_KEY, STATUS, *ignore}
    keys = (set(olds) | set(news)) - skip
    return sorted(k for k in keys if _norm(olds.get(k)) != _norm(news.get(k)))


def _norm(value: Any) -> Any:
    """Numbers come back from the engine as floats; lists as lists or tuples."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


class RecordProvider(ResourceProvider):
    """Keeps the desired state; no effect outside the stack."""

    serialize_as_secret_always = False  # the pickled provider holds no secret
    target: ClassVar[str] = "record"
    never_diff: ClassVar[tuple[str, ...]] = ("seed", "seed_deviations", "reserved")

    # -- what subclasses with real effects override ---------------------------

    def realise(self, props: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        """Make the object exist as props say (idempotent); return its status."""
        return {"target": self.target}

    def remove(self, props: dict[str, Any]) -> None:
        """Make the object not exist (idempotent)."""

    def observe(self, props: dict[str, Any]) -> dict[str, Any] | None:
        """The object's status now, or None when it is gone (refresh)."""
        status = props.get(STATUS)
        return status if isinstance(status, dict) else {"target": self.target}

    # -- the dynamic provider protocol -----------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = _inputs(props)
        return CreateResult(id_=resource_id(inputs),
                            outs={**inputs, STATUS: self.realise(inputs, None)})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = changed_keys(olds, news, self.never_diff)
        identity = IDENTITY.get(str(news.get("kind") or olds.get("kind")), DEFAULT_IDENTITY)
        replaces = [k for k in changed if k in identity]
        return DiffResult(changes=bool(changed), replaces=replaces,
                          delete_before_replace=bool(replaces))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = _inputs(news)
        return UpdateResult(outs={**inputs, STATUS: self.realise(inputs, _inputs(olds))})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self.remove(_inputs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        status = self.observe(props)
        if status is None:
            return ReadResult(id_=None, outs={})  # gone: refresh drops it from the state
        return ReadResult(id_=id_, outs={**_inputs(props), STATUS: status})


def _inputs(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in (PROVIDER_KEY, STATUS)}
