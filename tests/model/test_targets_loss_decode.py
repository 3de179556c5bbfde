"""Targets, loss and decoding agree with each other and with DeepLabCut's geometry."""

from __future__ import annotations

import math

import pytest
import torch

from posering.model import decode_poses, make_targets, pose_loss
from posering.model.backbones import Backbone, BackboneEntry
from posering.model.heads import HeatmapHead, default_head_config
from posering.model.posenet import PoseNet
from posering.model.targets import DEFAULT_LOCREF_STD

MAP = (61, 81)  # a 480x640 frame at stride 8


def _keypoints():
    # Image 0: two labeled keypoints and one unlabeled; image 1: all labeled.
    nan = float("nan")
    return torch.tensor(
        [[[100.3, 200.7], [13.0, 470.2], [nan, nan]],
         [[639.0, 0.0], [321.9, 240.4], [4.0, 4.0]]]
    )


def test_gaussian_peak_and_std_in_image_pixels():
    kp = _keypoints()
    t = make_targets(kp, MAP)
    hm = t["heatmap"]["target"]
    assert hm.shape == (2, 3, *MAP) and t["locref"]["target"].shape == (2, 6, *MAP)
    # The peak is the cell whose centre (i*8 + 4) is nearest the keypoint.
    for n, k in [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]:
        x, y = kp[n, k].tolist()
        row, col = divmod(int(hm[n, k].argmax()), MAP[1])
        assert (col, row) == (min(round((x - 4) / 8), MAP[1] - 1), min(round((y - 4) / 8), MAP[0] - 1))
    # Value at a cell: exp(-d^2 / (2 sigma^2)), sigma = 2*17/3 image pixels.
    x, y = kp[1, 1].tolist()
    d2 = (40 * 8 + 4 - x) ** 2 + (30 * 8 + 4 - y) ** 2
    sigma = 2 * 17 / 3
    assert hm[1, 1, 30, 40].item() == pytest.approx(math.exp(-d2 / (2 * sigma**2)), rel=1e-5)


def test_missing_keypoint_zero_target_weight_one_and_masking():
    kp = _keypoints()
    t = make_targets(kp, MAP)
    assert t["heatmap"]["target"][0, 2].abs().max() == 0
    assert t["heatmap"]["weights"][0, 2].min() == 1  # gradient_masking false: zero is learned
    assert t["locref"]["weights"][0, 4:6].max() == 0  # no locref near a missing keypoint
    assert torch.isfinite(t["locref"]["target"]).all()
    masked = make_targets(kp, MAP, gradient_masking=True)
    assert masked["heatmap"]["weights"][0, 2].max() == 0
    assert masked["heatmap"]["weights"][0, 0].min() == 1
    vis = torch.tensor([[1, -1, 0], [1, 1, 1]])
    ignored = make_targets(kp, MAP, visibility=vis)
    assert ignored["heatmap"]["weights"][0, 1].max() == 0  # -1: ignored entirely
    assert ignored["locref"]["weights"][0, 2:4].max() == 0


def test_locref_weights_cover_the_radius_only():
    kp = torch.tensor([[[320.0, 240.0]]])
    w = make_targets(kp, MAP)["locref"]["weights"][0, 0]
    rows, cols = torch.nonzero(w, as_tuple=True)
    centres = torch.stack([cols * 8 + 4, rows * 8 + 4], dim=1).float()
    dist = (centres - kp[0, 0]).norm(dim=1)
    assert dist.max() <= 17.0
    # every cell centre within 17 px is weighted
    ys, xs = torch.meshgrid(torch.arange(MAP[0]) * 8 + 4, torch.arange(MAP[1]) * 8 + 4, indexing="ij")
    inside = ((xs - 320.0) ** 2 + (ys - 240.0) ** 2) <= 17**2
    assert int(inside.sum()) == len(rows)


def test_plateau_mode():
    t = make_targets(torch.tensor([[[320.0, 240.0]]]), MAP, mode="plateau")
    assert set(t["heatmap"]["target"].unique().tolist()) == {0.0, 1.0}
    assert torch.equal(t["heatmap"]["target"][0, 0] > 0, t["locref"]["weights"][0, 0] > 0)


