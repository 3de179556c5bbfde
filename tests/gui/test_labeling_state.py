"""Labeling sessions on the real openfield project: what is saved is exactly what was labeled,
and no sequence of actions loses a label (the state alone; the window tests repeat the scenarios
through the real window)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.PerformanceWarning")

from posering import labels
from posering.gui.state.labeling import AUTOSAVE_EVERY_S, MINE, THEIRS, LabelingSession, labeled_folders
from posering.project import ProjectConfig

H5 = "labeled-data/m4s1/CollectedData_Pranav.h5"
ROW = ("labeled-data/m4s1/img{:04d}.png")


def h5(project) -> pd.DataFrame:
    return labels.read_labels(str(project.parent / H5))


def test_opening_shows_exactly_the_file_and_an_idle_save_writes_nothing(openfield_project):
    # napari-deeplabcut 161: opening config.yaml, then the folder, must not erase the labels.
    before = h5(openfield_project)
    stamp = os.stat(openfield_project.parent / H5).st_mtime_ns
    session = LabelingSession(str(openfield_project), "m4s1")
    assert session.nframes == 116 and session.bodyparts == ["snout", "leftear", "rightear", "tailbase"]
    np.testing.assert_array_equal(session.points, labels.points(before))
    result = session.save()
    assert not result.written and result.error is None and not session.dirty
    assert os.stat(openfield_project.parent / H5).st_mtime_ns == stamp
    pd.testing.assert_frame_equal(h5(openfield_project), before)
    assert labeled_folders(ProjectConfig.load(str(openfield_project))) == ["m4s1"]


def test_labels_saved_are_exactly_the_ones_placed(openfield_project):
    before = h5(openfield_project)
    s = LabelingSession(str(openfield_project), "m4s1")
    s.goto(3)
    s.select(1)
    s.place(101.25, 202.5)
    s.goto(10)
    s.remove(0)
    s.select(3)
    s.place(33.0, 44.0)
    result = s.save()
    assert result.written and result.error is None and not s.dirty and "saved" in s.status()
    expected = before.copy()
    expected.loc[ROW.format(3), ("Pranav", "leftear", "x")] = 101.25
    expected.loc[ROW.format(3), ("Pranav", "leftear", "y")] = 202.5
    expected.loc[ROW.format(10), ("Pranav", "snout", "x")] = np.nan
    expected.loc[ROW.format(10), ("Pranav", "snout", "y")] = np.nan
    expected.loc[ROW.format(10), ("Pranav", "tailbase", "x")] = 33.0
    expected.loc[ROW.format(10), ("Pranav", "tailbase", "y")] = 44.0
    pd.testing.assert_frame_equal(h5(openfield_project), expected)
    csv = labels.read_labels(str(openfield_project.parent / H5.replace(".h5", ".csv")))
    np.testing.assert_array_equal(labels.points(csv), labels.points(expected))


def test_a_deleted_label_stays_deleted(openfield_project):
    # napari-deeplabcut 221: a deleted label came back after saving.
    s = LabelingSession(str(openfield_project), "m4s1")
    s.goto(5)
    s.remove(2)
    s.save()
    assert s.point(2) is None  # not back in the view
    assert np.isnan(h5(openfield_project).loc[ROW.format(5), ("Pranav", "rightear")]).all()
    again = LabelingSession(str(openfield_project), "m4s1")
    assert again.point(2, frame=5) is None  # not back on reopening
    assert (again.frame, again.bodypart) == (5, 2)  # resumed where the user was
    again.select(0)
    again.place(1.0, 2.0)  # place something else, save: the deleted one stays deleted
    again.save()
    assert np.isnan(h5(openfield_project).loc[ROW.format(5), ("Pranav", "rightear")]).all()


def test_a_new_bodypart_appears_unplaced_and_removed_ones_stay_in_the_file(openfield_project):
    before = h5(openfield_project)
    config = ProjectConfig.load(str(openfield_project))
    config["bodyparts"] = ["snout", "leftear", "tailtip", "tailbase"]  # rightear removed, tailtip new
    config.save()
    s = LabelingSession(str(openfield_project), "m4s1")
    assert s.new_bodyparts == ["tailtip"] and s.kept_bodyparts == ["rightear"]
    assert np.isnan(s.points[:, 2]).all() and not np.isnan(s.points[:, [0, 1, 3]]).any()
    s.only_new_bodyparts(True)
    assert s.bodypart == 2
    s.place(300.0, 200.0)
    s.next_incomplete()  # only the new bodypart counts now
    assert s.frame == 1 and s.bodypart == 2
    s.place(301.0, 201.0)
    s.save()
    saved = h5(openfield_project)
    assert list(dict.fromkeys(saved.columns.get_level_values(1))) == ["snout", "leftear", "rightear",
                                                                      "tailbase", "tailtip"]
    pd.testing.assert_frame_equal(saved[before.columns], before)  # rightear kept, nothing else moved
    assert saved.loc[ROW.format(0), ("Pranav", "tailtip", "x")] == 300.0
    assert saved[("Pranav", "tailtip", "x")].notna().sum() == 2


def test_two_windows_merge_or_ask(openfield_project):
    a = LabelingSession(str(openfield_project), "m4s1")
    b = LabelingSession(str(openfield_project), "m4s1")
    a.goto(1)
    a.select(0)
    a.place(11.0, 11.0)
    b.goto(2)
    b.select(0)
    b.place(22.0, 22.0)
    assert a.save().written
    assert b.save().written  # no conflict: both changes end up in the file
    saved = h5(openfield_project)
    assert tuple(saved.loc[ROW.format(1), ("Pranav", "snout")]) == (11.0, 11.0)
    assert tuple(saved.loc[ROW.format(2), ("Pranav", "snout")]) == (22.0, 22.0)
    assert b.point(0, frame=1) == (11.0, 11.0)  # b now shows a's change
    a.save()
    assert a.point(0, frame=2) == (22.0, 22.0)  # and a shows b's
    # Both change the same point: the second save writes nothing and asks.
    a.goto(7)
    a.select(3)
    a.place(70.0, 70.0)
    b.goto(7)
    b.select(3)
    b.place(77.0, 77.0)
    a.save()
    result = b.save()
    assert result.conflicts == [(7, 3)] and not result.written
    assert tuple(h5(openfield_project).loc[ROW.format(7), ("Pranav", "tailbase")]) == (70.0, 70.0)
    assert "choose whose" in b.status() and b.autosave_job(frame_changed=True) is None
    assert b.save(resolve=THEIRS).error is None
    assert b.point(3, frame=7) == (70.0, 70.0) and not b.dirty
    b.place(78.0, 78.0)  # b changes its mind, a has not seen it: b's save is plain
    b.save()
    a.goto(7)
    a.remove(3)  # a deletes the point b just moved: a conflict again
    assert a.save().conflicts == [(7, 3)]
    assert a.save(resolve=MINE).written
    assert np.isnan(h5(openfield_project).loc[ROW.format(7), ("Pranav", "tailbase")]).all()


def test_machine_labels_beside_do_not_change_what_is_saved(openfield_project):
    # napari-deeplabcut 227: saving with machine labels present wiped the human labels.
    before = h5(openfield_project)
    machine = before.iloc[:5].copy() + 3.0
    machine.columns = machine.columns.set_levels(["DLC_resnet50"], level=0)
    machine_file = openfield_project.parent / "labeled-data/m4s1/machinelabels-iter0.h5"
    labels.write_labels(machine, str(machine_file), csv=False)
    s = LabelingSession(str(openfield_project), "m4s1")
    np.testing.assert_array_equal(s.points, labels.points(before))  # the human labels are shown
    s.goto(4)
    s.remove(0)
    s.save()
    saved = h5(openfield_project)
    kept = saved.drop(index=ROW.format(4))
    pd.testing.assert_frame_equal(kept, before.drop(index=ROW.format(4)))
    pd.testing.assert_frame_equal(labels.read_labels(str(machine_file)), machine)


def test_a_failed_save_is_not_reported_as_saved(openfield_project):
    # DeepLabCut 2259: "saved" but nothing written. Here the .csv twin cannot be replaced.
    csv = openfield_project.parent / H5.replace(".h5", ".csv")
    csv.unlink()
    csv.mkdir()
    s = LabelingSession(str(openfield_project), "m4s1")
    s.goto(2)
    s.remove(1)
    result = s.save()
    assert result.error and not result.written
    assert s.dirty and s.status().startswith("not saved")
    csv.rmdir()  # fixed: the next save goes through and says so
    assert s.save().error is None and not s.dirty
    assert np.isnan(h5(openfield_project).loc[ROW.format(2), ("Pranav", "leftear")]).all()


def test_autosave_policy_and_resume(openfield_project, monkeypatch):
    s = LabelingSession(str(openfield_project), "m4s1")
    assert s.autosave_job(frame_changed=True) is None  # nothing to save
    s.goto(9)
    s.select(2)
    s.place(5.0, 6.0)
    assert s.autosave_job(frame_changed=False) is None  # same image, not yet 30 s
    job = s.autosave_job(frame_changed=True)
    assert job is not None and s.saving
    s.finish_save(job, job.run())
    later = time.monotonic() + AUTOSAVE_EVERY_S + 1
    job = s.autosave_job(now=later)  # every 30 s even without changes (takes in others' saves)
    assert job is not None
    s.finish_save(job, job.run())
    s.select(1)
    s.remember_position()
    state = yaml.safe_load((openfield_project.parent / "labeled-data/m4s1/.posering-labeling.yaml").read_text())
    assert state["image"] == "img0009.png" and state["bodypart"] == "leftear"
    again = LabelingSession(str(openfield_project), "m4s1")
    assert (again.frame, again.bodypart) == (9, 1)


KILLED_SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    from posering.gui.state.labeling import SaveJob
    location, rounds = sys.argv[1], int(sys.argv[2])
    n, k = 3000, 20
    paths = [f"labeled-data/v/img{i:05d}.png" for i in range(n)]
    bodyparts = [f"bp{j}" for j in range(k)]
    baseline, version = np.full((n, k, 2), np.nan), None
    for value in range(1, rounds + 1):
        points = np.full((n, k, 2), float(value))
        job = SaveJob(location, "me", paths, bodyparts, points, baseline, version)
        result = job.run()
        assert result.error is None, result.error
        baseline, version = result.disk, result.version
        print(value, flush=True)
""")


