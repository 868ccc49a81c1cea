"""The ledger's few error types, each naming the field at fault and why.

The API maps them to HTTP status codes in one place; the CLI prints them. A command that raises
one of these has recorded nothing.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every refusal: `field` names the input at fault, `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidInput(LedgerError):
    """The input itself is wrong (a negative hour, a date outside the cycle)."""


class NotFound(LedgerError):
    """A referenced official, unit, cycle, task or policy does not exist."""


class NotAuthorised(LedgerError):
    """The actor lacks the authority the rules give for this command (6 rõ: clear authority)."""


class Conflict(LedgerError):
    """The command contradicts what is already recorded (approving an approved task)."""
