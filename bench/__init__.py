"""Benchmarks: `python -m bench [topic ...]` (all topics when none is named)."""
