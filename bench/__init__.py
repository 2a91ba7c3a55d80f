"""Benchmarks: a bulk loader for a realistic data set and a runner that measures the audited read
path against a minimal Flask endpoint on the same machine (see BENCHMARKS.md)."""
