"""The Refine view's state on the openfield project with machine labels beside the human ones."""

import numpy as np
import pandas as pd
import pytest

from posering import labels
from posering.gui.state.refining import RefineSession, refinable_folders

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.PerformanceWarning")

H5 = "labeled-data/m4s1/CollectedData_Pranav.h5"
ROW = "labeled-data/m4s1/img{:04d}.png"
HUMAN_ROWS = 100  # the first 100 images keep their human labels; the last 16 have only machine ones


def trim_folder(project, images: int) -> None:
    """Keep only the first ``images`` images of labeled-data/m4s1 and their labels (faster tests)."""
    folder = project.parent / "labeled-data/m4s1"
    for path in sorted(folder.glob("img*.png"))[images:]:
        path.unlink()
    human = labels.read_labels(str(project.parent / H5))
    labels.write_labels(human.iloc[:images], str(project.parent / H5))


def make_refinable(project, human_rows: int = HUMAN_ROWS):
    """Machine labels for every image (the human ones shifted by 2 px), likelihood 0.9 except
    snout of the images after ``human_rows`` (0.2); CollectedData keeps only the first
    ``human_rows`` images."""
    human = labels.read_labels(str(project.parent / H5))
    xy = labels.points(human)
    likelihood = np.full(xy.shape[:2], 0.9)
    likelihood[human_rows:, 0] = 0.2
    machine = labels.from_arrays("DLC_resnet50_openfieldOct30shuffle1_200", labels.bodyparts_of(human),
                                 labels.image_relpaths(human), xy + 2.0, likelihood)
    labels.write_labels(machine, str(project.parent / "labeled-data/m4s1/machinelabels-iter0.h5"), csv=False)
    kept = human.iloc[:human_rows]
    labels.write_labels(kept, str(project.parent / H5))
    return kept, xy


@pytest.fixture
def refinable(openfield_project):
    kept, xy = make_refinable(openfield_project)
    return openfield_project, kept, xy


def test_machine_points_split_by_the_slider_and_human_labels_win(refinable):
    project, kept, xy = refinable
    assert refinable_folders(str(project)) == ["m4s1"]
    s = RefineSession(str(project), "m4s1")
    assert s.nframes == 116 and s.threshold == 0.4  # the project's pcutoff
    np.testing.assert_array_equal(s.points[:HUMAN_ROWS], labels.points(kept))  # human labels shown
    np.testing.assert_array_equal(s.points[HUMAN_ROWS:], xy[HUMAN_ROWS:] + 2.0)  # machine ones beside
    s.goto(HUMAN_ROWS)
    assert list(s.kept()) == [False, True, True, True]  # snout 0.2 < 0.4: an open circle
    s.set_threshold(0.1)
    assert s.kept().all()
    s.set_threshold(0.95)
    assert not s.kept().any()
    s.goto(0)
    assert s.kept().all()  # human labels whatever the slider


def test_save_keeps_every_human_label_and_leaves_out_unsure_machine_points(refinable):
    # napari-deeplabcut 227: saving machine labels wiped the human labels.
    project, kept, xy = refinable
    s = RefineSession(str(project), "m4s1")
    s.goto(HUMAN_ROWS + 1)
    s.select(0)
    s.place(50.0, 60.0)  # an unsure machine snout corrected: a label now
    s.goto(HUMAN_ROWS + 2)
    s.remove(1)  # a machine leftear rejected
    s.goto(3)
    s.move(2, 7.5, 8.5)  # a human label corrected
    s.save()
    saved = labels.read_labels(str(project.parent / H5))
    assert len(saved) == 116
    expected_human = kept.copy()
    expected_human.loc[ROW.format(3), ("Pranav", "rightear", "x")] = 7.5
    expected_human.loc[ROW.format(3), ("Pranav", "rightear", "y")] = 8.5
    pd.testing.assert_frame_equal(saved.loc[kept.index], expected_human)
    machine_part = labels.points(saved.iloc[HUMAN_ROWS:])
    expected = xy[HUMAN_ROWS:] + 2.0
    expected[:, 0] = np.nan  # unsure snouts left out...
    expected[1, 0] = (50.0, 60.0)  # ...except the corrected one
    expected[2, 1] = np.nan  # the rejected leftear
    np.testing.assert_array_equal(machine_part, expected)
    assert not s.dirty and s.status() == "saved"
    again = RefineSession(str(project), "m4s1")  # reopened: what was saved, nothing comes back
    np.testing.assert_array_equal(again.points, labels.points(saved))


def test_undo_in_refinement(refinable):
    project, _, _ = refinable
    s = RefineSession(str(project), "m4s1")
    before = s.points.copy()
    s.goto(110)
    s.remove(3)
    s.place(1.0, 1.0)
    assert s.dirty
    s.undo()
    s.undo()
    np.testing.assert_array_equal(s.points, before)
    assert not s.dirty


def test_a_label_changed_elsewhere_meanwhile_is_not_overwritten(refinable):
    from posering.gui.state.labeling import LabelingSession

    project, kept, xy = refinable
    refine = RefineSession(str(project), "m4s1")
    other = LabelingSession(str(project), "m4s1")  # the Label view, or a second window
    other.goto(5)
    other.select(1)
    other.place(111.0, 222.0)
    other.save()
    refine.goto(HUMAN_ROWS + 3)
    refine.remove(2)
    refine.save()
    saved = labels.read_labels(str(project.parent / H5))
    assert tuple(saved.loc[ROW.format(5), ("Pranav", "leftear")]) == (111.0, 222.0)
    assert np.isnan(saved.loc[ROW.format(HUMAN_ROWS + 3), ("Pranav", "rightear")]).all()
    assert refine.point(1, frame=5) == (111.0, 222.0)  # and the Refine view shows it now
