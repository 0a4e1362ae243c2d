"""Dynamic providers per target: ``record`` (state only) or ``lab`` (the local lab).

    providers = for_target("lab", lab=LabTarget.from_env(settings.state_dir, settings.cache_dir))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from faellesdrift.errors import ConfigError
from faellesdrift.platform.providers.base import RecordProvider
from faellesdrift.platform.providers.resources import TYPE_PREFIX, TYPES

Target = Literal["record", "lab"]
TARGETS: tuple[str, ...] = ("record", "lab")


@dataclass(frozen=True)
class Providers:
    target: str
    segment: RecordProvider
    server: RecordProvider
    device: RecordProvider
    access: RecordProvider
    backup: RecordProvider
    monitoring: RecordProvider
    shared: RecordProvider


def for_target(target: str, lab: object | None = None) -> Providers:
    if target == "record":
        r = RecordProvider()
        return Providers("record", r, r, r, r, r, r, r)
    if target == "lab":
        from faellesdrift.platform.providers.lab import (
            LabAccessProvider,
            LabDeviceProvider,
            LabSegmentProvider,
            LabServerProvider,
            LabSharedProvider,
            LabTarget,
        )
        if not isinstance(lab, LabTarget):
            raise ConfigError("target lab needs a LabTarget (where the lab lives)")
        record = RecordProvider()
        return Providers("lab", LabSegmentProvider(lab), LabServerProvider(lab),
                         LabDeviceProvider(lab), LabAccessProvider(lab), record, record,
                         LabSharedProvider(lab))
    raise ConfigError(f"faellesdrift:target {target!r}: use one of {', '.join(TARGETS)} "
                      "(set it in Pulumi.<stack>.yaml)")


__all__ = ["TARGETS", "TYPES", "TYPE_PREFIX", "Providers", "RecordProvider", "Target",
           "for_target"]
