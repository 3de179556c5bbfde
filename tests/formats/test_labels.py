"""Labels files: DeepLabCut's examples round-trip exactly; saving never loses labels."""

import numpy as np
import pandas as pd
import pytest

from posering import labels, storage
from posering.errors import LabelsError

from tests.conftest import SHARED_DATA, needs_shared_data

EXAMPLES = [
    "openfield-Pranav-2018-10-30/labeled-data/m4s1/CollectedData_Pranav",
    "Reaching-Mackenzie-2018-08-30/labeled-data/reachingvideo1/CollectedData_Mackenzie",
]


@needs_shared_data
@pytest.mark.parametrize("base", EXAMPLES)
def test_examples_roundtrip_identically(base, tmp_path):
    original = pd.read_hdf(SHARED_DATA / f"{base}.h5", "df_with_missing")
    table = labels.read_labels(str(SHARED_DATA / f"{base}.h5"))
    from_csv = labels.read_labels(str(SHARED_DATA / f"{base}.csv"))
    pd.testing.assert_frame_equal(table, original)
    pd.testing.assert_frame_equal(from_csv, original)  # same frames, same numbers as DeepLabCut's CSV
    out = tmp_path / "CollectedData_x.h5"
    labels.write_labels(table, str(out))
    pd.testing.assert_frame_equal(pd.read_hdf(out, "df_with_missing"), original)
    pd.testing.assert_frame_equal(labels.read_labels(str(out.with_suffix(".csv"))), original)


@needs_shared_data
def test_reaching_nans_are_kept():
    table = labels.read_labels(str(SHARED_DATA / f"{EXAMPLES[1]}.h5"))
    assert int(table.isna().sum().sum()) == 84


def test_both_row_forms_read(tmp_path):
    paths = ["labeled-data/v/img01.png", "labeled-data/v/img02.png"]
    modern = labels.from_arrays("me", ["a", "b"], paths, np.arange(8.0).reshape(2, 2, 2))
    labels.write_labels(modern, str(tmp_path / "m.h5"))
    legacy = labels.with_index_form(modern, pd.Index(paths))
    labels.write_labels(legacy, str(tmp_path / "l.h5"))
    for name in ("m.h5", "m.csv", "l.h5", "l.csv"):
        table = labels.read_labels(str(tmp_path / name))
        assert labels.image_relpaths(table) == paths
        np.testing.assert_array_equal(labels.points(table), modern.to_numpy().reshape(2, 2, 2))


def test_save_labels_never_loses_existing_points(tmp_path):
    target = str(tmp_path / "CollectedData_me.h5")
    paths = ["labeled-data/v/img1.png", "labeled-data/v/img2.png"]
    first = labels.from_arrays("me", ["a", "b"], paths, [[[1, 1], [2, 2]], [[3, 3], [4, 4]]])
    labels.save_labels(first, target)
    # A second session saves only img2, with b unlabeled (NaN) and a moved: img1 and b stay.
    second = labels.from_arrays("me", ["a", "b"], paths[1:], [[[30, 30], [np.nan, np.nan]]])
    saved = labels.save_labels(second, target)
    pts = labels.points(labels.read_labels(target))
    np.testing.assert_array_equal(pts, [[[1, 1], [2, 2]], [[30, 30], [4, 4]]])
    assert saved.shape == (2, 4)
    # Only an explicit deletion removes a point.
    labels.save_labels(second, target, deleted=[("labeled-data/v/img1.png", "a")])
    pts = labels.points(labels.read_labels(target))
    assert np.isnan(pts[0, 0]).all() and (pts[0, 1] == 2).all()


def test_labels_on_s3(s3):
    target = storage.join(s3, "labeled-data", "v", "CollectedData_me.h5")
    table = labels.from_arrays("me", ["a"], ["labeled-data/v/img1.png"], [[[5.5, 6.5]]])
    labels.write_labels(table, target)
    pd.testing.assert_frame_equal(labels.read_labels(target), table)
    assert storage.exists(target[:-3] + ".csv")


def test_malformed_files_get_clear_errors(tmp_path):
    bad_csv = tmp_path / "CollectedData_me.csv"
    bad_csv.write_text("a,b\n1,2\n")
    with pytest.raises(LabelsError, match="three header rows"):
        labels.read_labels(str(bad_csv))
    not_h5 = tmp_path / "CollectedData_me.h5"
    not_h5.write_bytes(b"garbage" * 10)
    with pytest.raises(LabelsError, match="CollectedData_me.h5: damaged labels file, HDF5 cannot read it .file signature not found"):
        labels.read_labels(str(not_h5))
    flat = pd.DataFrame({"x": [1.0]})
    flat.to_hdf(tmp_path / "flat.h5", key="df_with_missing")
    with pytest.raises(LabelsError, match="MultiIndex"):
        labels.read_labels(str(tmp_path / "flat.h5"))


