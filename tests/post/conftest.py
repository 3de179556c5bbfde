"""Fixtures for the post-processing tests: real DeepLabCut data and synthetic pose tables.

Ray comes from the session-wide ``ray_session`` of tests/conftest.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posering.post.poses import from_arrays

BODYPARTS = ["snout", "leftear", "rightear", "tailbase"]


def shared_data_dir() -> Path:
    """../shared/data beside the checkout, or $POSERING_SHARED_DATA."""
    env = os.environ.get("POSERING_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def dlc_analysis_file() -> Path:
    """DeepLabCut 3.0.2's analyze_videos output for the openfield clip (600 frames, 4 bodyparts)."""
    folder = shared_data_dir() / "dlc3-openfield-resnet50" / "analysis-full"
    files = sorted(folder.glob("*.h5")) if folder.is_dir() else []
    if not files:
        pytest.skip(
            f"real DeepLabCut analysis file not found under {folder} "
            "(needs ../shared/data or POSERING_SHARED_DATA)"
        )
    return files[0]


@pytest.fixture(scope="session")
def dlc_poses(dlc_analysis_file: Path) -> pd.DataFrame:
    return pd.read_hdf(dlc_analysis_file, "df_with_missing")


def smooth_table(n_frames: int = 300, n_bodyparts: int = 2, noise: float = 0.5, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A float32 pose table on slow sinusoids; also returns the noiseless x and y (frames, K)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames)[:, None]
    k = np.arange(n_bodyparts)[None, :]
    true_x = 300 + 60 * np.sin(2 * np.pi * t / 400 + k)
    true_y = 200 + 40 * np.cos(2 * np.pi * t / 500 + k)
    x = true_x + rng.normal(0, noise, true_x.shape)
    y = true_y + rng.normal(0, noise, true_y.shape)
    p = np.full(x.shape, 0.95)
    df = from_arrays(x, y, p, "DLC_test_scorer", BODYPARTS[:n_bodyparts]).astype(np.float32)
    return df, true_x, true_y
