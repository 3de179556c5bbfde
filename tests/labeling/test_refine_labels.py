"""Refinement: machine and human labels as one table, human labels win and are never dropped,
deletions are explicit, machine labels become human labels once saved."""

import numpy as np
import pandas as pd
import pytest

from posering import labels
from posering.cli import main
from posering.errors import LabelsError
from posering.frames.extract_outlier_frames import extract_outlier_frames
from posering.labeling import load_for_refinement, refine_labels, save_refined
from posering.project import ProjectConfig, ProjectPaths
from tests.posed_project import make_posed_project

IMG = "labeled-data/mouse/img{:03d}.png"


@pytest.fixture
def refinable(tmp_path, synthetic_video):
    """Outlier frames 7, 20, 40, 60 with machine labels (the tail base of frame 60 unsure), and
    human labels saved for frame 40 (snout only, 3 px off the machine's) and frame 7."""
    video, truth = synthetic_video
    likelihood = np.full(truth.shape[:2], 0.9)
    likelihood[60, 3] = 0.2
    config, project_video, _ = make_posed_project(str(tmp_path), video, truth, likelihood, pcutoff=0.6)
    extract_outlier_frames(config, project_video, outlieralgorithm="list", frames2use=[7, 20, 40, 60],
                           automatic=True)
    human = np.full((2, 4, 2), np.nan)
    human[0, 0] = truth[40, 0] + 3
    human[1] = truth[7]
    table = labels.from_arrays("me", ["snout", "leftear", "rightear", "tailbase"],
                               [IMG.format(40), IMG.format(7)], human)
    labels.write_labels(table, ProjectPaths(ProjectConfig.load(config)).collected_data("mouse"))
    return config, truth


def test_human_labels_win_and_unsure_machine_points_start_unplaced(refinable):
    config, truth = refinable
    refinement = load_for_refinement(config, "mouse")
    assert refinement.images == [IMG.format(i) for i in (7, 20, 40, 60)]
    assert refinement.point("img040.png", "snout") == pytest.approx(tuple(truth[40, 0] + 3))
    assert refinement.source.loc[("labeled-data", "mouse", "img040.png"), "snout"] == "human"
    # Frame 40 has a row in the human file: it is shown as saved (its leftear was left unplaced).
    assert refinement.point("img040.png", "leftear") is None
    assert refinement.point("img020.png", "leftear") == pytest.approx(tuple(truth[20, 1]))
    assert refinement.source.loc[("labeled-data", "mouse", "img020.png"), "leftear"] == "machine"
    assert refinement.point("img060.png", "tailbase") is None  # likelihood 0.2 < pcutoff 0.6
    assert load_for_refinement(config, "mouse", pcutoff=0).point("img060.png", "tailbase") is not None
    assert "human" in refinement.to_string() and "machine" in refinement.to_string()


def test_save_keeps_every_human_label_and_applies_edits(refinable):
    config, truth = refinable
    refinement = load_for_refinement(config, "mouse")
    refinement.move("img020.png", "snout", 11.5, 12.5)
    refinement.delete("img007.png", "tailbase")  # a human label on disk: removed only because asked
    refinement.delete("img060.png", "leftear")
    location = save_refined(refinement)
    saved = labels.read_labels(location)
    assert labels.scorer_of(saved) == "me"
    assert list(saved.columns.get_level_values(2).unique()) == ["x", "y"]

    def at(i, bp):
        row = saved.loc[("labeled-data", "mouse", f"img{i:03d}.png")]
        return row[("me", bp, "x")], row[("me", bp, "y")]

    assert at(20, "snout") == (11.5, 12.5)
    assert at(40, "snout") == pytest.approx(tuple(truth[40, 0] + 3))  # the human label, not the machine's
    assert at(20, "rightear") == pytest.approx(tuple(truth[20, 2]))  # machine label, now a label
    assert np.isnan(at(40, "rightear")).all()  # not placed by the human who saved frame 40
    assert np.isnan(at(7, "tailbase")).all() and at(7, "snout") == pytest.approx(tuple(truth[7, 0]))
    assert np.isnan(at(60, "leftear")).all() and np.isnan(at(60, "tailbase")).all()
    again = load_for_refinement(config, "mouse")  # deleted machine points do not come back
    assert set(again.source.to_numpy().ravel()) <= {"human", ""}
    assert again.point("img060.png", "leftear") is None


def test_labels_of_images_gone_from_the_folder_are_kept(refinable, tmp_path):
    config, truth = refinable
    paths = ProjectPaths(ProjectConfig.load(config))
    table = labels.from_arrays("me", ["snout", "leftear", "rightear", "tailbase"], [IMG.format(99)],
                               truth[99:100])
    labels.save_labels(table, paths.collected_data("mouse"))  # an image since deleted from the folder
    location = refine_labels(config, "mouse")
    saved = labels.read_labels(location)
    assert ("labeled-data", "mouse", "img099.png") in saved.index
    assert saved.notna().any(axis=1).sum() == 5


def test_command_line(refinable, capsys):
    config, _ = refinable
    assert main(["load_for_refinement", config, "mouse"]) == 0
    assert "machine" in capsys.readouterr().out
    assert main(["refine_labels", config, "mouse", "--moves", "{img020.png: {snout: [5, 6]}}",
                 "--deletions", "[[img040.png, leftear]]"]) == 0
    saved = labels.read_labels(capsys.readouterr().out.strip())
    row20, row40 = (saved.loc[("labeled-data", "mouse", f"img0{i}.png")] for i in (20, 40))
    assert (row20[("me", "snout", "x")], row20[("me", "snout", "y")]) == (5.0, 6.0)
    assert np.isnan(row40[("me", "leftear", "x")])


def test_legacy_labels_keep_their_form(openfield_project):
    before = labels.read_labels(str(openfield_project.parent / "labeled-data/m4s1/CollectedData_Pranav.h5"))
    refinement = load_for_refinement(str(openfield_project), "m4s1")
    assert len(refinement.images) == 116 and set(refinement.source.to_numpy().ravel()) == {"human"}
    refinement.move("img0003.png", "snout", 100.0, 200.0)
    after = labels.read_labels(refinement.save())
    assert not isinstance(after.index, pd.MultiIndex) and len(after) == 116
    changed = (after != before).any(axis=1)
    assert list(after.index[changed]) == ["labeled-data/m4s1/img0003.png"]


def test_mistakes_are_named(refinable):
    config, _ = refinable
    refinement = load_for_refinement(config, "mouse")
    with pytest.raises(LabelsError, match="img500.png: not an image"):
        refinement.move("img500.png", "snout", 1, 2)
    with pytest.raises(LabelsError, match="'nose' is not a bodypart"):
        refinement.delete("img020.png", "nose")
    with pytest.raises(LabelsError, match="no images to refine"):
        load_for_refinement(config, "unknown-video")
