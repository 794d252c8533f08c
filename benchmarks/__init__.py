"""Benchmarks: `python -m benchmarks.<name>`; numbers in docs/BENCHMARKS.md."""
