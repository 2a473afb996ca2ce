"""Benchmarks, run by hand (`python -m benchmarks.bench`), never in the timed test suite."""
