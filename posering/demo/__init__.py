"""The built-in demo: a synthetic project that needs nothing downloaded."""

from posering.demo.run import demo

__all__ = ["demo"]
