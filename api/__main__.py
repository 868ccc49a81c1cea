"""`kpi-ledger` (and `python -m api`): the command line, imported only once it runs.

A rebuild's worker processes start as new interpreters that import the module the command
was started from before anything else; importing the whole command line there (the HTTP
stack, the renderers, every domain module: 0.1 s more than a worker needs before it can
read the log) delayed every worker by as much.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from api.cli import main as run

    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
