"""Shared fixtures for the model tests: the real DeepLabCut 3 model, when ../shared/data exists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

# The machine is shared: keep every test on at most two threads.
torch.set_num_threads(min(2, torch.get_num_threads()))

MODEL_DIR = "dlc3-openfield-resnet50/dlc-models-pytorch/iteration-0/openfieldOct30-trainset95shuffle1/train"


def shared_data_dir() -> Path:
    env = os.environ.get("POSERING_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def dlc3_dir() -> Path:
    """../shared/data/dlc3-openfield-resnet50, or skip."""
    path = shared_data_dir() / "dlc3-openfield-resnet50"
    if not path.is_dir():
        pytest.skip(f"../shared/data not found: {path} (set POSERING_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def dlc3_config(dlc3_dir) -> Path:
    return dlc3_dir / MODEL_DIR.split("/", 1)[1] / "pytorch_config.yaml"


@pytest.fixture(scope="session")
def dlc3_snapshot(dlc3_dir) -> Path:
    return dlc3_dir / MODEL_DIR.split("/", 1)[1] / "snapshot-best-010.pt"
