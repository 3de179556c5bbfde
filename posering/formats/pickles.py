"""DeepLabCut's pickles: read through one allow-list, written from plain data only.

DeepLabCut keeps some records as pickles (a shuffle's ``Documentation_data-*.pickle``, an
analysis' ``_meta.pickle``). A pickle can name any importable callable, so a file a user hands
us is never loaded with :func:`pickle.load`: :func:`read_pickle` rebuilds plain containers,
numbers, strings and numpy arrays, and refuses every other class before it is called.

posering writes such files only because DeepLabCut needs them, and writes plain Python values
only (dict, list, tuple, str, int, float, bool, None): :func:`write_pickle` refuses anything
else, so what it writes reads back through the same allow-list, in posering or anywhere.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from posering import storage

# What DeepLabCut's pickles hold besides plain values: numpy arrays and scalars (as numpy 1 and
# numpy 2 name them), OrderedDicts, and the helpers pickle protocol 2 uses for bytes and slices.
ALLOWED = frozenset({
    ("collections", "OrderedDict"),
    ("numpy", "dtype"), ("numpy", "ndarray"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("builtins", "slice"), ("_codecs", "encode"),
})
PLAIN_TYPES = (dict, list, tuple, str, int, float, bool, type(None))


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed")


def loads(data: bytes) -> Any:
    """Unpickle ``data`` through the allow-list; raises on any class outside it."""
    return _AllowListUnpickler(io.BytesIO(data)).load()


def read_pickle(location: str) -> Any:
    """A pickle file's content (local or remote), through the allow-list."""
    return loads(storage.read_bytes(location))


def check_plain(value: Any, where: str = "value") -> None:
    """Raise TypeError unless ``value`` is built from plain Python values only."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_plain(key, f"{where} key")
            check_plain(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_plain(item, f"{where}[{i}]")
    elif type(value) not in PLAIN_TYPES:
        raise TypeError(f"{where} is a {type(value).__module__}.{type(value).__name__}; "
                        "posering pickles plain values only")


def dumps(value: Any) -> bytes:
    """Pickle plain data (checked first)."""
    check_plain(value)
    return pickle.dumps(value, protocol=4)


def write_pickle(location: str, value: Any) -> None:
    """Write plain data as a pickle, atomically."""
    storage.write_bytes(location, dumps(value))
