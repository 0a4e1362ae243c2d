"""A stand-in for the `faellesdrift` command in onboarding tests.

FAKE_FD_PLAN (a JSON file) maps a sub-command ("pulumi preview") to
{"exit": int, "out": str, "save": {kind: payload}}; a sub-command not in it
answers like Click does for an unknown command (exit 2, "No such command").
Every call is appended to FAKE_FD_CALLS, one line of argv.
"""

import json
import os
import sys
from pathlib import Path

argv = sys.argv[1:]
plan = json.loads(Path(os.environ["FAKE_FD_PLAN"]).read_text())
with open(os.environ["FAKE_FD_CALLS"], "a") as fh:
    fh.write(" ".join(argv) + "\n")
help_only = argv[-1:] == ["--help"]
words = [a for a in argv if not a.startswith("-")]
key = next((k for k in sorted(plan, key=len, reverse=True)
            if words[: len(k.split())] == k.split()), None)
if key is None:
    print(f"Usage: faellesdrift [OPTIONS] COMMAND [ARGS]...\nError: No such command "
          f"'{words[0] if words else ''}'.", file=sys.stderr)
    sys.exit(2)
if help_only:
    print(f"Usage: faellesdrift {key} [OPTIONS]")
    sys.exit(0)
step = plan[key]
if isinstance(step, list):  # a sequence of outcomes, one per call
    n_file = Path(os.environ["FAKE_FD_CALLS"] + "." + key.replace(" ", "_"))
    n = int(n_file.read_text()) if n_file.exists() else 0
    n_file.write_text(str(n + 1))
    step = step[min(n, len(step) - 1)]
if step.get("save"):  # imported only when needed: most calls stay fast
    from faellesdrift import results
    from faellesdrift.settings import Settings

    for kind, payload in step["save"].items():
        results.save(Settings.from_env(), kind, payload)
print(step.get("out", f"{key}: ok"))
sys.exit(step.get("exit", 0))
