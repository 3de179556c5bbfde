"""posering: DeepLabCut-compatible single-animal pose estimation that scales out on Ray.

>>> import posering as pr
>>> config = pr.create_new_project("openfield", "me", ["videos/"])

Every workflow step is a function listed in :mod:`posering.api`; they are imported on first use.
"""

from posering.api import ENTRIES as _ENTRIES

__version__ = "0.1.0"
__all__ = sorted(_ENTRIES)


def __getattr__(name: str):
    if name in _ENTRIES:
        from posering.api import resolve

        value = resolve(name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'posering' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
