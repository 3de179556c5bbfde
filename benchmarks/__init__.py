"""Benchmarks, run from a checkout: `python -m benchmarks.<name> [options]` prints what it measured
(the figures and the commands that produced them are in docs/benchmarks.md). Not part of the
installed package: they need the repository's example data and, for some, DeepLabCut in its own venv."""
