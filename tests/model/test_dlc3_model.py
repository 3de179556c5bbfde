"""posering runs DeepLabCut 3's own trained resnet_50 and reproduces its numbers."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from posering.formats.model_config import read_model_spec
from posering.formats.snapshots import read_weights
from posering.model import build_model, decode_poses, load_dlc_model, make_predictor

pytestmark = pytest.mark.shared_data

# Raw outputs vs DeepLabCut's own (same weights, same frames, CPU float32): measured max abs
# differences are ~2e-7 (heatmap) and ~1e-5 (locref, values up to ~3.6); the tolerances leave a
# margin for other CPUs' kernels while staying far below anything that moves a decoded pose.
HEATMAP_ATOL = 1e-5
LOCREF_ATOL = 1e-4


@pytest.fixture(scope="module")
def clip_frames(dlc3_dir):
    """The eight RGB uint8 frames of raw_outputs.npz, read from the clip."""
    raw = np.load(dlc3_dir / "raw_outputs.npz")
    cap = cv2.VideoCapture(str(dlc3_dir / "videos/m3v1mp4_clip600.mp4"))
    wanted, frames, index = list(raw["frame_index"]), [], 0
    while len(frames) < len(wanted):
        ok, frame = cap.read()
        assert ok, f"clip ended before frame {wanted[len(frames)]}"
        if index == wanted[len(frames)]:
            frames.append(frame[:, :, ::-1])  # OpenCV gives BGR
        index += 1
    cap.release()
    return np.ascontiguousarray(np.stack(frames)), raw


@pytest.fixture(scope="module")
def dlc3_model(dlc3_config, dlc3_snapshot):
    return load_dlc_model(str(dlc3_config), str(dlc3_snapshot), device="cpu")


@pytest.fixture(scope="module")
def outputs(dlc3_model, clip_frames):
    """posering's raw outputs for the eight frames, input prepared exactly as documented."""
    frames, _ = clip_frames
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.inference_mode():
        return dlc3_model((x - mean) / std)


def test_snapshot_loads_strictly(dlc3_config, dlc3_snapshot):
    spec = read_model_spec(str(dlc3_config))
    assert (spec.net_type, spec.backbone, spec.output_stride) == ("resnet_50", "resnet50_gn", 16)
    assert spec.bodyparts == ("snout", "leftear", "rightear", "tailbase")
    state, metadata = read_weights(str(dlc3_snapshot))
    assert metadata["epoch"] == 10
    model = build_model(spec)
    own = model.state_dict()
    assert set(own) == set(state)
    assert all(own[k].shape == state[k].shape for k in own)
    model.load_state_dict(state, strict=True)


def test_raw_outputs_match_deeplabcut(outputs, clip_frames):
    _, raw = clip_frames
    heatmap, locref = outputs["heatmap"].numpy(), outputs["locref"].numpy()
    assert heatmap.shape == (8, 4, 61, 81) and locref.shape == (8, 8, 61, 81)
    np.testing.assert_allclose(heatmap, raw["heatmap"], rtol=0, atol=HEATMAP_ATOL)
    np.testing.assert_allclose(locref, raw["locref"], rtol=0, atol=LOCREF_ATOL)


def _analysis_rows(dlc3_dir, frame_index) -> np.ndarray:
    (h5,) = (dlc3_dir / "analysis-full").glob("*.h5")
    table = pd.read_hdf(h5, key="df_with_missing")
    return table.iloc[list(frame_index)].to_numpy().reshape(len(frame_index), 4, 3)


def test_decoded_poses_equal_analysis_h5(outputs, clip_frames, dlc3_dir):
    _, raw = clip_frames
    expected = _analysis_rows(dlc3_dir, raw["frame_index"])
    poses = decode_poses(outputs).numpy()
    np.testing.assert_allclose(poses[..., :2], expected[..., :2], rtol=0, atol=1e-3)
    np.testing.assert_allclose(poses[..., 2], expected[..., 2], rtol=0, atol=1e-5)
    # DeepLabCut's own raw outputs decode to the same rows (the decoder alone is exact).
    # (DeepLabCut's analysis ran at batch size 4, the raw outputs at 8: its own numbers differ
    # by up to ~3e-4 px between the two, hence the coordinate tolerance.)
    theirs = decode_poses({k: torch.from_numpy(raw[k]) for k in ("heatmap", "locref")}).numpy()
    np.testing.assert_allclose(theirs[..., :2], expected[..., :2], rtol=0, atol=1e-3)
    np.testing.assert_allclose(theirs[..., 2], expected[..., 2], rtol=0, atol=1e-5)
    # A crop offset comes back as a shift of the coordinates only.
    shifted = decode_poses(outputs, offset=(100.0, 50.0)).numpy()
    np.testing.assert_allclose(shifted[..., :2] - [100.0, 50.0], poses[..., :2], atol=1e-4)
    np.testing.assert_array_equal(shifted[..., 2], poses[..., 2])


def test_predictor_on_uint8_frames_gives_the_same_poses(dlc3_model, clip_frames, dlc3_dir):
    frames, raw = clip_frames
    expected = _analysis_rows(dlc3_dir, raw["frame_index"])
    # The default CPU path (ONNX Runtime where installed, else torch) ...
    predictor = make_predictor(dlc3_model, device="cpu")
    # ... and torch, given BGR frames as OpenCV reads them, flipped on the device.
    bgr = make_predictor(dlc3_model, device="cpu", channel_order="BGR", backend="torch")
    poses = predictor(frames[:1]).numpy()
    np.testing.assert_allclose(poses[..., :2], expected[:1, :, :2], rtol=0, atol=1e-3)
    np.testing.assert_allclose(poses[..., 2], expected[:1, :, 2], rtol=0, atol=1e-5)
    np.testing.assert_allclose(bgr(frames[:1, :, :, ::-1].copy()).numpy(), poses, atol=1e-3)
