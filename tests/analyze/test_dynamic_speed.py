"""Dynamic cropping costs no more than full frames when the model never gets confident.

The engine's forward calls are recorded (a wrapper that passes every batch on to the real
predictor): what is checked is the work done, the calls and their batch sizes, not time.
"""

import math

import numpy as np
import pytest

from posering.analyze.engine import InferenceEngine
from posering.analyze.predictor import load_predictors
from posering.analyze.settings import AnalysisSettings, DynamicCropping
from posering.analyze.shards import plan_shards, read_parts
from posering.project import load_config
from posering.project.models import resolve_model
from posering.video import probe


class CallLog:
    """Passes batches to a real predictor and notes each batch's size."""

    def __init__(self, predictor):
        self.predictor, self.sizes = predictor, []

    def __call__(self, frames, **options):
        self.sizes.append(len(frames))
        return self.predictor(frames, **options)

    def __getattr__(self, name):  # the network, for fullview.py's GroupNorm patches
        return getattr(self.predictor, name)


def _run(config, video, parts, settings, shard_frames):
    predictors = load_predictors(resolve_model(load_config(config)), "cpu", settings.precision,
                                 dynamic=settings.dynamic.enabled)
    full, crops = CallLog(predictors.full), CallLog(predictors.crops)
    nframes = probe(video).frame_count
    shards = plan_shards(video, nframes, str(parts), shard_frames)
    with InferenceEngine(full, predictors.num_keypoints, settings,
                         crop_predictor=crops if predictors.crops is not predictors.full else None) as engine:
        engine.run(shards)
    poses, _ = read_parts(str(parts), nframes)
    return poses, full.sizes, crops.sizes if predictors.crops is not predictors.full else []


def test_unconfident_dynamic_runs_full_batches_through_the_full_frame_predictor(analysis_project, videos_dir,
                                                                                 tmp_path):
    video = str(videos_dir / "mouse-a.mp4")
    batch = 8
    full_poses, full_calls, _ = _run(analysis_project, video, tmp_path / "full",
                                     AnalysisSettings(batch_size=batch, precision="fp32"), 30)
    never = AnalysisSettings(batch_size=batch, precision="fp32", dynamic=DynamicCropping(True, 1.01, 10))
    dyn_poses, dyn_calls, crop_calls = _run(analysis_project, video, tmp_path / "dyn", never, 30)
    assert not crop_calls
    # 120 frames in 4 lockstep shards: 15 full batches, not 30 steps of 4 frames.
    assert sum(dyn_calls) == 120
    assert len(dyn_calls) == math.ceil(120 / batch) <= len(full_calls), dyn_calls
    np.testing.assert_allclose(dyn_poses, full_poses, atol=1e-4)


@pytest.mark.slow
def test_unconfident_groupnorm_dynamic_waits_on_the_full_frame_path(tmp_path_factory, tmp_path):
    """resnet_50 (GroupNorm, ONNX Runtime for full frames): only each shard's first frame runs in
    torch to record statistics for crops; the rest go through the full-frame predictor in full batches."""
    import shutil

    from posering.demo.run import make_demo_project
    from posering.project import ProjectConfig
    from tests.random_model import install_random_model

    pytest.importorskip("onnxruntime")
    config = make_demo_project(str(tmp_path_factory.mktemp("gn-speed") / "demo"), nframes=40, nlabeled=10)
    install_random_model(config, "resnet_50")
    (video,) = ProjectConfig.load(config).video_sets
    clip = tmp_path / "clip.mp4"
    shutil.copy(video, clip)
    never = AnalysisSettings(batch_size=4, precision="fp32", dynamic=DynamicCropping(True, 1.01, 10))
    poses, full_calls, crop_calls = _run(config, str(clip), tmp_path / "dyn", never, 20)
    assert crop_calls == [2]  # the two shards' first frames, recording statistics, one batch
    assert full_calls == [4] * 9 + [2], full_calls  # the other 38 frames in full batches
    full_poses, _, _ = _run(config, str(clip), tmp_path / "full", AnalysisSettings(batch_size=4, precision="fp32"), 20)
    np.testing.assert_allclose(poses[:, :, :2], full_poses[:, :, :2], atol=1e-2)
