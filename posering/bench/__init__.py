"""Benchmarks: `posering bench <name>` (or `python -m posering.bench.<name>`) prints what it measured."""
