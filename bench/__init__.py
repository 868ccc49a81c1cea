"""Benchmarks and the synthetic province generator; never part of the test run."""
