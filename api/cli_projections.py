"""`kpi-ledger` subcommands for read models: rebuild, catch-up, project, reports."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's subcommands (none yet)."""
