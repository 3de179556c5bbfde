"""Decoding score maps into poses, batched, on whatever device the maps are on.

For each keypoint: the cell (row, col) of the highest score, then
    x = col*stride + stride/2 + locref_x*locref_std     (y likewise)
    likelihood = score at that cell, clipped to [0, 1] (after a sigmoid if the model uses one).
This is DeepLabCut 3's single-animal decoding; on its own outputs it gives its numbers exactly.

`offset` and `scale` map the result back to full-frame coordinates when the network saw a crop
(or a resized crop): x_full = x * scale_x + offset_x. Dynamic cropping passes each frame's crop
corner as its offset.
"""

from __future__ import annotations

import torch

from posering.model.targets import DEFAULT_LOCREF_STD


def _per_image(value, n: int, device) -> torch.Tensor:
    """A scalar, (2,) or (N, 2) offset/scale as an (N, 1, 2) float tensor on `device`."""
    t = torch.as_tensor(value, dtype=torch.float32, device=device)
    if t.ndim == 0:
        t = t.expand(2)
    return t.reshape(-1, 1, 2).expand(n, 1, 2)


def decode_poses(
    outputs: dict[str, torch.Tensor],
    stride: float = 8.0,
    locref_std: float = DEFAULT_LOCREF_STD,
    apply_sigmoid: bool = False,
    offset=None,
    scale=None,
) -> torch.Tensor:
    """(N, K, 3) float32 tensor of x, y, likelihood from {"heatmap", optional "locref"}.

    heatmap: (N, K, h, w); locref: (N, 2K, h, w), x and y interleaved per keypoint; without
    locref the cell centre is the position. offset/scale: scalar, (2,) or (N, 2) as (x, y).
    """
    heatmap = outputs["heatmap"].float()
    n, k, h, w = heatmap.shape
    if apply_sigmoid:
        heatmap = torch.sigmoid(heatmap)
    flat = heatmap.reshape(n, k, h * w)
    # argmax returns the first maximum, like numpy's: ties resolve as in DeepLabCut.
    score, index = flat.max(dim=-1)
    rows = torch.div(index, w, rounding_mode="floor")
    cols = index - rows * w
    xy = torch.stack([cols, rows], dim=-1).float() * stride + stride / 2  # (N, K, 2)

    locref = outputs.get("locref")
    if locref is not None:
        # (N, 2K, h, w) -> (N, K, 2, h*w), then gather the peak cell of each keypoint.
        offsets = locref.float().reshape(n, k, 2, h * w)
        gathered = offsets.gather(-1, index[:, :, None, None].expand(n, k, 2, 1))[..., 0]
        xy = xy + gathered * locref_std

    if scale is not None:
        xy = xy * _per_image(scale, n, xy.device)
    if offset is not None:
        xy = xy + _per_image(offset, n, xy.device)
    return torch.cat([xy, score.clamp(0.0, 1.0)[..., None]], dim=-1)
