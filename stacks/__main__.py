"""The platform program as the Pulumi CLI runs it from this project (``runtime: python``).

`faellesdrift plan|apply` run the same program inline (platform/engine.py); both declare
what faellesdrift.platform.program.define declares.
"""

from faellesdrift.platform.program import define

define()
