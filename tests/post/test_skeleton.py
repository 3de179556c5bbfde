import numpy as np
import pandas as pd
import pytest

from posering.post.pose_table import PosesError, from_arrays
from posering.post.skeleton import skeleton_features


def _two_points(head, tail, p_head=0.9, p_tail=0.5):
    """A pose table whose frame i has 'a' at head[i] and 'b' at tail[i]."""
    head, tail = np.asarray(head, float), np.asarray(tail, float)
    x = np.column_stack([head[:, 0], tail[:, 0]])
    y = np.column_stack([head[:, 1], tail[:, 1]])
    p = np.column_stack([np.full(len(head), p_head), np.full(len(head), p_tail)])
    return from_arrays(x, y, p, "scorer", ["a", "b"])


def test_lengths_and_angles_in_image_coordinates():
    a = [(10, 10)] * 5
    # b to the right, below (y grows down), left, above, and down-right of a
    b = [(13, 10), (10, 14), (5, 10), (10, 7), (11, 11)]
    out = skeleton_features(_two_points(a, b), [["a", "b"]])
    bone = out["a_b"]
    np.testing.assert_allclose(bone["length"], [3, 4, 5, 3, np.sqrt(2)])
    # DeepLabCut's angle: degrees(arctan2(dy, dx)) in [0, 360). arctan2's -90 (b above a on
    # screen) is reported as 270.
    np.testing.assert_allclose(bone["orientation"], [0, 90, 180, 270, 45])
    np.testing.assert_allclose(bone["likelihood"], 0.5)


def test_layout_matches_deeplabcut_skeleton_file():
    df = _two_points([(0, 0)] * 3, [(1, 1)] * 3)
    df.index = pd.RangeIndex(3)
    out = skeleton_features(df, [["a", "b"], ["b", "a"]])
    assert out.columns.nlevels == 2
    assert list(out.columns.names) == [None, None]
    assert list(out.columns) == [
        ("a_b", "length"), ("a_b", "orientation"), ("a_b", "likelihood"),
        ("b_a", "length"), ("b_a", "orientation"), ("b_a", "likelihood"),
    ]
    assert out.index.equals(df.index)
    np.testing.assert_allclose(out["b_a"]["orientation"], 225)


def test_nan_end_gives_nan_bone():
    df = _two_points([(0, 0), (np.nan, 0)], [(3, 4), (3, 4)])
    out = skeleton_features(df, [["a", "b"]])["a_b"]
    assert out["length"].iloc[0] == 5 and np.isnan(out["length"].iloc[1])
    assert np.isnan(out["orientation"].iloc[1])


def test_unknown_bodypart_in_bone():
    df = _two_points([(0, 0)], [(1, 1)])
    with pytest.raises(PosesError, match="unknown bodypart 'c'; known: a, b"):
        skeleton_features(df, [["a", "c"]])
    with pytest.raises(PosesError, match="no bones given"):
        skeleton_features(df, [])


def test_real_file_skeleton(dlc_poses, tmp_path):
    out = skeleton_features(dlc_poses, [["snout", "tailbase"], ["leftear", "rightear"]])
    assert out.shape == (600, 6)
    assert out.index.equals(dlc_poses.index)
    sc = "DLC_Resnet50_openfieldOct30shuffle1_snapshot_best-10"
    dx = dlc_poses[sc]["tailbase"]["x"].to_numpy(float) - dlc_poses[sc]["snout"]["x"].to_numpy(float)
    dy = dlc_poses[sc]["tailbase"]["y"].to_numpy(float) - dlc_poses[sc]["snout"]["y"].to_numpy(float)
    np.testing.assert_allclose(out["snout_tailbase"]["length"], np.hypot(dx, dy))
    assert ((out.xs("orientation", axis=1, level=1) >= 0) & (out.xs("orientation", axis=1, level=1) < 360)).all().all()
    lk = np.minimum(dlc_poses[sc]["leftear"]["likelihood"], dlc_poses[sc]["rightear"]["likelihood"])
    np.testing.assert_array_equal(out["leftear_rightear"]["likelihood"].to_numpy(), lk.to_numpy())
    # it is written the way DeepLabCut writes its _skeleton.h5, and reads back the same
    path = tmp_path / "vidDLC_skeleton.h5"
    out.to_hdf(path, key="df_with_missing", format="table", mode="w")
    pd.testing.assert_frame_equal(pd.read_hdf(path, "df_with_missing"), out)
