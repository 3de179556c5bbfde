"""The predictor: uint8 frames in, poses out, same numbers as the plain float32 path."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from posering.model import build_model, decode_poses, make_predictor, parse_model_config
from posering.model.defaults import make_model_config
from posering.model.runtime import resolve_precision


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    spec = parse_model_config(make_model_config("resnet_18", ["a", "b"], "/p", "/p/c.yaml"))
    net = build_model(spec).eval()
    # Sharper maps than the N(0, 0.001^2) init gives, so that the argmax means something.
    with torch.no_grad():
        for layer in (net.head.heatmap_head.deconv_layers[0], net.head.locref_head.deconv_layers[0]):
            layer.weight.normal_(0, 0.05)
    return net


@pytest.fixture(scope="module")
def frames():
    return np.random.default_rng(1).integers(0, 256, (2, 64, 96, 3), dtype=np.uint8)


def _reference(model, frames):
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    x = (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.inference_mode():
        return decode_poses(model(x), stride=model.stride)


def test_fp32_predictor_equals_the_plain_path(model, frames):
    predictor = make_predictor(model, device="cpu", precision="fp32", backend="torch")
    poses = predictor(frames)
    assert poses.shape == (2, 2, 3) and poses.dtype == torch.float32
    assert torch.allclose(poses, _reference(model, frames), atol=1e-3)
    # tensors are accepted as well as numpy arrays; BGR input is flipped on the device
    assert torch.allclose(predictor(torch.from_numpy(frames)), poses)
    bgr = make_predictor(model, device="cpu", precision="fp32", channel_order="BGR", backend="torch")
    assert torch.allclose(bgr(frames[..., ::-1].copy()), poses, atol=1e-5)


def test_bf16_runs_and_returns_float32(model, frames):
    poses = make_predictor(model, device="cpu", precision="bf16")(frames)
    assert poses.dtype == torch.float32 and torch.isfinite(poses).all()


def test_precision_choice():
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32"
    assert resolve_precision("auto", cpu) in ("fp32", "bf16")
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("int4", cpu)


def test_int8_without_a_calibrated_graph_is_refused(model):
    pytest.importorskip("onnxruntime")
    with pytest.raises(ValueError, match="int8.*calibrated"):
        make_predictor(model, device="cpu", precision="int8")


def test_rejects_non_uint8_frames(model):
    with pytest.raises(ValueError, match="uint8"):
        make_predictor(model, device="cpu")(np.zeros((1, 64, 96, 3), dtype=np.float32))


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("onnxruntime", "onnx")),
    reason="onnxruntime/onnx not installed (pip install .[onnx])",
)
def test_onnxruntime_backend_matches_torch(model, frames):
    ort_predictor = make_predictor(model, device="cpu", precision="fp32", backend="onnxruntime")
    assert ort_predictor.backend == "onnxruntime"
    assert not model.training  # exporting must leave the caller's model as it was
    torch_predictor = make_predictor(model, device="cpu", precision="fp32", backend="torch")
    a, b = ort_predictor.maps(frames), torch_predictor.maps(frames)
    assert torch.allclose(a["heatmap"], b["heatmap"], atol=1e-5)
    assert torch.allclose(a["locref"], b["locref"], atol=1e-4)
    # dynamic height and width: a crop of another size runs through the same session
    crop = frames[:, :48, :80].copy()
    assert torch.allclose(ort_predictor(crop), torch_predictor(crop), atol=1e-3)
