"""merge_datasets, iterations, and bodyparts added to config."""

import numpy as np
import pytest

from posering import labels, storage
from posering.cli import main
from posering.dataset.create_training_dataset import create_training_dataset
from posering.dataset.merge_datasets import merge_datasets
from posering.errors import DatasetError
from posering.project import ProjectConfig, ProjectPaths


def test_merge_moves_to_the_next_iteration(demo_project):
    create_training_dataset(demo_project)
    config = ProjectConfig.load(demo_project)
    paths = ProjectPaths(config)
    first = paths.dataset_dir(0)
    assert merge_datasets(demo_project) == 1
    config = ProjectConfig.load(demo_project)
    assert config.iteration == 1
    create_training_dataset(demo_project)
    paths = ProjectPaths(config)
    assert paths.dataset_dir().endswith("iteration-1/UnaugmentedDataSet_demo" + config.date)
    assert storage.exists(paths.split_file(0.95, 1))
    assert storage.exists(paths.pose_cfg_file(0.95, 1))
    assert "iteration-1" in paths.model_folder(0.95, 1)
    assert storage.exists(storage.join(first, "metadata.yaml"))  # iteration 0 is kept
    # The command line, with forceiterate.
    assert main(["merge_datasets", demo_project, "--forceiterate", "5"]) == 0
    assert ProjectConfig.load(demo_project).iteration == 5


def test_merge_refuses_a_folder_that_is_not_labeled(demo_project):
    config = ProjectConfig.load(demo_project)
    paths = ProjectPaths(config)
    stem = storage.stem(next(iter(config.video_sets)))
    # Outlier frames extracted into a second folder, with machine labels but no human ones yet.
    folder = paths.labeled_folder("refine-me")
    storage.copy(storage.join(paths.labeled_folder(stem), "img000.png"), storage.join(folder, "img000.png"))
    machine = labels.read_labels(paths.collected_data(stem)).iloc[:1]
    labels.write_labels(machine, storage.join(folder, "machinelabels-iter0.h5"))
    with pytest.raises(DatasetError, match=r"refine-me: no CollectedData_posering.h5; correct its "
                                           r"machinelabels-iter0.h5 in the labeling GUI"):
        merge_datasets(demo_project)
    assert ProjectConfig.load(demo_project).iteration == 0
    storage.makedirs(paths.labeled_folder("empty-video"))  # a video without frames is no obstacle
    storage.remove(folder, recursive=True)
    assert merge_datasets(demo_project) == 1


def test_new_bodypart_keeps_old_labels(demo_project):
    create_training_dataset(demo_project)
    config = ProjectConfig.load(demo_project)
    before = labels.read_labels(ProjectPaths(config).dataset_collected_data())
    config["bodyparts"] = config.bodyparts + ["tailtip"]
    config.save()
    merge_datasets(demo_project)
    create_training_dataset(demo_project)
    config = ProjectConfig.load(demo_project)
    after = labels.read_labels(ProjectPaths(config).dataset_collected_data())
    assert labels.bodyparts_of(after) == config.bodyparts
    assert after.xs("tailtip", level=1, axis=1).isna().all().all()
    old = [bp for bp in config.bodyparts if bp != "tailtip"]
    np.testing.assert_array_equal(labels.points(after, old), labels.points(before, old))
