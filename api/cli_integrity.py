"""`kpi-ledger` subcommands for integrity: checkpoints, proofs, verify, amendments, bundles."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's subcommands (none yet)."""
