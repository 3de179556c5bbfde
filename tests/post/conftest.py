"""Fixtures for the post-processing tests: real DeepLabCut data and synthetic pose tables.

Ray comes from the session-wide ``ray_session`` of tests/conftest.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posering.post.pose_table import from_arrays

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


DLC_SCORER = "DLC_Resnet50_openfieldOct30shuffle1_snapshot_best-10"


@pytest.fixture
def dlc_light_project(tmp_path) -> Path:
    """DeepLabCut 3's openfield project as its post-processing steps see it, without the weights.

    config.yaml and the model folder (pytorch_config.yaml and an empty ``snapshot-best-010.pt``:
    only its name matters, it names the scorer), the 600-frame clip in videos/ and DeepLabCut's
    own analysis file beside it. A skeleton is added (DeepLabCut's openfield has none).
    Yields the config path.
    """
    import shutil

    import yaml

    source = shared_data_dir() / "dlc3-openfield-resnet50"
    if not source.is_dir():
        pytest.skip(f"{source} not found (needs ../shared/data or POSERING_SHARED_DATA)")
    root = tmp_path / "openfield-Pranav-2018-10-30"
    train = root / "dlc-models-pytorch" / "iteration-0" / "openfieldOct30-trainset95shuffle1" / "train"
    train.mkdir(parents=True)
    (root / "videos").mkdir()
    shutil.copy(source / train.relative_to(root) / "pytorch_config.yaml", train)
    (train / "snapshot-best-010.pt").write_bytes(b"")
    shutil.copy(source / "videos" / "m3v1mp4_clip600.mp4", root / "videos")
    for suffix in (".h5", ".csv"):
        shutil.copy(source / "analysis-full" / f"m3v1mp4_clip600{DLC_SCORER}{suffix}", root / "videos")
    config = yaml.safe_load((source / "config.yaml").read_text())
    config["skeleton"] = [["snout", "leftear"], ["snout", "rightear"], ["snout", "tailbase"]]
    (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root / "config.yaml"
