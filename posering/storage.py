"""Where bytes live: local folders and ``s3://`` buckets, through fsspec.

This is the only module that knows about storage backends. Everything else passes *locations*
around: plain strings that are either local paths or URLs (``s3://bucket/prefix/file``). The
rest of posering joins them with :func:`join`, reads with :func:`open_read` / :func:`read_bytes`,
and writes with :func:`atomic_write` / :func:`write_bytes`.

Writes are atomic: locally the data goes to a hidden file beside the target and is then renamed
over it; on S3 an object appears whole with a single PUT. A crash leaves either the old file or
the new one, never half of one.

Libraries that need a real file on disk (HDF5 through PyTables, OpenCV's video decoder) use
:func:`local_copy` (read) and :func:`local_target` (write), which are no-ops for local paths and
stream through a local cache file for remote ones (never a whole object in memory).

S3 settings come from the usual places: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
``AWS_ENDPOINT_URL`` (botocore), or fsspec's ``FSSPEC_S3_*`` variables, or :func:`configure`.
An endpoint that accepts connections and never answers fails in about 30 s (see
:data:`S3_TIMEOUTS`), not after s3fs's and botocore's nested retries (7 minutes).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import posixpath
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO, Iterator

import fsspec

from posering.errors import StorageError

_REMOTE_OPTIONS: dict[str, dict] = {}

# S3 timeouts and attempts: (environment variable, default). Each request waits at most
# connect/read seconds and is tried `attempts` times by botocore (standard mode, with backoff);
# s3fs's own retry loop around it is turned off, since it multiplied the attempts by 5. A hung
# endpoint fails after about attempts x read_timeout = 30 s.
S3_TIMEOUTS = {"connect_timeout": ("POSERING_S3_CONNECT_TIMEOUT", 5.0),
               "read_timeout": ("POSERING_S3_READ_TIMEOUT", 10.0),
               "attempts": ("POSERING_S3_ATTEMPTS", 3)}


def configure(protocol: str = "s3", **options) -> None:
    """Set fsspec options for a protocol (e.g. ``configure('s3', endpoint_url=...)``)."""
    _REMOTE_OPTIONS.setdefault(protocol, {}).update(options)


def protocol_of(location: str) -> str:
    """'file' for local paths, else the URL scheme ('s3', 'memory', ...)."""
    location = str(location)
    if "://" in location:
        return location.split("://", 1)[0]
    return "file"


def is_remote(location: str) -> bool:
    return protocol_of(location) != "file"


def normalize(location: str | os.PathLike) -> str:
    """A location as posering stores it: an absolute local path, or the URL unchanged."""
    location = os.fspath(location)
    if is_remote(location):
        return location.rstrip("/")
    if location.startswith("file://"):
        location = location[len("file://"):]
    return str(Path(location).expanduser().absolute())


def is_relative(location: str) -> bool:
    """A relative local path (``videos/a.mp4``, ``../a.mp4``): not a URL, not absolute."""
    location = os.fspath(location)
    return not (is_remote(location) or location.startswith(("file://", "~")) or os.path.isabs(location))


def resolve(location: str, base: str) -> str:
    """``location`` read from a file in folder ``base``: URLs and absolute paths as they are,
    relative paths (``..`` folded) inside ``base``, never against the current directory."""
    location = os.fspath(location)
    if not is_relative(location):
        return normalize(location)
    if is_remote(base):
        scheme, rest = base.split("://", 1)
        return f"{scheme}://" + posixpath.normpath(posixpath.join(rest, location))
    return os.path.normpath(os.path.join(normalize(base), location))


def join(base: str, *parts: str) -> str:
    """Join path parts onto a local path or URL."""
    base = os.fspath(base)
    if is_remote(base):
        scheme, rest = base.split("://", 1)
        return f"{scheme}://" + posixpath.join(rest, *parts)
    return os.path.join(base, *parts)


def parent(location: str) -> str:
    if is_remote(location):
        scheme, rest = location.rstrip("/").split("://", 1)
        return f"{scheme}://" + posixpath.dirname(rest)
    return os.path.dirname(os.path.abspath(location))


def name(location: str) -> str:
    """The last component of a path or URL (``video.mp4``)."""
    return posixpath.basename(str(location).rstrip("/").replace("\\", "/"))


def stem(location: str) -> str:
    """The file name without its last suffix (``video`` for ``.../video.mp4``)."""
    base = name(location)
    return base.rsplit(".", 1)[0] if "." in base else base


def filesystem(location: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec filesystem and the backend-specific path for a location."""
    protocol = protocol_of(location)
    options = dict(_REMOTE_OPTIONS.get(protocol, {}))
    if protocol == "s3":
        # posering writes and then lists; stale listings would hide fresh files.
        options.setdefault("use_listings_cache", False)
        options["config_kwargs"] = _s3_client_config(options.get("config_kwargs"))
    try:
        fs, path = fsspec.core.url_to_fs(str(location), **options)
    except (ImportError, ValueError) as exc:
        raise StorageError(f"{location}: cannot open this kind of location ({exc})") from exc
    if protocol == "s3":
        fs.retries = 1  # botocore retries (above); s3fs's loop would try each of those 5 times
    return fs, path


