"""Intended device configs: the core renderer (faellesdrift.device_config), written per device.

Rendering lives in the core so that the lab seeds its devices from the same text;
here the adapter renders the selected devices and writes redacted copies.
"""

from __future__ import annotations

from faellesdrift import clock
from faellesdrift.device_config import (
    ControlValue,
    ControlValueError,
    Intended,
    control_values,
    environment,
    render,
)
from faellesdrift.estate import Estate
from faellesdrift.network.filters import Filters
from faellesdrift.network.redact import for_backup
from faellesdrift.network.results import DeviceResult, FleetResult, Status
from faellesdrift.network.settings import NetworkSettings

__all__ = ("ControlValue", "Intended", "control_values", "environment", "intended", "render")


def intended(estate: Estate, settings: NetworkSettings, filters: Filters | None = None, *,
             write: bool = True) -> FleetResult:
    """Render every selected device; write redacted copies under ``<state>/intended``.

    No device is contacted. A control value that cannot be rendered fails that
    device only.
    """
    started = clock.now()
    results = []
    env = environment()
    for host in (filters or Filters()).select(estate):
        try:
            it = render(estate, host, env=env)
        except ControlValueError as exc:
            results.append(DeviceResult(host.name, host.tenant, host.spec.platform,
                                      Status.FAILED, str(exc)))
            continue
        rel = f"{host.tenant}/{host.name}.cfg"
        shown = for_backup(it.text)
        details = {"file": rel, "lines": it.text.count("\n"), "text": shown}
        if write:
            path = settings.intended_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(shown, encoding="utf-8")
        results.append(DeviceResult(host.name, host.tenant, it.platform, Status.OK, "rendered",
                                  exceptions=it.exceptions, details=details))
    return FleetResult("network intended", tuple(results), started,
                       clock.now(), "none (no device contacted)",
                       {"directory": str(settings.intended_dir) if write else None})
