"""Commune development targets: the unit result that binds chairman and secretary jointly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput


def target_id_for(cycle_id: UUID, indicator: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"kpi-ledger:target:{cycle_id}:{indicator}")


class Target(Aggregate):
    class TargetSet(Aggregate.Created):
        unit_id: UUID
        cycle_id: UUID
        indicator: str
        target_value: Decimal
        measure: str
        occurred_on: date

    class TargetResultReported(Aggregate.Event):
        value: Decimal
        evidence: str
        occurred_on: date

    @staticmethod
    def create_id(cycle_id: UUID, indicator: str, **_: object) -> UUID:
        return target_id_for(cycle_id, indicator)

    @event(TargetSet)
    def __init__(
        self, unit_id: UUID, cycle_id: UUID, indicator: str, target_value: Decimal, measure: str,
        occurred_on: date,
    ) -> None:
        self.unit_id = unit_id
        self.cycle_id = cycle_id
        self.indicator = indicator

    @staticmethod
    def check_terms(indicator: str, target_value: Decimal, measure: str) -> None:
        if not indicator.strip():
            raise InvalidInput("indicator", "must name the development indicator")
        if not target_value > 0:
            raise InvalidInput("target_value", "must be positive")
        if not measure.strip():
            raise InvalidInput("measure", "must name the unit of measure")

    def report(self, value: Decimal, evidence: str, on: date) -> None:
        if value < 0:
            raise InvalidInput("value", "must not be negative")
        if not evidence.strip():
            raise InvalidInput("evidence", "a reported result cites its evidence")
        self._reported(value=value, evidence=evidence, occurred_on=on)

    @event(TargetResultReported)
    def _reported(self, value: Decimal, evidence: str, occurred_on: date) -> None:
        self.value = value
