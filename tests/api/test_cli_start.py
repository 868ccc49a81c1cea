"""The command line starts without the HTTP stack.

A rebuild's worker processes are started by `spawn`, which imports the `kpi-ledger` script's
module again in each of them: importing FastAPI there doubled a worker's start (~0.5 s more of
a 3 s rebuild at 250,000 events), and every command paid it too.
"""

from __future__ import annotations

import subprocess
import sys


def test_the_command_line_module_imports_no_web_framework() -> None:
    web = "{'fastapi', 'starlette', 'uvicorn'}"
    probe = f"import sys, api.cli; print(sorted({{m.split('.')[0] for m in sys.modules}} & {web}))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
