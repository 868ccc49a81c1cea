"""The ledger's domain: events, aggregates, the scoring policy and rules, the Ledger application.

Everything here except `ledger.py` and `persistence.py` is pure: no I/O and no clock reads;
callers pass `now`.
"""
