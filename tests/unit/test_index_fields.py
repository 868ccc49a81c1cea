"""The log-scope index reads most events as plain fields, not typed; the routing rules that
file them must be the ones `projections.routing` gives the live scores."""

from __future__ import annotations

from eventsourcing.utils import resolve_topic

from projections.log_scopes import FiledUnderCycle, LogScopes
from projections.routing import BY_CYCLE, CYCLE_EVENTS, PERSON_EVENTS, UNIT_EVENTS


def test_events_read_as_fields_are_filed_by_the_cycle_they_name_or_by_their_first_event() -> None:
    assert LogScopes.reads_as
    for topic, into in LogScopes.reads_as.items():
        event = resolve_topic(topic)
        assert not issubclass(event, (*CYCLE_EVENTS, *UNIT_EVENTS, *PERSON_EVENTS)), topic
        assert (into is FiledUnderCycle) == issubclass(event, BY_CYCLE), topic
