"""The onboarding tests work on a writable copy of the sample community (its settings)."""

from tests.reports.conftest import settings

__all__ = ["settings"]