def _s3_client_config(given: dict | None) -> dict:
    """botocore's Config for s3fs: what configure() or FSSPEC_S3 set, else S3_TIMEOUTS."""
    config = dict(fsspec.config.conf.get("s3", {}).get("config_kwargs") or {})
    config.update(given or {})
    values = {}
    for key, (variable, default) in S3_TIMEOUTS.items():
        text = os.environ.get(variable)
        try:
            values[key] = type(default)(text) if text else default
        except ValueError:
            raise StorageError(f"{variable}={text!r} is not a number; unset it or give seconds "
                               f"(attempts: a whole number), e.g. {default}") from None
    config.setdefault("connect_timeout", values["connect_timeout"])
    config.setdefault("read_timeout", values["read_timeout"])
    config.setdefault("retries", {"total_max_attempts": max(1, values["attempts"]), "mode": "standard"})
    return config


def arrow_filesystem(location: str):
    """``(pyarrow filesystem or None, path)`` for libraries that take pyarrow's filesystems.

    Ray Train and Ray Tune keep their run state under a ``storage_path``; for a remote location
    they get posering's own fsspec filesystem wrapped for pyarrow, so the same settings (endpoint,
    credentials, :func:`configure`) reach it. Local paths need no filesystem (None).
    """
    if not is_remote(location):
        return None, normalize(location)
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    fs, path = filesystem(location)
    return PyFileSystem(FSSpecHandler(fs)), path


@contextlib.contextmanager
def _explained(location: str, action: str) -> Iterator[None]:
    """Turn backend exceptions into one-line StorageErrors that name the location."""
    try:
        yield
    except StorageError:
        raise
    except FileNotFoundError as exc:
        raise StorageError(f"{location}: not found (while trying to {action})") from exc
    except PermissionError as exc:
        raise StorageError(
            f"{location}: permission denied (while trying to {action}); check the credentials "
            "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) or the folder's permissions"
        ) from exc
    except OSError as exc:
        if not is_remote(location):
            raise StorageError(f"{location}: cannot {action}: {exc}") from exc
        raise _unreachable(location, action, exc) from exc  # botocore's timeouts are OSErrors
    except Exception as exc:  # other botocore/aiohttp errors do not share a base class with OSError
        if is_remote(location):
            raise _unreachable(location, action, exc) from exc
        raise StorageError(f"{location}: cannot {action} ({type(exc).__name__}: {exc})") from exc


def _unreachable(location: str, action: str, exc: Exception) -> StorageError:
    """The one message for a remote store that refuses, hangs or fails: what and where to check."""
    cause = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
    return StorageError(
        f"{location}: cannot {action} ({type(cause).__name__}: {cause}); check that the bucket "
        "exists and is reachable (AWS_ENDPOINT_URL, network) and that the credentials are right")


def exists(location: str) -> bool:
    fs, path = filesystem(location)
    with _explained(location, "check whether it exists"):
        return fs.exists(path)


def isdir(location: str) -> bool:
    fs, path = filesystem(location)
    with _explained(location, "check whether it is a folder"):
        return fs.isdir(path)


def isfile(location: str) -> bool:
    fs, path = filesystem(location)
    with _explained(location, "check whether it is a file"):
        return fs.isfile(path)


def size(location: str) -> int:
    fs, path = filesystem(location)
    with _explained(location, "read its size"):
        return int(fs.size(path))


