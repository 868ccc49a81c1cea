"""Command receipts: what makes a repeated command record nothing new.

A receipt is saved in the same transaction as the command's events, keyed by the caller's
command id, so a retry (or a concurrent duplicate, which then fails on the receipt's key)
finds the first result instead of recording twice.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


def receipt_id(command_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"kpi-ledger:command:{command_id}")


class CommandReceipt(Aggregate):
    class CommandHandled(Aggregate.Created):
        command_id: str
        command: str
        fingerprint: str
        result: str

    @staticmethod
    def create_id(command_id: str, **_: object) -> UUID:
        return receipt_id(command_id)

    @event(CommandHandled)
    def __init__(self, command_id: str, command: str, fingerprint: str, result: str) -> None:
        self.command = command
        self.fingerprint = fingerprint
        self.result = result
