"""Evaluation metrics for single-animal poses, as DeepLabCut 3 reports them.

Arrays: predictions (N, K, 3) x, y, likelihood; labels (N, K, 2) x, y with NaN = not labeled.

* ``rmse``: despite the name (kept from DeepLabCut), the *mean Euclidean distance* in pixels
  between prediction and label over every labeled keypoint of every image;
* ``rmse_pcutoff``: the same over keypoints predicted with likelihood >= pcutoff (NaN if none);
* ``mAP`` / ``mAR`` (percent): COCO-style average precision and recall of the object keypoint
  similarity (OKS) over thresholds 0.50, 0.55, ..., 0.95, with 101 recall points.

OKS choices, those of DeepLabCut 3 (its evaluation of the fixture's model is reproduced to the
digit): one sigma for every keypoint, 0.1; the object's area is the area of the bounding box of
its labeled keypoints (no margin); a keypoint contributes exp(-d^2 / (2 * area * (2 sigma)^2));
OKS is the mean over labeled keypoints; an image needs at least two labeled keypoints to count
as an object. A prediction's score is its mean likelihood; predictions are ranked by it.
"""

from __future__ import annotations

import warnings

import numpy as np

OKS_SIGMA = 0.1
OKS_MARGIN = 0.0
OKS_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def pixel_errors(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(N, K) Euclidean distances, NaN where the keypoint is not labeled."""
    return np.linalg.norm(predictions[..., :2] - labels[..., :2], axis=-1)


def mean_errors(errors: np.ndarray, scores: np.ndarray, pcutoff: float) -> tuple[float, float]:
    """(mean error of all labeled keypoints, mean error of those with score >= pcutoff)."""
    valid = np.isfinite(errors)
    confident = valid & (scores >= pcutoff)
    rmse = float(errors[valid].mean()) if valid.any() else float("nan")
    rmse_p = float(errors[confident].mean()) if confident.any() else float("nan")
    return rmse, rmse_p


def object_keypoint_similarity(prediction: np.ndarray, label: np.ndarray,
                               sigma: float = OKS_SIGMA, margin: float = OKS_MARGIN) -> float:
    """OKS of one predicted pose (K, >=2) against one labeled pose (K, 2); NaN if unscorable."""
    visible = np.isfinite(label).all(axis=1)
    if visible.sum() < 2:
        return float("nan")
    truth = label[visible]
    area = np.prod(np.ptp(truth, axis=0) + np.spacing(1) + 2 * margin)
    if np.isclose(area, 0):
        return float("nan")
    guess = prediction[visible, :2].astype(float)
    guess[~np.isfinite(guess)] = np.inf  # a missing prediction scores 0 for that keypoint
    distance_sq = ((guess - truth) ** 2).sum(axis=1)
    return float(np.mean(np.exp(-distance_sq / (2 * area * (2 * sigma) ** 2))))


def average_precision(predictions: np.ndarray, labels: np.ndarray, sigma: float = OKS_SIGMA,
                      margin: float = OKS_MARGIN) -> tuple[float, float]:
    """(mAP, mAR) in percent over the images given (one animal and one prediction each)."""
    oks, scores, objects = [], [], 0
    for prediction, label in zip(predictions, labels):
        if np.isfinite(label).all(axis=1).sum() > 1:
            objects += 1
            value = object_keypoint_similarity(prediction, label, sigma, margin)
        else:
            value = float("nan")  # nothing to match: the prediction is a false positive
        if np.isfinite(prediction[:, :2]).all(axis=1).sum() > 1:
            oks.append(0.0 if np.isnan(value) else value)
            scores.append(np.nanmean(prediction[:, 2]))
    if not oks or objects == 0:
        return 0.0, 0.0
    order = np.argsort(-np.asarray(scores), kind="mergesort")
    oks = np.asarray(oks)[order]
    precisions, recalls = [], []
    for threshold in OKS_THRESHOLDS:
        hit = oks >= threshold
        tp, fp = np.cumsum(hit), np.cumsum(~hit)
        recall = tp / objects
        precision = tp / (tp + fp + np.spacing(1))
        precision = np.maximum.accumulate(precision[::-1])[::-1]  # make it non-increasing
        at = np.searchsorted(recall, RECALL_POINTS, side="left")
        sampled = np.zeros(len(RECALL_POINTS))
        inside = at < len(precision)
        sampled[inside] = precision[at[inside]]
        precisions.append(sampled)
        recalls.append(recall[-1])
    return 100 * float(np.mean(precisions)), 100 * float(np.mean(recalls))


def evaluate_poses(predictions: np.ndarray, labels: np.ndarray, pcutoff: float) -> dict[str, float]:
    """{"rmse", "rmse_pcutoff", "mAP", "mAR"} for one set of images (e.g. the test frames)."""
    errors = pixel_errors(predictions, labels)
    rmse, rmse_p = mean_errors(errors, predictions[..., 2], pcutoff)
    mean_ap, mean_ar = average_precision(predictions, labels)
    return {"rmse": rmse, "rmse_pcutoff": rmse_p, "mAP": mean_ap, "mAR": mean_ar}


def bodypart_errors(predictions: np.ndarray, labels: np.ndarray, pcutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-bodypart mean errors (K,): all labeled points, and those with score >= pcutoff."""
    errors = pixel_errors(predictions, labels)
    confident = np.where(predictions[..., 2] >= pcutoff, errors, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column gives NaN, as intended
        return np.nanmean(errors, axis=0), np.nanmean(confident, axis=0)
