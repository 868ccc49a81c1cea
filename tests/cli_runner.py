"""Running `kpi-ledger` in-process, as a user would from the shell, capturing its output."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from api.cli import main


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(*argv: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return Run(code, out.getvalue(), err.getvalue())