def test_sigkill_during_a_save_leaves_the_old_or_the_new_file(tmp_path):
    """The client's save path, killed at random moments: the file is always whole."""
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    rng = np.random.default_rng(0)
    kills = 0
    for attempt in range(4):
        # A file of its own per attempt: on the last attempt's file, the first save's three-way
        # merge rightly keeps the values on disk, which are neither this attempt's old nor new.
        (tmp_path / f"attempt{attempt}").mkdir()
        location = tmp_path / f"attempt{attempt}" / "CollectedData_me.h5"
        process = subprocess.Popen([sys.executable, "-c", KILLED_SAVER, str(location), "50"], env=env,
                                   stdout=subprocess.PIPE, text=True)
        done = int(process.stdout.readline() or 0)  # one full save landed; now kill in mid-air
        time.sleep(float(rng.uniform(0.05, 0.6)))
        process.send_signal(signal.SIGKILL)
        rest = process.stdout.read().split()
        process.wait()
        last = int(rest[-1]) if rest else done
        kills += process.returncode == -signal.SIGKILL
        table = labels.read_labels(str(location))  # readable
        values = np.unique(labels.points(table))
        assert len(values) == 1 and values[0] in (last, last + 1), values  # old or new, whole
        csv = labels.read_labels(str(location).replace(".h5", ".csv"))
        assert len(np.unique(labels.points(csv))) == 1
    assert kills >= 3


