"""Emulated network devices: fakenos for SSH and canned show output, a stateful config layer
of our own (fakenos 1.2.1 has no configure mode)."""