def test_decoding_targets_recovers_keypoints():
    kp = _keypoints()
    t = make_targets(kp, MAP)
    poses = decode_poses({"heatmap": t["heatmap"]["target"], "locref": t["locref"]["target"]})
    labeled = torch.isfinite(kp).all(-1)
    err = (poses[..., :2] - kp).norm(dim=-1)[labeled]
    assert err.max() < 0.5
    assert poses[..., 2][labeled].min() > 0.8
    # offset/scale map a (resized) crop back to the frame: x_full = x*scale + offset
    full = decode_poses(
        {"heatmap": t["heatmap"]["target"], "locref": t["locref"]["target"]},
        offset=torch.tensor([[10.0, 20.0], [30.0, 40.0]]), scale=2.0,
    )
    assert torch.allclose(full[..., :2], poses[..., :2] * 2 + torch.tensor([[[10.0, 20.0]], [[30.0, 40.0]]]))


def test_decode_formula_and_clipping():
    heatmap = torch.zeros(1, 1, 5, 6)
    heatmap[0, 0, 3, 2] = 1.7  # above 1: clipped
    locref = torch.zeros(1, 2, 5, 6)
    locref[0, :, 3, 2] = torch.tensor([0.5, -0.25])
    pose = decode_poses({"heatmap": heatmap, "locref": locref})[0, 0]
    assert pose.tolist() == pytest.approx(
        [2 * 8 + 4 + 0.5 * DEFAULT_LOCREF_STD, 3 * 8 + 4 - 0.25 * DEFAULT_LOCREF_STD, 1.0]
    )


def test_loss_normalisation_and_aggregation():
    kp = torch.tensor([[[40.0, 40.0], [float("nan"), float("nan")]]])
    t = make_targets(kp, (9, 11))
    zeros = {"heatmap": torch.zeros(1, 2, 9, 11), "locref": torch.zeros(1, 4, 9, 11)}
    parts = pose_loss(zeros, t)
    hm_expected = (t["heatmap"]["target"] ** 2).sum() / (2 * 9 * 11)
    lw = t["locref"]["weights"]
    huber = torch.nn.functional.huber_loss(torch.zeros_like(lw), t["locref"]["target"], reduction="none")
    lr_expected = (huber * lw).sum() / lw.count_nonzero()
    assert parts["bodypart_heatmap"].item() == pytest.approx(hm_expected.item(), rel=1e-6)
    assert parts["bodypart_locref"].item() == pytest.approx(lr_expected.item(), rel=1e-6)
    assert parts["total_loss"].item() == pytest.approx(
        (1.0 * hm_expected + 0.05 * lr_expected).item() / 2, rel=1e-6
    )
    # nothing labeled: the locref term is 0, not NaN
    empty = make_targets(torch.full((1, 2, 2), float("nan")), (9, 11))
    assert pose_loss(zeros, empty)["bodypart_locref"].item() == 0.0


class _TinyBackbone(Backbone):
    """Three strided convs (stride 16): a real network small enough to train in a test."""

    def __init__(self):
        torch.nn.Module.__init__(self)
        entry = BackboneEntry("tiny", "none", 32, 16, "Test", (16,))
        self.model = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 3, 4, 1), torch.nn.ReLU(),
            torch.nn.Conv2d(16, 32, 3, 2, 1), torch.nn.ReLU(),
            torch.nn.Conv2d(32, 32, 3, 2, 1), torch.nn.ReLU(),
        )
        self.entry, self.net_type, self.channels, self.stride = entry, "tiny", 32, 16

    def forward(self, images):
        return self.model(images)


@pytest.mark.slow
def test_tiny_net_learns_one_image():
    torch.manual_seed(0)
    k = 2
    head = HeatmapHead(default_head_config(32, k, 16), default_head_config(32, 2 * k, 16))
    model = PoseNet(_TinyBackbone(), head)
    image = torch.zeros(1, 3, 96, 128)
    kp = torch.tensor([[[30.0, 40.0], [90.0, 60.0]]])
    for (x, y), c in zip(kp[0].tolist(), (0, 1)):  # bright blobs where the keypoints are
        image[0, c, int(y) - 6:int(y) + 6, int(x) - 6:int(x) + 6] = 2.0
    out = model(image)
    assert out["heatmap"].shape == (1, k, 2 * (96 // 16) + 1, 2 * (128 // 16) + 1)
    targets = make_targets(kp, tuple(out["heatmap"].shape[-2:]), stride=model.stride)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    losses = []
    for _ in range(60):
        parts = pose_loss(model(image), targets)
        optimizer.zero_grad()
        parts["total_loss"].backward()
        optimizer.step()
        losses.append(parts["total_loss"].item())
    assert losses[-1] < 0.2 * losses[0]
    with torch.no_grad():
        poses = decode_poses(model(image), stride=model.stride)
    assert (poses[0, :, :2] - kp[0]).norm(dim=-1).max() < 4.0
