"""Bytes in and out for the model package, through posering.storage.

While `posering/storage.py` has not landed on this branch, a minimal fsspec stand-in with the
same three functions (and the same atomic local write) is used; once storage.py is merged this
module reduces to the import.
"""

from __future__ import annotations

try:
    from posering.storage import read_bytes, read_text, write_bytes  # noqa: F401
except ImportError:  # pragma: no cover - only before storage.py is merged
    import os
    import uuid

    import fsspec

    def read_bytes(location: str) -> bytes:
        with fsspec.open(str(location), "rb") as handle:
            return handle.read()

    def read_text(location: str, encoding: str = "utf-8") -> str:
        return read_bytes(location).decode(encoding)

    def write_bytes(location: str, data: bytes) -> None:
        location = str(location)
        if "://" in location:
            with fsspec.open(location, "wb") as handle:
                handle.write(data)
            return
        folder = os.path.dirname(os.path.abspath(location))
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{os.path.basename(location)}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, location)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
