"""Crops normalised with full-frame GroupNorm statistics give the full frame's outputs."""

from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from posering.analyze.fullview import FullViewNorm

BOX = (slice(None), slice(None), slice(24, 72), slice(40, 104))  # rows 24:72, cols 40:104
INNER = (slice(None), slice(None), slice(28, 68), slice(44, 100))  # 4 px in: beyond the 3x3 convs' reach


def _network() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.GroupNorm(4, 8), nn.ReLU(),
                         nn.Conv2d(8, 8, 3, padding=1), nn.GroupNorm(2, 8)).eval()


def _frame(blob_at: tuple[int, int]) -> torch.Tensor:
    y, x = np.mgrid[:96, :128]
    image = np.stack([np.sin(x / 9.0), np.cos(y / 7.0), np.sin((x + y) / 13.0)])
    image[:, blob_at[0]:blob_at[0] + 10, blob_at[1]:blob_at[1] + 10] += 3.0  # the "animal"
    return torch.tensor(image[None], dtype=torch.float32)


def _crop_through(view, network, reference, current):
    with view.record():
        network(reference)
    reference_sums = view.recorded
    with view.regions(reference_sums):
        network(reference[BOX])
    with view.crops(reference_sums, view.recorded):
        return network(current[BOX])


CROP_INNER = (slice(None), slice(None), slice(4, -4), slice(4, -4))


@torch.inference_mode()
def test_crop_of_the_reference_frame_reproduces_the_full_frame():
    network = _network()
    view = FullViewNorm.attach(SimpleNamespace(network=network))
    assert view is not None and len(view.layers) == 2
    frame = _frame((45, 80))
    crop = _crop_through(view, network, frame, frame)
    full = network(frame)  # outside any mode: the layers run unchanged
    np.testing.assert_allclose(crop[CROP_INNER], full[INNER], atol=1e-4)
    plain = network(frame[BOX])  # the crop normalised by its own statistics
    assert (plain[CROP_INNER] - full[INNER]).abs().max() > 0.05, "the test can tell the two apart"


@torch.inference_mode()
def test_crop_of_a_later_frame_stays_close_to_its_full_frame():
    """The animal moved inside the box since the reference: the first layer's statistics are
    exact, deeper ones approximate (the rest of the frame was normalised differently)."""
    network = _network()
    view = FullViewNorm.attach(SimpleNamespace(network=network))
    reference, current = _frame((30, 50)), _frame((45, 80))
    crop = _crop_through(view, network, reference, current)
    full = network(current)
    error = (crop[CROP_INNER] - full[INNER]).abs().max()
    plain_error = (network(current[BOX])[CROP_INNER] - full[INNER]).abs().max()
    assert error < 0.2 * plain_error, (error, plain_error)


def test_networks_without_groupnorm_are_left_alone():
    network = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).eval()
    assert FullViewNorm.attach(SimpleNamespace(network=network)) is None
    assert FullViewNorm.attach(SimpleNamespace(network="an onnx session")) is None
