"""Every refusal of create_training_dataset, each on a real project file, and nothing written."""

import numpy as np
import pytest

from posering import labels, storage
from posering.dataset.create_training_dataset import create_training_dataset
from posering.errors import DatasetError
from posering.project import ProjectConfig, ProjectPaths

COLLECTED = "labeled-data/reachingvideo1/CollectedData_Mackenzie.h5"


def _edit_labels(project_config, edit):
    location = str(project_config.parent / COLLECTED)
    table = labels.read_labels(location)
    edit(table)
    labels.write_labels(table, location)


def _row(table, image):
    return next(key for key in table.index if labels.image_relpath(key).endswith(image))


def _nothing_written(project_config):
    root = project_config.parent
    assert not (root / "training-datasets" / "iteration-0").exists()
    assert not (root / "dlc-models-pytorch").exists()


def test_label_outside_the_image(reaching_project):
    # img005.png is 832x747; a Joystick1 at x=900 is off the right edge.
    def move_off_the_image(table):
        table.loc[_row(table, "img005.png"), ("Mackenzie", "Joystick1", "x")] = 900.0

    _edit_labels(reaching_project, move_off_the_image)
    with pytest.raises(DatasetError, match=r"CollectedData_Mackenzie.h5: frame img005.png, bodypart "
                                           r"'Joystick1' at \(900.0, .*\) lies outside the image \(832x747\)"):
        create_training_dataset(str(reaching_project))
    _nothing_written(reaching_project)


def test_missing_images(reaching_project):
    (reaching_project.parent / "labeled-data" / "reachingvideo1" / "img020.png").unlink()
    with pytest.raises(DatasetError, match=r"reachingvideo1: 1 of the 55 images labeled in "
                                           r"CollectedData_Mackenzie.h5 are missing \(e.g. img020.png\)"):
        create_training_dataset(str(reaching_project))
    for image in (reaching_project.parent / "labeled-data" / "reachingvideo1").glob("*.png"):
        image.unlink()
    with pytest.raises(DatasetError, match="none of the 55 images labeled in CollectedData_Mackenzie.h5 is there"):
        create_training_dataset(str(reaching_project))
    _nothing_written(reaching_project)


def test_bodypart_not_in_config(reaching_project):
    config = ProjectConfig.load(str(reaching_project))
    config["bodyparts"] = ["Hand", "Finger1", "Joystick1", "Joystick2"]
    config.save()
    with pytest.raises(DatasetError, match=r"CollectedData_Mackenzie.h5: bodypart 'Tongue' \(labeled in frame "
                                           r"labeled-data/reachingvideo1/img\d+.png\) is not in config.yaml's "
                                           r"bodyparts .*add '- Tongue' under bodyparts"):
        create_training_dataset(str(reaching_project))
    _nothing_written(reaching_project)


def test_scorer_mismatch(reaching_project):
    config = ProjectConfig.load(str(reaching_project))
    config["scorer"] = "Someone"
    config.save()
    with pytest.raises(DatasetError, match=r"CollectedData_Mackenzie.h5: labels by scorer 'Mackenzie', but "
                                           r"config.yaml's scorer is 'Someone'"):
        create_training_dataset(str(reaching_project))
    config["scorer"] = "Mackenzie"
    config.save()
    # The file's name says Mackenzie but its scorer level says otherwise.
    location = str(reaching_project.parent / COLLECTED)
    table = labels.read_labels(location)
    table.columns = table.columns.set_levels(["Other"], level=0)
    labels.write_labels(table, location)
    with pytest.raises(DatasetError, match=r"CollectedData_Mackenzie.h5: labels are by scorer 'Other'"):
        create_training_dataset(str(reaching_project))
    _nothing_written(reaching_project)


def test_fraction_that_leaves_no_test_frame(reaching_project):
    config = ProjectConfig.load(str(reaching_project))
    config["TrainingFraction"] = [0.999]
    config.save()
    with pytest.raises(DatasetError, match=r"config.yaml: TrainingFraction: TrainingFraction 0.999 of 55 "
                                           r"labeled frames leaves no test frame"):
        create_training_dataset(str(reaching_project))
    _nothing_written(reaching_project)


def test_bad_given_splits(reaching_project):
    with pytest.raises(DatasetError, match="row 3 is in both"):
        create_training_dataset(str(reaching_project), trainIndices=[[0, 1, 2, 3]], testIndices=[[3, 4]])
    with pytest.raises(DatasetError, match="holds 55, but the dataset has rows 0 to 54"):
        create_training_dataset(str(reaching_project), trainIndices=[[0, 55]], testIndices=[[3]])
    with pytest.raises(DatasetError, match="one entry per shuffle"):
        create_training_dataset(str(reaching_project), Shuffles=[1, 2], trainIndices=[[0]], testIndices=[[1]])
    with pytest.raises(DatasetError, match="augmenter_type 'tensorpack'"):
        create_training_dataset(str(reaching_project), augmenter_type="tensorpack")
    _nothing_written(reaching_project)


def test_trained_shuffle_is_never_overwritten(reaching_project):
    create_training_dataset(str(reaching_project))
    paths = ProjectPaths(ProjectConfig.load(str(reaching_project)))
    snapshot = storage.join(paths.train_dir(0.95, 1), "snapshot-010.pt")
    storage.write_bytes(snapshot, b"weights")
    split_before = storage.read_text(paths.split_file(0.95, 1))
    with pytest.raises(DatasetError, match="shuffle 1 already holds a trained model"):
        create_training_dataset(str(reaching_project))
    assert storage.read_bytes(snapshot) == b"weights"
    assert storage.read_text(paths.split_file(0.95, 1)) == split_before
    create_training_dataset(str(reaching_project), Shuffles=[2])  # another number is fine


def test_frames_without_any_label_are_left_out(reaching_project):
    def unlabel(table):
        table.loc[_row(table, "img005.png"), :] = np.nan

    _edit_labels(reaching_project, unlabel)
    create_training_dataset(str(reaching_project))
    table = labels.read_labels(ProjectPaths(ProjectConfig.load(str(reaching_project))).dataset_collected_data())
    assert len(table) == 54
    assert "img005.png" not in {key[2] for key in table.index}


def test_unknown_net_type(reaching_project):
    from posering.errors import ModelError

    with pytest.raises(ModelError, match="net_type 'resnet_5' is not a backbone posering knows"):
        create_training_dataset(str(reaching_project), net_type="resnet_5")
    _nothing_written(reaching_project)


def test_warns_when_older_shuffles_index_a_changed_table(reaching_project, caplog):
    create_training_dataset(str(reaching_project))

    def unlabel(table):
        table.loc[_row(table, "img005.png"), :] = np.nan

    _edit_labels(reaching_project, unlabel)
    with caplog.at_level("WARNING", logger="posering.dataset"):
        create_training_dataset(str(reaching_project), Shuffles=[2])
    assert "the labeled frames changed since shuffles [1] were made" in caplog.text