def test_labeling_a_project_on_s3(openfield_project, s3):
    """A project in a bucket: labels load, save, and a second session's save is noticed (ETag)."""
    from posering import storage

    root = f"{s3}/openfield"
    local = openfield_project.parent
    storage.copy(str(openfield_project), f"{root}/config.yaml")
    for name in ["CollectedData_Pranav.h5", "CollectedData_Pranav.csv"] + [f"img{i:04d}.png" for i in range(4)]:
        storage.copy(str(local / "labeled-data/m4s1" / name), f"{root}/labeled-data/m4s1/{name}")
    a = LabelingSession(f"{root}/config.yaml", "m4s1")
    b = LabelingSession(f"{root}/config.yaml", "m4s1")
    assert a.nframes == 4 and a.location.startswith("s3://")
    np.testing.assert_array_equal(a.points, labels.points(h5(openfield_project))[:4])
    a.goto(1)
    a.select(0)
    a.place(12.5, 13.5)
    assert a.save().written
    b.goto(1)
    b.select(0)
    b.place(99.0, 99.0)
    assert b.save().conflicts == [(1, 0)]  # b saw a's save on the bucket
    saved = labels.read_labels(f"{root}/{H5}")
    assert tuple(saved.loc[ROW.format(1), ("Pranav", "snout")]) == (12.5, 13.5)
    assert len(saved) == 116  # rows of images not in the bucket's folder are kept


def test_a_folder_with_only_the_csv_keeps_every_label(openfield_project):
    (openfield_project.parent / H5).unlink()  # DeepLabCut's .csv alone
    before = labels.read_labels(str(openfield_project.parent / H5.replace(".h5", ".csv")))
    s = LabelingSession(str(openfield_project), "m4s1")
    np.testing.assert_array_equal(s.points, labels.points(before))
    s.goto(2)
    s.remove(0)
    s.save()
    saved = h5(openfield_project)
    assert len(saved) == 116 and np.isnan(saved.loc[ROW.format(2), ("Pranav", "snout")]).all()
    np.testing.assert_array_equal(labels.points(saved.drop(index=ROW.format(2))),
                                  labels.points(before.drop(index=ROW.format(2))))


def test_a_fresh_folder_gets_deeplabcuts_files(openfield_project):
    """Frames grabbed into a new folder, labeled: CollectedData_<scorer>.h5/.csv in DeepLabCut's
    modern layout, a row per labeled image only."""
    import shutil

    folder = openfield_project.parent / "labeled-data/m3v1mp4"
    folder.mkdir()
    for i in (7, 42):
        shutil.copy(openfield_project.parent / f"labeled-data/m4s1/img{i:04d}.png", folder / f"img{i:04d}.png")
    s = LabelingSession(str(openfield_project), "m3v1mp4")
    assert s.nframes == 2 and np.isnan(s.points).all() and s.new_bodyparts == []
    s.place(1.0, 2.0)
    s.place(3.0, 4.0)
    assert s.save().written
    saved = labels.read_labels(str(folder / "CollectedData_Pranav.h5"))
    assert list(saved.index) == [("labeled-data", "m3v1mp4", "img0007.png")]
    assert labels.scorer_of(saved) == "Pranav" and labels.bodyparts_of(saved) == s.bodyparts
    np.testing.assert_array_equal(labels.points(saved)[0, :2], [[1, 2], [3, 4]])
    assert (folder / "CollectedData_Pranav.csv").exists()
