"""Timing scripts: `python -m posering.bench.<name>` prints what it measured."""
