"""Helpers shared by the benchmarks: the example data, peak memory, timing, DeepLabCut's venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_data_location() -> Path:
    """Where DeepLabCut's example data should be: $POSERING_SHARED_DATA, else ../shared/data
    beside the checkout (it may be absent)."""
    return Path(os.environ.get("POSERING_SHARED_DATA") or REPO.parent / "shared" / "data")


def shared_data() -> Path:
    """DeepLabCut's example data; exits with advice where it is absent."""
    candidate = shared_data_location()
    if not candidate.is_dir():
        raise SystemExit(f"{candidate}: DeepLabCut's example data is needed; set POSERING_SHARED_DATA")
    return candidate


def _writable_copy(source: Path, target: Path) -> None:
    shutil.copytree(source, target, dirs_exist_ok=True)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def dlc3_project(workdir: Path) -> Path:
    """The openfield project with DeepLabCut 3's trained resnet_50 laid over it; its config path."""
    root = workdir / "openfield-dlc3"
    if not (root / "config.yaml").exists():
        data = shared_data()
        _writable_copy(data / "openfield-Pranav-2018-10-30", root)
        for entry in ("config.yaml", "dlc-models-pytorch", "training-datasets", "videos"):
            source = data / "dlc3-openfield-resnet50" / entry
            if source.is_dir():
                _writable_copy(source, root / entry)
            else:
                shutil.copy(source, root / entry)
                (root / entry).chmod(0o644)
    return root / "config.yaml"


def timed(function, *args, **kwargs) -> tuple[object, float]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_external(command: list[str], timeout: float | None = None) -> tuple[str, float]:
    """Run a command (e.g. DeepLabCut in its own venv); returns (stdout, wall seconds)."""
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{result.stderr[-4000:]}")
    return result.stdout, seconds


def table(rows: list[dict], columns: list[str]) -> str:
    """A small Markdown table (benchmarks print what docs/benchmarks.md shows)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)
