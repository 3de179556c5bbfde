"""Driving DeepLabCut 3.0.2 from the tests: its own virtual environment, offline, one process.

``POSERING_DLC_PYTHON`` names the python of a virtual environment with ``deeplabcut==3.0.2``
(``scripts/dlc-venv.sh`` builds one); without it the tests that need DeepLabCut skip, saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

DLC_PYTHON = os.environ.get("POSERING_DLC_PYTHON")
needs_deeplabcut = pytest.mark.skipif(
    not DLC_PYTHON, reason="set POSERING_DLC_PYTHON to the python of a deeplabcut==3.0.2 virtual environment "
                           "(scripts/dlc-venv.sh builds one)")

# DeepLabCut asks model hubs for weights and reports usage online: offline, it must fail fast
# instead of retrying, and never wait for a display.
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
           "DLClight": "True", "MPLBACKEND": "Agg", "PYTHONNOUSERSITE": "1", "TQDM_DISABLE": "1"}


def step(name: str, call: str, *args, **kwargs) -> dict:
    """One DeepLabCut call of a plan (arguments must be JSON: paths as strings)."""
    return {"name": name, "call": call, "args": [str(a) if isinstance(a, Path) else a for a in args],
            "kwargs": {k: str(v) if isinstance(v, Path) else v for k, v in kwargs.items()}}


def run_deeplabcut(plan: list[dict], workdir: Path, timeout: float = 1800) -> dict:
    """Run the plan in DeepLabCut's environment; returns each step's outcome (see dlc_steps.py)."""
    workdir.mkdir(parents=True, exist_ok=True)
    plan_file, results_file, log_file = workdir / "plan.json", workdir / "results.json", workdir / "dlc.log"
    plan_file.write_text(json.dumps(plan, indent=1))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(OFFLINE)
    with open(log_file, "w") as log:
        try:
            subprocess.run([DLC_PYTHON, str(Path(__file__).with_name("dlc_steps.py")), str(plan_file),
                            str(results_file)], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                           timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            pass
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    for entry in plan:  # steps a killed run never reached
        results.setdefault(entry["name"], {"ok": False, "error": f"not reached (see {log_file})"})
    return results


def quick_model(config: str, shuffle: int = 1, trainingsetindex: int = 0) -> None:
    """Settings both tools train a resnet_50 with in seconds: small crops, no ImageNet download."""
    from posering.formats.model_config import read_model_config
    from posering.project import ProjectPaths, load_config

    cfg = load_config(config)
    fraction = cfg.training_fractions[trainingsetindex]
    model_config = read_model_config(ProjectPaths(cfg).model_config_file(fraction, shuffle))
    for dotted, value in {"data.train.crop_sampling.width": 256, "data.train.crop_sampling.height": 256,
                          "posering.weight_init": "none", "train_settings.batch_size": 8}.items():
        model_config.set(dotted, value)
    model_config.save()


def assert_step(results: dict, name: str) -> None:
    outcome = results[name]
    assert outcome["ok"], f"deeplabcut step {name} failed:\n{outcome['error']}"
