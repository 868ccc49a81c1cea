"""`kpi-ledger` subcommands for the HTTP API: serve, tokens."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's subcommands (none yet)."""
