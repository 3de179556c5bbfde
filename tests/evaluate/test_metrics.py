"""Evaluation metrics against numbers worked out by hand."""

import math

import numpy as np
import pytest

from posering.evaluate.metrics import (average_precision, bodypart_errors, evaluate_poses,
                                       object_keypoint_similarity)

NAN = np.nan


def test_mean_euclidean_error_and_pcutoff_by_hand():
    labels = np.array([[[0, 0], [10, 10]],
                       [[5, 5], [NAN, NAN]]], dtype=float)
    predictions = np.array([[[3, 4, 0.9], [10, 10, 0.2]],      # errors 5 (confident), 0 (not)
                            [[5, 15, 0.8], [50, 50, 0.99]]])   # error 10; unlabeled point ignored
    result = evaluate_poses(predictions, labels, pcutoff=0.5)
    assert result["rmse"] == pytest.approx((5 + 0 + 10) / 3)
    assert result["rmse_pcutoff"] == pytest.approx((5 + 10) / 2)
    all_points, confident = bodypart_errors(predictions, labels, 0.5)
    np.testing.assert_allclose(all_points, [7.5, 0.0])
    np.testing.assert_allclose(confident, [7.5, NAN])
    # Nothing above the cutoff: NaN, as DeepLabCut writes an empty cell.
    assert math.isnan(evaluate_poses(predictions, labels, pcutoff=0.999)["rmse_pcutoff"])


def test_oks_by_hand():
    label = np.array([[0, 0], [10, 10]], dtype=float)          # box 10 x 10: area 100
    prediction = np.array([[0, 2, 1.0], [10, 10, 1.0]])         # 2 px off on one keypoint
    expected = (math.exp(-4 / (2 * 100 * (2 * 0.1) ** 2)) + 1) / 2  # = (e^-0.5 + 1) / 2 = 0.803
    assert object_keypoint_similarity(prediction, label) == pytest.approx(expected, rel=1e-6)
    # OKS 0.803 passes the thresholds 0.50 ... 0.80 (7 of 10): precision and recall 1 there, 0 above.
    assert average_precision(prediction[None], label[None]) == pytest.approx((70.0, 70.0))
    exact = np.concatenate([label, np.ones((2, 1))], axis=1)
    assert average_precision(exact[None], label[None]) == pytest.approx((100.0, 100.0))
    # One labeled keypoint is not an object: the prediction counts as a false positive only.
    assert math.isnan(object_keypoint_similarity(prediction, np.array([[0, 0], [NAN, NAN]])))


def test_ranking_by_confidence_sets_precision():
    labels = np.array([[[0, 0], [10, 10]]] * 2, dtype=float)
    good = np.array([[0, 0, 0.9], [10, 10, 0.9]])
    bad = np.array([[90, 90, 0.1], [99, 99, 0.1]])
    # The confident prediction is right: precision 1 up to recall 0.5, then nothing -> AP 0.5.
    mean_ap, mean_ar = average_precision(np.stack([good, bad]), labels)
    assert mean_ap == pytest.approx(100 * 51 / 101) and mean_ar == pytest.approx(50.0)
    # The confident one is wrong: precision 1/2 when the right one is reached -> AP ~0.25.
    swapped = np.stack([good * [1, 1, 0.1], bad * [1, 1, 9]])
    mean_ap, mean_ar = average_precision(swapped, labels)
    assert mean_ap == pytest.approx(100 * 0.5 * 51 / 101) and mean_ar == pytest.approx(50.0)
