"""A damaged CollectedData .h5: one line that names the file and the way back (convertcsv2h5),
and convertcsv2h5 rebuilding it from the CSV twin without losing a label."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from posering import labels
from posering.errors import LabelsError, PoseringError
from posering.formats.poses import read_poses_file
from posering.labeling.convertcsv2h5 import convertcsv2h5

FOLDER = "labeled-data/m4s1"


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _posering(*args):
    return subprocess.run([sys.executable, "-m", "posering.cli", *map(str, args)],
                          capture_output=True, text=True)


def test_a_truncated_labels_file_is_one_line_naming_the_file_and_convertcsv2h5(openfield_project):
    h5 = openfield_project.parent / FOLDER / "CollectedData_Pranav.h5"
    _truncate(h5)
    with pytest.raises(LabelsError) as caught:
        labels.read_labels(str(h5))
    message = str(caught.value)
    assert "\n" not in message and "back trace" not in message
    assert message.startswith(f"{h5}: damaged labels file") and "truncated file" in message
    assert "posering convertcsv2h5" in message and "CollectedData_Pranav.csv" in message

    result = _posering("check_labels", openfield_project)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: ") and "convertcsv2h5" in errors[0]


def test_without_a_csv_twin_the_advice_is_a_backup(tmp_path):
    table = labels.from_arrays("me", ["a"], ["labeled-data/v/img1.png"], [[[1.0, 2.0]]])
    h5 = tmp_path / "CollectedData_me.h5"
    labels.write_labels(table, str(h5), csv=False)
    _truncate(h5)
    with pytest.raises(LabelsError, match="restore it from a backup"):
        labels.read_labels(str(h5))


def test_convertcsv2h5_rebuilds_a_damaged_h5_and_keeps_the_damaged_one(openfield_project):
    folder = openfield_project.parent / FOLDER
    h5, csv = folder / "CollectedData_Pranav.h5", folder / "CollectedData_Pranav.csv"
    original = pd.read_hdf(h5, "df_with_missing")
    _truncate(h5)
    damaged_bytes = h5.read_bytes()

    result = _posering("convertcsv2h5", openfield_project)
    assert result.returncode == 0, result.stderr
    pd.testing.assert_frame_equal(labels.read_labels(str(h5)), original)
    pd.testing.assert_frame_equal(labels.read_labels(str(csv)), original)
    assert (folder / "CollectedData_Pranav.h5.damaged").read_bytes() == damaged_bytes
    assert _posering("check_labels", openfield_project).returncode == 0


def test_convertcsv2h5_takes_the_csv_edits_and_keeps_points_only_the_h5_holds(openfield_project):
    folder = openfield_project.parent / FOLDER
    h5, csv = folder / "CollectedData_Pranav.h5", folder / "CollectedData_Pranav.csv"
    table = labels.read_labels(str(h5))
    edited = table.copy()
    edited.iloc[0, 0] = 123.5  # corrected in a spreadsheet
    edited.iloc[1, :] = np.nan  # a row the spreadsheet lost: the .h5's points stay
    labels.write_csv(edited, str(csv))

    results = convertcsv2h5(str(openfield_project), scorer="Pranav")
    assert results["m4s1"]["damaged_copy"] is None
    saved = labels.read_labels(str(h5))
    assert saved.iloc[0, 0] == 123.5
    pd.testing.assert_series_equal(saved.iloc[1], table.iloc[1])
    pd.testing.assert_frame_equal(labels.read_labels(str(csv)), saved)  # the twins agree again


def test_a_truncated_analysis_file_is_one_line(tmp_path):
    from posering.formats.tables import write_h5

    frame = pd.DataFrame(np.zeros((3, 3)), columns=pd.MultiIndex.from_product(
        [["s"], ["a"], ["x", "y", "likelihood"]], names=["scorer", "bodyparts", "coords"]))
    path = tmp_path / "videoDLC_resnet50_sJan1shuffle1_5.h5"
    write_h5(frame, str(path))
    _truncate(path)
    with pytest.raises(PoseringError) as caught:
        read_poses_file(str(path))
    assert "\n" not in str(caught.value) and "analyze the video again" in str(caught.value)
