"""Benchmarks: scripts that measure posering, each with a main()."""
