"""Helpers shared by the benchmarks: the example data, peak memory, timing, DeepLabCut's venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shared_data() -> Path:
    """DeepLabCut's example data: $POSERING_SHARED_DATA, else ../shared/data beside the checkout."""
    candidate = Path(os.environ.get("POSERING_SHARED_DATA") or REPO.parent / "shared" / "data")
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


def install_random_model(config_path: str, net_type: str = "mobilenet_v4_small", epoch: int = 5) -> None:
    """Give a project's shuffle 1 a seeded, untrained network (for throughput and memory
    benchmarks and for tests that pin analysis mechanics, not accuracy)."""
    import torch

    from posering.model.build import build_model, save_snapshot
    from posering.model.config import make_model_config, parse_model_config, save_model_config
    from posering.project import ProjectConfig, ProjectPaths

    config = ProjectConfig.load(config_path)
    paths = ProjectPaths(config)
    model_config_file = paths.model_config_file(0.95, 1)
    model_config = make_model_config(net_type, config.bodyparts, config.project_path, model_config_file)
    save_model_config(model_config, model_config_file)
    torch.manual_seed(0)
    model = build_model(parse_model_config(model_config, model_config_file))
    save_snapshot(paths.train_dir(0.95, 1) + f"/snapshot-{epoch:03d}.pt", model, {"epoch": epoch})


def random_model_project(work: Path, net_type: str) -> str:
    """A small demo project under ``work/project`` with an untrained ``net_type``; its config."""
    from posering.demo.run import make_demo_project

    config_path = make_demo_project(str(work / "project"), nframes=60, nlabeled=5)
    install_random_model(config_path, net_type, epoch=1)
    return config_path
