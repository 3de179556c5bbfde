"""The training loss of the heatmap head, as DeepLabCut 3 computes it.

- heatmap: squared error on the raw head output (no sigmoid), weighted;
- locref: Huber loss (delta 1) on the offsets, weighted (non-zero only near labeled keypoints);
- each term is its weighted sum divided by the number of elements with non-zero weight, so a
  batch's loss does not depend on how many cells are masked;
- total = mean(heatmap_weight * L_heatmap, locref_weight * L_locref), defaults 1.0 and 0.05.

The names of the returned parts (`bodypart_heatmap`, `bodypart_locref`, `total_loss`) are the
ones DeepLabCut logs in learning_stats.csv.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

HEATMAP_WEIGHT = 1.0
LOCREF_WEIGHT = 0.05


def _masked_mean(elementwise: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted sum / count of non-zero weights; 0 (still on the graph) when nothing counts."""
    count = torch.count_nonzero(weights.expand_as(elementwise))
    total = (elementwise * weights).sum()
    # clamp keeps the division finite; with count 0 the weighted sum is 0 as well.
    return total / count.clamp(min=1).to(total.dtype)


def heatmap_loss(output: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Masked mean squared error on raw score maps."""
    return _masked_mean(F.mse_loss(output.float(), target, reduction="none"), weights)


def locref_loss(output: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Masked Huber loss (delta 1) on location-refinement maps."""
    return _masked_mean(F.huber_loss(output.float(), target, reduction="none", delta=1.0), weights)


def pose_loss(
    outputs: dict[str, torch.Tensor],
    targets: dict[str, dict[str, torch.Tensor]],
    heatmap_weight: float = HEATMAP_WEIGHT,
    locref_weight: float = LOCREF_WEIGHT,
) -> dict[str, torch.Tensor]:
    """{"total_loss", "bodypart_heatmap"[, "bodypart_locref"]} for outputs of `PoseNet`.

    `targets` is what `targets.make_targets` returns. `total_loss` is the one to backpropagate;
    the parts are the unweighted terms, for logging.
    """
    parts = {
        "bodypart_heatmap": heatmap_loss(
            outputs["heatmap"], targets["heatmap"]["target"], targets["heatmap"]["weights"]
        )
    }
    weighted = [heatmap_weight * parts["bodypart_heatmap"]]
    if "locref" in outputs and "locref" in targets:
        parts["bodypart_locref"] = locref_loss(
            outputs["locref"], targets["locref"]["target"], targets["locref"]["weights"]
        )
        weighted.append(locref_weight * parts["bodypart_locref"])
    # DeepLabCut's aggregator averages the weighted terms (it does not add them).
    parts["total_loss"] = torch.stack(weighted).mean()
    return parts