def test_conform_bodyparts_adds_new_and_refuses_unknown():
    table = labels.from_arrays("me", ["a", "b"], ["labeled-data/v/i.png"], [[[1, 1], [2, 2]]])
    wider = labels.conform_bodyparts(table, ["b", "a", "c"], "here")
    assert labels.bodyparts_of(wider) == ["b", "a", "c"]
    assert np.isnan(labels.points(wider)[0, 2]).all()
    with pytest.raises(LabelsError, match="'b' is labeled here but not in config.yaml"):
        labels.conform_bodyparts(table, ["a"], "here")


def test_points_by_image_matches_names_in_either_row_form():
    table = labels.from_arrays("me", ["a", "b"], ["labeled-data/v/img1.png", "labeled-data/v/img3.png"],
                               [[[1, 2], [3, 4]], [[5, 6], [np.nan, np.nan]]])
    legacy = labels.with_index_form(table, pd.Index(["x"]))  # string rows
    for form in (table, legacy):
        got = labels.points_by_image(form, ["img3.png", "img2.png", "img1.png"], ["b", "new", "a"])
        expected = [[[np.nan, np.nan], [np.nan, np.nan], [5, 6]],
                    [[np.nan, np.nan], [np.nan, np.nan], [np.nan, np.nan]],
                    [[3, 4], [np.nan, np.nan], [1, 2]]]
        np.testing.assert_array_equal(got, expected)
    assert labels.points_by_image(None, ["img1.png"], ["a"]).shape == (1, 1, 2)


def test_file_version_tells_a_save_by_someone_else(tmp_path):
    target = str(tmp_path / "CollectedData_me.h5")
    assert labels.file_version(target) is None
    table = labels.from_arrays("me", ["a"], ["labeled-data/v/img1.png"], [[[1, 1]]])
    labels.save_labels(table, target)
    seen = labels.file_version(target)
    labels.save_labels(table, target)  # the same content saved again still counts as a save
    assert labels.file_version(target) != seen


def test_save_labels_keeps_the_labels_of_a_csv_without_h5(tmp_path):
    target = tmp_path / "CollectedData_me.h5"
    paths = ["labeled-data/v/img1.png", "labeled-data/v/img2.png"]
    labels.write_labels(labels.from_arrays("me", ["a"], paths, [[[1, 1]], [[2, 2]]]), str(target))
    target.unlink()  # only the .csv is left
    labels.save_labels(labels.from_arrays("me", ["a"], paths[1:], [[[5, 5]]]), str(target))
    np.testing.assert_array_equal(labels.points(labels.read_labels(str(target))), [[[1, 1]], [[5, 5]]])


_KILLED_SAVE = """
import os, signal, sys
import pandas as pd
from posering import labels
table = labels.from_arrays("me", ["a"], ["labeled-data/v/img1.png", "labeled-data/v/img2.png"],
                           [[[1.0, 1.0]], [[2.0, float(sys.argv[2])]]])
def killed_midway(self, handle, **options):  # the .csv half written, then the process dies
    handle.write("scorer,me\\n")
    handle.flush()
    os.kill(os.getpid(), signal.SIGKILL)
pd.DataFrame.to_csv = killed_midway
labels.save_labels(table, sys.argv[1])
"""


def test_a_save_killed_midway_leaves_the_h5_true_and_the_next_save_cleans_up(tmp_path):
    import os
    import subprocess
    import sys
    import time

    target = tmp_path / "CollectedData_me.h5"
    first = labels.from_arrays("me", ["a"], ["labeled-data/v/img1.png"], [[[1.0, 1.0]]])
    labels.save_labels(first, str(target))
    killed = subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(target), "20"], capture_output=True)
    assert killed.returncode == -9
    # The .h5 (written first) has the killed save's labels; the .csv twin is the older one.
    assert labels.points(labels.read_labels(str(target)))[1, 0, 1] == 20.0
    assert len(labels.read_labels(str(target.with_suffix(".csv")))) == 1
    (stale,) = [p for p in tmp_path.iterdir() if p.name.startswith(".CollectedData_me.csv.")]
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    # A save in progress in another process (young), and hidden files that are not ours, stay.
    subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(target), "30"], capture_output=True)
    (young,) = [p for p in tmp_path.iterdir() if p.name.startswith(".CollectedData_me.csv.") and p != stale]
    others = [tmp_path / ".CollectedData_me.csv.notes", tmp_path / ".other.csv.0123abcd.tmp"]
    for path in others:
        path.write_text("mine")
        os.utime(path, (hour_ago, hour_ago))

    third = labels.from_arrays("me", ["a"], ["labeled-data/v/img3.png"], [[[3.0, 3.0]]])
    labels.save_labels(third, str(target))
    assert not stale.exists() and young.exists() and all(p.exists() for p in others)
    saved = labels.read_labels(str(target))
    pd.testing.assert_frame_equal(labels.read_labels(str(target.with_suffix(".csv"))), saved)
    np.testing.assert_array_equal(labels.points(saved)[:, 0], [[1, 1], [2, 30], [3, 3]])