def version(location: str) -> str | None:
    """A token that changes whenever the file is rewritten; None when there is no file.

    Local files: inode, size and modification time in nanoseconds (an atomic write replaces the
    inode). Remote objects: their ETag (or size and modification time where there is none). Used
    to notice that another program saved a file since we read it.
    """
    fs, path = filesystem(location)
    with _explained(location, "read its details"):
        if is_remote(location):
            fs.invalidate_cache(path)
        if not fs.exists(path):
            return None
        if not is_remote(location):
            stat = os.stat(path)
            return f"{stat.st_ino}-{stat.st_size}-{stat.st_mtime_ns}"
        info = fs.info(path)
    tag = info.get("ETag") or info.get("etag")
    return str(tag) if tag else f"{info.get('size')}-{info.get('LastModified') or info.get('mtime')}"


def fingerprint(location: str) -> str:
    """A string that changes when the file changes (its location and :func:`version`): a cache key."""
    current = version(location)
    if current is None:
        raise StorageError(f"{location}: not found")
    return f"{location}|{current}"


def listdir(location: str) -> list[str]:
    """Names (not full paths) of the entries of a folder, sorted; [] if it does not exist."""
    fs, path = filesystem(location)
    with _explained(location, "list it"):
        if not fs.exists(path):
            return []
        entries = fs.ls(path, detail=False)
    names = sorted({posixpath.basename(str(e).rstrip("/")) for e in entries})
    return [n for n in names if n]


def glob(pattern: str) -> list[str]:
    """Full locations matching a glob pattern, sorted."""
    fs, path = filesystem(pattern)
    with _explained(pattern, "search it"):
        matches = fs.glob(path)
    if is_remote(pattern):
        scheme = protocol_of(pattern)
        return sorted(f"{scheme}://{m}" for m in matches)
    return sorted(matches)


def makedirs(location: str) -> None:
    """Create a folder and its parents (no-op on object stores, where folders are implied)."""
    if is_remote(location):
        return
    with _explained(location, "create the folder"):
        os.makedirs(location, exist_ok=True)


def remove(location: str, recursive: bool = False) -> None:
    fs, path = filesystem(location)
    with _explained(location, "remove it"):
        if fs.exists(path):
            fs.rm(path, recursive=recursive)


def remove_with_empty_parent(location: str) -> None:
    """Remove a folder and what it holds, then its parent if that is left empty: a scratch
    folder (``.posering-parts/``) does not outlive the last work in it. Object stores have no
    empty folders to leave."""
    remove(location, recursive=True)
    if not is_remote(location):
        with contextlib.suppress(OSError):  # not empty: other work still has parts there
            os.rmdir(os.path.dirname(os.path.abspath(location)))


def open_read(location: str, mode: str = "rb") -> IO:
    """Open for reading (streaming for remote files)."""
    if "r" not in mode:
        raise ValueError("open_read is for reading; use atomic_write to write")
    fs, path = filesystem(location)
    with _explained(location, "open it"):
        return fs.open(path, mode)


def read_bytes(location: str) -> bytes:
    fs, path = filesystem(location)
    with _explained(location, "read it"):
        return fs.cat_file(path)


def read_text(location: str, encoding: str = "utf-8") -> str:
    return read_bytes(location).decode(encoding)


def _temporary_name(location: str, suffix: str = "") -> str:
    """The hidden file an atomic write of ``location`` writes first: ``.<name>.<8 hex>.tmp<suffix>``."""
    return f".{name(location)}.{uuid.uuid4().hex[:8]}.tmp{suffix}"


def remove_stale_temporaries(location: str, older_than_s: float = 300.0) -> list[str]:
    """Remove the temporaries that atomic writes of ``location`` left beside it when killed.

    A process killed between writing its temporary and renaming it (SIGKILL, power loss) leaves
    ``.<name>.<8 hex>.tmp<suffix>`` behind. Only names of that form for this file are removed
    (never a user's file), and only those untouched for ``older_than_s`` seconds, so a write in
    progress in another process keeps its temporary. Remote writes leave none (one PUT).
    Returns the files removed.
    """
    if is_remote(location):
        return []
    folder, base = os.path.split(os.path.abspath(location))
    pattern = re.compile(rf"^\.{re.escape(base)}\.[0-9a-f]{{8}}\.tmp(\.\w+)?$")
    now, removed = time.time(), []
    for entry in os.listdir(folder) if os.path.isdir(folder) else []:
        path = os.path.join(folder, entry)
        try:
            if pattern.match(entry) and now - os.path.getmtime(path) > older_than_s:
                os.unlink(path)
                removed.append(path)
        except FileNotFoundError:  # another process removed or renamed it meanwhile
            continue
    return removed


