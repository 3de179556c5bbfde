"""A model DeepLabCut 3 trained analyzes in posering where it lies, giving DeepLabCut's numbers."""

import numpy as np
import pandas as pd
import pytest

from posering.analyze.engine import InferenceEngine
from posering.analyze.predictor import load_predictor
from posering.analyze.settings import AnalysisSettings
from posering.analyze.shards import Shard
from posering.project import load_config
from posering.project.models import resolve_model

SCORER = "DLC_Resnet50_openfieldOct30shuffle1_snapshot_best-10"
FRAMES = 16  # resnet_50 at 640x480 on a 2-core CPU: keep the test short


def test_scorer_and_snapshot_follow_deeplabcut_rules(dlc3_project):
    model = resolve_model(load_config(str(dlc3_project)), shuffle=1)
    assert model.scorer == SCORER
    assert model.snapshot.location.endswith("train/snapshot-best-010.pt")


@pytest.mark.slow
def test_engine_matches_deeplabcut_rows(dlc3_project, tmp_path):
    config = load_config(str(dlc3_project))
    model = resolve_model(config, shuffle=1)
    predictor, k = load_predictor(model, "cpu", precision="fp32")
    video = str(dlc3_project.parent / "videos" / "m3v1mp4_clip600.mp4")
    with InferenceEngine(predictor, k, AnalysisSettings(batch_size=4, precision="fp32")) as engine:
        poses = engine.run_fixed(Shard(video, 0, FRAMES, str(tmp_path)))
    expected = pd.read_hdf(dlc3_project.parent.parent / "dlc3" / "dlc3-openfield-resnet50" / "analysis-full" /
                           f"m3v1mp4_clip600{SCORER}.h5", "df_with_missing")
    expected = expected.to_numpy().reshape(len(expected), k, 3)[:FRAMES]
    distance = np.linalg.norm(poses[..., :2] - expected[..., :2], axis=-1)
    assert distance.max() <= 0.5, f"max {distance.max():.3f} px from DeepLabCut's rows"
    assert np.abs(poses[..., 2] - expected[..., 2]).max() <= 0.01
