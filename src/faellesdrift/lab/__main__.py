"""python -m faellesdrift.lab up|status|down (the same as `faellesdrift lab ...`)."""

from faellesdrift.lab.cli import lab_app

lab_app(prog_name="faellesdrift lab")
