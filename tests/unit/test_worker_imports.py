"""What a rebuild's worker process imports before it can read the log.

A worker is a new interpreter that first imports the module its command was started from,
then the one its work is defined in. Importing the domain model there (the library makes a
dataclass of each of ~110 event classes) delayed every worker by ~0.1 s, a fifth of a
60,000-event rebuild, so these modules must stay free of it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["projections.rebuild_worker", "api.__main__", "bench.child"])
def test_a_worker_starts_without_importing_the_domain_model_or_the_command_line(module: str) -> None:
    found = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, timeout=60, check=True, cwd=REPO,
    ).stdout.split()
    heavy = [m for m in found if m in ("domain.ledger", "domain.scoring", "domain.tasks", "api.cli", "fastapi")]
    assert heavy == [], f"{module} imports {heavy}"


def test_the_command_line_still_runs_from_its_entry_module() -> None:
    done = subprocess.run([sys.executable, "-m", "api", "--help"], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "rebuild" in done.stdout