@contextlib.contextmanager
def atomic_write(location: str, mode: str = "wb") -> Iterator[IO]:
    """Write a file so that readers see the old content or the new, never half.

    Local: a hidden temporary file in the same folder, fsynced, then renamed over the target.
    Remote: the content is collected and sent in one PUT when the block ends without error.
    """
    if mode not in ("wb", "w"):
        raise ValueError("atomic_write supports modes 'w' and 'wb'")
    if is_remote(location):
        buffer = io.BytesIO()
        handle: IO = io.TextIOWrapper(buffer, encoding="utf-8", newline="") if mode == "w" else buffer
        yield handle
        if mode == "w":
            handle.flush()
        write_bytes(location, buffer.getvalue())
        return
    folder = os.path.dirname(os.path.abspath(location))
    makedirs(folder)
    tmp = os.path.join(folder, _temporary_name(location))
    options = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
    try:
        with _explained(location, "write it"):
            handle = open(tmp, mode, **options)
        with handle:  # errors raised by the caller's block pass through unchanged
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        with _explained(location, "move it into place"):
            os.replace(tmp, location)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes(location: str, data: bytes) -> None:
    if not is_remote(location):
        with atomic_write(location, "wb") as handle:
            handle.write(data)
        return
    fs, path = filesystem(location)
    with _explained(location, "write it"):
        fs.pipe_file(path, data)


def write_text(location: str, text: str) -> None:
    write_bytes(location, text.encode("utf-8"))


def copy(source: str, target: str) -> None:
    """Copy one file between any two locations (streamed, atomic at the target)."""
    if not is_remote(source) and not is_remote(target):
        with atomic_write(target, "wb") as out, _explained(source, "read it"), open(source, "rb") as src:
            shutil.copyfileobj(src, out, length=1 << 20)
        return
    if not is_remote(source):
        fs, path = filesystem(target)
        with _explained(target, "upload to it"):
            fs.put_file(source, path)
        return
    with local_copy(source) as local:
        copy(local, target)


def cache_dir() -> str:
    """Where remote files are cached locally (``POSERING_CACHE`` or ~/.cache/posering)."""
    root = os.environ.get("POSERING_CACHE") or os.path.join(Path.home(), ".cache", "posering")
    os.makedirs(root, exist_ok=True)
    return root


@contextlib.contextmanager
def local_copy(location: str) -> Iterator[str]:
    """A local file path with the content of ``location`` (the path itself when local).

    Remote files are streamed to a cache file keyed by URL and size/ETag, so a video read by
    several workers on one machine is downloaded once.
    """
    if not is_remote(location):
        if not os.path.exists(location):
            raise StorageError(f"{location}: not found")
        yield location
        return
    fs, path = filesystem(location)
    digest = hashlib.sha1(fingerprint(location).encode()).hexdigest()[:16]
    cached = os.path.join(cache_dir(), f"{digest}-{name(location)}")
    if not os.path.exists(cached):
        tmp = f"{cached}.{uuid.uuid4().hex[:8]}.part"
        try:
            with _explained(location, "download it"):
                fs.get_file(path, tmp)
            os.replace(tmp, cached)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    yield cached


@contextlib.contextmanager
def local_target(location: str, suffix: str = "") -> Iterator[str]:
    """A local temporary path to write; on success it atomically becomes ``location``.

    For writers that need a real file (HDF5, OpenCV's VideoWriter). If the block raises, the
    target is left untouched.
    """
    if is_remote(location):
        folder = tempfile.mkdtemp(prefix="posering-")
    else:
        folder = os.path.dirname(os.path.abspath(location))
        makedirs(folder)
    tmp = os.path.join(folder, _temporary_name(location, suffix))
    try:
        yield tmp
        if not os.path.exists(tmp):
            raise StorageError(f"{location}: the writer produced no file")
        if is_remote(location):
            fs, path = filesystem(location)
            with _explained(location, "upload it"):
                fs.put_file(tmp, path)
        else:
            with _explained(location, "move it into place"):
                os.replace(tmp, location)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if is_remote(location):
            shutil.rmtree(folder, ignore_errors=True)


def symlink_or_copy(source: str, target: str, copy_file: bool = False) -> str:
    """Link (default) or copy a video into a project; returns 'linked' or 'copied'.

    Remote targets always copy (object stores have no links); where links are not allowed the
    file is copied.
    """
    if copy_file or is_remote(source) or is_remote(target):
        copy(source, target)
        return "copied"
    if os.path.lexists(target):
        os.unlink(target)
    try:
        os.symlink(os.path.abspath(source), target)
        return "linked"
    except OSError:
        copy(source, target)
        return "copied"
