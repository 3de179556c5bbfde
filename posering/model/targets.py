"""Training targets for the heatmap head, for a whole batch at once on any device.

Geometry (DeepLabCut 3's): map cell (i, j) stands for the image point
(j*stride + stride/2, i*stride + stride/2). For keypoint p:
- score map: exp(-|c - p|^2 / (2 sigma^2)) with sigma = 2*pos_dist_thresh/3 image pixels
  (or, mode "plateau", 1 within pos_dist_thresh and 0 elsewhere);
- locref: (p - c) / locref_std per axis, weighted 1 only in cells within pos_dist_thresh;
- weights: every cell of a keypoint's score map counts (weight 1), also for an unlabeled
  keypoint, whose target is all zero, unless `gradient_masking` is on; a keypoint whose
  visibility is -1 ("ignore") gets weight 0.

Everything is a broadcast over (N, K, h, w): no Python loop over images, keypoints or pixels.
"""

from __future__ import annotations

import torch

DEFAULT_POS_DIST_THRESH = 17.0
DEFAULT_LOCREF_STD = 7.2801


def cell_centres(size: int, stride: float, device=None) -> torch.Tensor:
    """Image coordinates of the centres of `size` map cells along one axis."""
    return torch.arange(size, device=device, dtype=torch.float32) * stride + stride / 2


def make_targets(
    keypoints: torch.Tensor,
    map_size: tuple[int, int],
    stride: float = 8.0,
    pos_dist_thresh: float = DEFAULT_POS_DIST_THRESH,
    locref_std: float = DEFAULT_LOCREF_STD,
    mode: str = "gaussian",
    gradient_masking: bool = False,
    visibility: torch.Tensor | None = None,
) -> dict[str, dict[str, torch.Tensor]]:
    """Targets and weights for a batch.

    keypoints: (N, K, 2) x, y in the network input's pixels; NaN marks an unlabeled keypoint.
    map_size: (h, w) of the head's output maps.
    visibility: optional (N, K): > 0 labeled, 0 unlabeled, -1 ignore (weight 0). When given,
        a keypoint is labeled only if it is also finite.
    Returns {"heatmap": {"target", "weights"}, "locref": {"target", "weights"}}, heatmap tensors
    (N, K, h, w), locref tensors (N, 2K, h, w) with x, y interleaved per keypoint, all float32
    on the keypoints' device. Weights are expanded views (no copy per cell).
    """
    if mode not in ("gaussian", "plateau"):
        raise ValueError(f"unknown heatmap mode {mode!r}: use 'gaussian' or 'plateau'")
    kp = keypoints.float()
    n, k, _ = kp.shape
    h, w = map_size
    device = kp.device

    labeled = torch.isfinite(kp).all(dim=-1)  # (N, K)
    ignored = torch.zeros_like(labeled)
    if visibility is not None:
        labeled &= visibility > 0
        ignored = visibility < 0
    # NaN would poison every arithmetic result below; unlabeled keypoints are masked anyway.
    kp = torch.where(labeled[..., None], kp, torch.zeros_like(kp))

    # Offsets keypoint - cell centre, separable per axis: (N,K,1,w) and (N,K,h,1).
    dx = kp[..., 0, None, None] - cell_centres(w, stride, device)[None, None, None, :]
    dy = kp[..., 1, None, None] - cell_centres(h, stride, device)[None, None, :, None]
    dist_sq = dx * dx + dy * dy  # (N, K, h, w)
    near = dist_sq <= pos_dist_thresh**2

    if mode == "gaussian":
        sigma = 2.0 * pos_dist_thresh / 3.0
        heatmap = torch.exp(-dist_sq / (2.0 * sigma * sigma))
    else:
        heatmap = near.float()
    heatmap = heatmap * labeled[..., None, None]

    keep = ~ignored
    if gradient_masking:
        keep = keep & labeled
    heatmap_weights = keep.float()[..., None, None].expand(n, k, h, w)

    # Locref target everywhere (only weighted cells matter), x and y interleaved: (N,K,2,h,w).
    locref = torch.stack(
        [dx.expand(n, k, h, w), dy.expand(n, k, h, w)], dim=2
    ) / locref_std
    locref_weights = (near & labeled[..., None, None] & keep[..., None, None]).float()
    locref_weights = locref_weights[:, :, None].expand(n, k, 2, h, w)

    return {
        "heatmap": {"target": heatmap, "weights": heatmap_weights},
        "locref": {
            "target": locref.reshape(n, 2 * k, h, w),
            "weights": locref_weights.reshape(n, 2 * k, h, w),
        },
    }
