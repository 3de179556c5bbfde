import numpy as np
import pytest

from posering.errors import PoseringError
from posering.post.outliers import (
    deviant_rows,
    find_outlier_candidates,
    frame_range,
    select_frames,
)

from .conftest import smooth_table

SC = "DLC_test_scorer"


def test_uncertain_finds_low_likelihood_frames_exactly():
    df, _, _ = smooth_table(100, 2)
    df.loc[[7, 40], (SC, "snout", "likelihood")] = 0.001
    df.loc[[40, 63], (SC, "leftear", "likelihood")] = 0.005
    got = find_outlier_candidates(df, "uncertain", p_bound=0.01)
    np.testing.assert_array_equal(got, [7, 40, 63])
    got = find_outlier_candidates(df, "uncertain", comparisonbodyparts=["leftear"], p_bound=0.01)
    np.testing.assert_array_equal(got, [40, 63])


def test_jump_finds_injected_jumps_exactly():
    df, _, _ = smooth_table(100, 2)  # moves < 1.5 px per frame
    df.loc[30, (SC, "snout", "x")] += 50  # jumps away at 30 and back at 31
    df.loc[70:, (SC, "leftear", "y")] -= 25  # one step at 70, stays there
    got = find_outlier_candidates(df, "jump", epsilon=20)
    np.testing.assert_array_equal(got, [30, 31, 70])
    assert len(find_outlier_candidates(df, "jump", epsilon=60)) == 0


def test_start_stop_fractions_are_honoured():
    df, _, _ = smooth_table(100, 1)
    df.loc[[5, 50, 95], (SC, "snout", "likelihood")] = 0.0
    assert frame_range(100, 0.1, 0.9) == (10, 90)
    np.testing.assert_array_equal(find_outlier_candidates(df, "uncertain", start=0.1, stop=0.9), [50])
    np.testing.assert_array_equal(find_outlier_candidates(df, "uncertain", start=0.0, stop=0.95), [5, 50])
    # a jump into the range's first frame has no previous frame inside the range
    df.loc[50, (SC, "snout", "x")] += 100
    np.testing.assert_array_equal(find_outlier_candidates(df, "jump", start=0.5), [51])
    with pytest.raises(PoseringError, match="start=0.9, stop=0.5"):
        find_outlier_candidates(df, "jump", start=0.9, stop=0.5)


def test_fitting_finds_injected_deviation():
    df, _, _ = smooth_table(200, 1, noise=0.5)
    df.loc[120, (SC, "snout", "x")] += 80
    df.loc[120, (SC, "snout", "y")] -= 80
    # the spike, and the few frames after it where the model still carries it; not frame 0,
    # whose only "prediction" is the model's prior
    got = find_outlier_candidates(df, "fitting", epsilon=20, numframes2pick=0)
    assert got[0] == 120 and got[-1] <= 125


def test_fitting_selection_heuristic():
    d = np.array([np.nan, 1, 30, 2, 25, 3, 4, 5, np.nan, 6, 7, 8])
    np.testing.assert_array_equal(deviant_rows(d, 20, 1), [2, 4])  # enough above epsilon
    # too few above epsilon: the 2 * numframes2pick largest finite d, NaN never ranked first
    np.testing.assert_array_equal(deviant_rows(d, 20, 3), [2, 4, 7, 9, 10, 11])
    np.testing.assert_array_equal(deviant_rows(d, 20, 6), np.flatnonzero(d > 20))  # too short


def test_fitting_frame_numbers_with_start(ray_session):
    df, _, _ = smooth_table(200, 1, noise=0.5)
    df.loc[150, (SC, "snout", "x")] += 80
    got = find_outlier_candidates(df, "fitting", epsilon=20, start=0.5, numframes2pick=0, parallel="ray")
    assert 150 in got  # a frame number, not a position inside the range


def test_list_and_unknown_algorithm():
    df, _, _ = smooth_table(50, 1)
    np.testing.assert_array_equal(find_outlier_candidates(df, "list", frames2use=[9, 3, 9]), [3, 9])
    with pytest.raises(PoseringError, match="frame 70 is not in the pose table"):
        find_outlier_candidates(df, "list", frames2use=[3, 70])
    with pytest.raises(PoseringError, match="outlieralgorithm='manual' is not known"):
        find_outlier_candidates(df, "manual")


def test_select_uniform_is_seeded_and_without_replacement():
    candidates = np.arange(100, 200)
    a = select_frames(candidates, 10, "uniform", seed=3)
    assert len(np.unique(a)) == 10 and np.isin(a, candidates).all()
    np.testing.assert_array_equal(a, select_frames(candidates, 10, "uniform", seed=3))
    np.testing.assert_array_equal(select_frames([5, 1], 10), [1, 5])


def test_select_kmeans_one_frame_per_cluster():
    rng = np.random.default_rng(0)
    candidates = np.arange(60)
    centres = np.array([[0.0] * 8, [100.0] * 8, [-100.0] * 8])
    group = candidates % 3
    features = centres[group] + rng.normal(0, 1, (60, 8))
    picks = select_frames(candidates, 3, "kmeans", frame_features=features, seed=1)
    assert sorted(group[picks]) == [0, 1, 2]
    with pytest.raises(PoseringError, match="one feature row per candidate"):
        select_frames(candidates, 3, "kmeans", frame_features=features[:10])


def test_real_file_candidates(dlc_poses):
    # DeepLabCut's weak model: every likelihood is below 0.11
    assert len(find_outlier_candidates(dlc_poses, "uncertain", p_bound=0.2)) == 600
    jumps = find_outlier_candidates(dlc_poses, "jump", epsilon=20, comparisonbodyparts=["snout"])
    assert 0 < len(jumps) < 600 and jumps.min() >= 1
