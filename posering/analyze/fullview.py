"""Crops that a GroupNorm network sees as parts of the full frame.

GroupNorm (DeepLabCut 3's default ``resnet50_gn``) normalises every feature map by the mean and
variance of the whole image. A dynamic crop around the animal has very different statistics
from the arena it was cut from, so the network's outputs change: on the openfield tracker a
256-pixel crop lost 13% of the points and moved the rest by up to 8 px (DeepLabCut's own dynamic
cropping has the same flaw). Two facts fix it:

* Outside the crop the arena barely changes from frame to frame. So the statistics of the full
  current frame are those of a recent full frame (the stream's *reference*), minus what the
  crop's region held in the reference, plus what it holds now. A full frame run under
  :meth:`FullViewNorm.record` keeps every GroupNorm layer's sums; the crop's region of the
  reference, run once per box under :meth:`FullViewNorm.regions`, gives the region's sums; and
  crops run under :meth:`FullViewNorm.crops` are normalised with reference - region + crop.
* Crops start on multiples of the network's total stride (see ``dynamic.py``), so their feature
  grids line up with the full frame's.

With the reference being the current frame, crops reproduce the full frame's outputs exactly
(away from the crop's edges). When the animal has moved since the reference, the first layer's
statistics are still exact and deeper layers' are close (the rest of the frame was normalised a
little differently): on the openfield tracker, crops stayed within 0.4 px of the full-frame
poses for 90% of the points with references up to 16 frames old (``engine.py`` refreshes it).
Networks without GroupNorm (BatchNorm in eval mode normalises with fixed statistics) need none of
this, and :meth:`FullViewNorm.attach` returns None for them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Sums:
    """Per-sample, per-group sums of one GroupNorm layer's input: (N, G) float64 tensors."""

    total: torch.Tensor
    squares: torch.Tensor
    count: int

    def select(self, rows: list[int]) -> "Sums":
        return Sums(self.total[rows], self.squares[rows], self.count)

    @staticmethod
    def stack(parts: list["Sums"]) -> "Sums":
        return Sums(torch.cat([p.total for p in parts]), torch.cat([p.squares for p in parts]), parts[0].count)


class FullViewNorm:
    """Patches a network's GroupNorm layers to record full-frame sums or to normalise crops with
    full-frame statistics. Outside :meth:`record`, :meth:`regions` and :meth:`crops` the layers
    run unchanged."""

    def __init__(self, layers: list[nn.GroupNorm]):
        self.layers = layers
        self._mode: str | None = None
        self._recorded: list[Sums] = []
        self._reference: list[Sums] = []
        self._regions: list[Sums] = []
        for index, layer in enumerate(layers):
            layer.forward = self._patched(index, layer, layer.forward)

    @classmethod
    def attach(cls, predictor) -> "FullViewNorm | None":
        network = getattr(predictor, "network", None)
        if not isinstance(network, nn.Module):
            return None
        layers = [m for m in network.modules() if isinstance(m, nn.GroupNorm)]
        return cls(layers) if layers else None

    @contextlib.contextmanager
    def record(self):
        """Full frames run inside keep each layer's sums in ``recorded`` (outputs unchanged)."""
        with self._in_mode("record"):
            yield self

    @contextlib.contextmanager
    def regions(self, reference: list[Sums]):
        """Crops of the reference frames run inside are normalised with the reference's
        statistics (``reference``: each layer's sums, one row per crop); ``recorded`` then holds
        each layer's sums of those regions."""
        with self._in_mode("regions", reference):
            yield self

    @contextlib.contextmanager
    def crops(self, reference: list[Sums], regions: list[Sums]):
        """Crops run inside are normalised as parts of their full frames: statistics from the
        reference's sums, less the region's (as the reference held it), plus the crop's own."""
        with self._in_mode("crops", reference, regions):
            yield self

    @property
    def recorded(self) -> list[Sums]:
        """Each layer's sums of the frames run in the last record/regions block, a row each."""
        return self._recorded

    @contextlib.contextmanager
    def _in_mode(self, mode: str, reference: list[Sums] | None = None, regions: list[Sums] | None = None):
        self._mode, self._reference, self._regions = mode, reference or [], regions or []
        if mode != "crops":
            self._recorded = [None] * len(self.layers)
        try:
            yield
        finally:
            self._mode, self._reference, self._regions = None, [], []

    def _patched(self, index: int, layer: nn.GroupNorm, original):
        def forward(x: torch.Tensor) -> torch.Tensor:
            if self._mode is None:
                return original(x)
            sums = _group_sums(x, layer.num_groups)
            if self._mode == "record":  # the layer's own output; only its sums are kept
                self._recorded[index] = sums
                return original(x)
            ref = self._reference[index]
            if self._mode == "regions":
                self._recorded[index] = sums
                return _affine(x, layer, *_moments(ref.total, ref.squares, ref.count))
            region = self._regions[index]
            # the full frame now = the reference frame - the region then + the region now
            return _affine(x, layer, *_moments(ref.total - region.total + sums.total,
                                               ref.squares - region.squares + sums.squares, ref.count))

        return forward


def _affine(x: torch.Tensor, layer: nn.GroupNorm, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """GroupNorm with given per-sample, per-group moments, as one multiply-add per element."""
    per_group = x.shape[1] // layer.num_groups
    a = torch.rsqrt(var.float() + layer.eps).repeat_interleave(per_group, dim=1)
    b = -mean.float().repeat_interleave(per_group, dim=1) * a
    if layer.affine:
        a, b = a * layer.weight, b * layer.weight + layer.bias
    return (x.float() * a[..., None, None] + b[..., None, None]).to(x.dtype)


def _group_sums(x: torch.Tensor, groups: int) -> Sums:
    """Per-sample, per-group sum and sum of squares of a (N, C, H, W) tensor. Per-channel sums
    run along the contiguous axis of either memory format (10x faster than var_mean over (H, W)
    on the CPU), then pool into float64 group sums, which later differences keep exact."""
    n, channels, height, width = x.shape
    values = x.float()
    if values.is_contiguous(memory_format=torch.channels_last):
        flat, axis = values.permute(0, 2, 3, 1).reshape(n, -1, channels), 1
    else:
        flat, axis = values.reshape(n, channels, -1), 2
    per_group = channels // groups
    total = flat.sum(axis).view(n, groups, per_group).double().sum(-1)
    squares = (flat * flat).sum(axis).view(n, groups, per_group).double().sum(-1)
    return Sums(total, squares, height * width * per_group)


def _moments(total: torch.Tensor, squares: torch.Tensor, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    mean = total / count
    return mean, (squares / count - mean.square()).clamp_min(0)

