"""The Ledger application: the only way to change what is recorded.

One method per command, grouped by area in `domain/commands/`; the shared plumbing (idempotency,
batches, authority checks) is `domain.ledger_core.LedgerCore`, and reading the log back
`domain.ledger_log.LedgerLog`.
"""

from __future__ import annotations

from domain.commands.access import AccessCommands
from domain.commands.organisation import OrganisationCommands
from domain.commands.records import RecordCommands
from domain.commands.tasks import TaskCommands
from domain.ledger_core import amount

__all__ = ["Ledger", "amount"]


class Ledger(OrganisationCommands, TaskCommands, RecordCommands, AccessCommands):
    name = "Ledger"  # fixes the PostgreSQL table names (ledger_events) and env prefixes
