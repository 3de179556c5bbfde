import numpy as np
import pandas as pd
import pytest

from posering.errors import PoseringError
from posering.post.pose_table import (
    PosesError,
    from_arrays,
    get_bodyparts,
    get_scorer,
    resolve_bodyparts,
    select_bodyparts,
    to_arrays,
    validate_poses,
)

from .conftest import smooth_table


def test_real_file_is_canonical(dlc_poses):
    assert validate_poses(dlc_poses) is dlc_poses
    assert get_scorer(dlc_poses) == "DLC_Resnet50_openfieldOct30shuffle1_snapshot_best-10"
    assert get_bodyparts(dlc_poses) == ["snout", "leftear", "rightear", "tailbase"]
    x, y, p = to_arrays(dlc_poses)
    assert x.shape == (600, 4) and x.dtype == np.float64
    np.testing.assert_array_equal(p[:, 1], dlc_poses.iloc[:, 5].to_numpy(np.float64))


def test_real_csv_reads_the_same(dlc_analysis_file, dlc_poses):
    csv = pd.read_csv(dlc_analysis_file.with_suffix(".csv"), header=[0, 1, 2], index_col=0)
    df = validate_poses(csv, source=str(dlc_analysis_file.with_suffix(".csv")))
    np.testing.assert_allclose(df.to_numpy(), dlc_poses.to_numpy(), rtol=1e-6)


def test_roundtrip_arrays():
    df, _, _ = smooth_table(20, 3)
    x, y, p = to_arrays(df)
    back = from_arrays(x, y, p, get_scorer(df), get_bodyparts(df), index=df.index, dtype=np.float32)
    pd.testing.assert_frame_equal(back, df)


def test_single_individual_level_is_dropped():
    df, _, _ = smooth_table(10, 2)
    cols = [(s, "mouse1", bp, c) for s, bp, c in df.columns]
    four = pd.DataFrame(df.to_numpy(), columns=pd.MultiIndex.from_tuples(cols, names=["scorer", "individuals", "bodyparts", "coords"]))
    pd.testing.assert_frame_equal(validate_poses(four), df.astype(np.float32))


def test_multi_individual_refused_by_name():
    df, _, _ = smooth_table(10, 1)
    cols = [(s, ind, bp, c) for ind in ("mouse1", "mouse2") for s, bp, c in df.columns]
    four = pd.DataFrame(np.zeros((10, 6)), columns=pd.MultiIndex.from_tuples(cols, names=["scorer", "individuals", "bodyparts", "coords"]))
    with pytest.raises(PosesError, match="2 individuals.*mouse1, mouse2"):
        validate_poses(four, source="vid.h5")


def test_labels_table_refused():
    cols = pd.MultiIndex.from_product([["Pranav"], ["snout"], ["x", "y"]], names=["scorer", "bodyparts", "coords"])
    with pytest.raises(PosesError, match="'snout' has coords \\['x', 'y'\\]"):
        validate_poses(pd.DataFrame(np.zeros((3, 2)), columns=cols))


def test_flat_columns_refused():
    with pytest.raises(PoseringError, match="3-level MultiIndex"):
        validate_poses(pd.DataFrame({"x": [1.0]}), source="bad.h5")


def test_coords_reordered_and_names_set():
    df, _, _ = smooth_table(5, 2)
    shuffled = df.iloc[:, [2, 0, 1, 5, 4, 3]]
    shuffled.columns = shuffled.columns.set_names([None, None, None])
    pd.testing.assert_frame_equal(validate_poses(shuffled), df)


def test_unknown_bodypart_names_it_and_lists_known():
    df, _, _ = smooth_table(5, 2)
    with pytest.raises(PosesError, match="unknown bodypart 'tail'; known bodyparts: snout, leftear"):
        resolve_bodyparts(df, ["snout", "tail"])
    assert resolve_bodyparts(df, ["leftear", "snout"]) == ["snout", "leftear"]
    assert resolve_bodyparts(df, "leftear") == ["leftear"]
    assert get_bodyparts(select_bodyparts(df, ["leftear"])) == ["leftear"]
