"""Evaluation during training: test-set metrics and losses for learning_stats.csv and the
choice of the best snapshot (DeepLabCut evaluates every ``runner.eval_interval`` epochs).

Full frames, float32, as evaluate_network does, so the numbers logged while training are the
ones evaluate_network later reports for the same snapshot.
"""

from __future__ import annotations

import numpy as np
import torch

from posering.evaluate.metrics import evaluate_poses
from posering.model import decode_poses, make_targets, pose_loss
from posering.model.runtime import make_predictor
from posering.train.data import read_image


class TestSetEvaluator:
    """Callable ``(model) -> {"test.rmse", "test.rmse_pcutoff", "test.mAP", "test.mAR",
    "eval.total_loss", ...}`` on a fixed set of labeled images."""

    def __init__(self, locations: list[str], keypoints: np.ndarray, pcutoff: float, device):
        self.images = [read_image(location) for location in locations]  # small: the test split
        self.keypoints = np.asarray(keypoints, dtype=np.float32)
        self.pcutoff = float(pcutoff)
        self.device = torch.device(device)

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def __call__(self, model: torch.nn.Module) -> dict[str, float]:
        if not self.images:
            return {}
        was_training = model.training
        model.eval()
        spec = model.spec
        # torch, not an ONNX export: the weights change between evaluations.
        predictor = make_predictor(model, device=self.device, precision="fp32", channels_last=False,
                                   backend="torch")
        poses, sums = [], {}
        for image, keypoints in zip(self.images, self.keypoints):
            outputs = predictor.maps(image[None])
            poses.append(decode_poses(outputs, float(model.stride), spec.locref_std,
                                      spec.apply_sigmoid)[0].cpu().numpy())
            kp = torch.from_numpy(keypoints[None]).to(self.device)
            targets = make_targets(kp, tuple(outputs["heatmap"].shape[-2:]), float(model.stride),
                                   spec.pos_dist_thresh, spec.locref_std, spec.heatmap_mode,
                                   spec.gradient_masking)
            for name, value in pose_loss(outputs, targets, spec.heatmap_weight, spec.locref_weight).items():
                sums[name] = sums.get(name, 0.0) + float(value)
        model.train(was_training)
        metrics = evaluate_poses(np.stack(poses), self.keypoints, self.pcutoff)
        out = {f"test.{k}": v for k, v in metrics.items()}
        out.update({f"eval.{k}": v / len(self.images) for k, v in sums.items()})
        out["eval.bodypart_total_loss"] = out["eval.total_loss"]
        return out
