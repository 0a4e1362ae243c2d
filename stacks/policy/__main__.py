"""The faellesdrift CrossGuard policy pack (wiring only; policies are data in the package)."""

from faellesdrift.platform.pack import serve

serve()
