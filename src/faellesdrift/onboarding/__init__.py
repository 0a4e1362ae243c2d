"""Onboarding one municipality, above the adapters: it runs their commands in order.

``flow.onboard(settings, tenant, apply=...)`` is the resumable flow; its record is
the core artefact ``faellesdrift.onboarding_record``, which reports read. No adapter
imports this package.
"""

from faellesdrift.onboarding.flow import STEPS, OnboardingOutcome, Step, onboard

__all__ = ["STEPS", "OnboardingOutcome", "Step", "onboard"]
