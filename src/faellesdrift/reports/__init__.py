"""Transparency reports.

Reports read results, never adapters' internals: the tenant files through the
model layer, run results through ``faellesdrift.results``, the audit log
through ``faellesdrift.audit``. Public entry points:

- ``build_site(settings, ...)`` — the static HTML report (``site``);
- ``readiness``, ``waves`` — readiness per tenant and onboarding waves;
- ``gaps`` — coverage gaps, endpoints first (``coverage``);
- ``exposures`` — contracts ended early (exit fee + shared charge) vs kept to term
  (``contracts``);
- ``i18n`` — the report's languages (Danish, English) and Babel's formats.

Onboarding records are read through ``faellesdrift.onboarding_record``.
"""

from faellesdrift.reports.contracts import Exposure, exposures
from faellesdrift.reports.coverage import Gap, gaps
from faellesdrift.reports.inputs import Inputs, gather
from faellesdrift.reports.readiness import CRITERIA, DEADLINE, Readiness, readiness, waves
from faellesdrift.reports.site import Site, build_site

__all__ = [
    "CRITERIA",
    "DEADLINE",
    "Exposure",
    "Gap",
    "Inputs",
    "Readiness",
    "Site",
    "build_site",
    "exposures",
    "gaps",
    "gather",
    "readiness",
    "waves",
]
