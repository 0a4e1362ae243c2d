"""faellesdrift — tenants, guardrails with local exceptions and metering for shared municipal IT operations."""

__version__ = "0.1.0"
