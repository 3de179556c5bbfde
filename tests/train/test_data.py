"""Training data: split records in every form a project holds, real images, mixed sizes, s3."""

import json
import pickle

import numpy as np
import pytest
import torch
import yaml

from posering import storage
from posering.dataset.training_set import load_training_set
from posering.errors import DatasetError
from posering.project import ProjectPaths, load_config
from posering.train.augment import Augmenter
from posering.train.data import PoseDataset, make_loader
from tests.training_helpers import make_shuffle


def test_reaching_frames_of_two_sizes_share_batches(reaching_project):
    make_shuffle(reaching_project, "resnet_18")
    training_set = load_training_set(reaching_project)
    assert len(training_set.relpaths) == 55
    assert training_set.keypoints.shape == (55, 5, 2)
    # Tongue is unlabeled in 40 frames: missing stays NaN, never zero.
    assert np.isnan(training_set.keypoints[:, 2]).all(axis=1).sum() == 40
    sizes = set()
    dataset = PoseDataset.from_training_set(training_set, "train")
    for i in range(len(dataset)):
        sizes.add(dataset.image(i).shape)
    assert sizes == {(747, 832, 3), (470, 640, 3)}

    # Without crop_sampling: batches are zero-padded to the largest frame, keypoints unmoved.
    loader = make_loader(dataset, batch_size=len(dataset), device=torch.device("cpu"), shuffle=False)
    images, keypoints = next(iter(loader))
    assert images.dtype == torch.uint8 and images.shape[1:] == (747, 832, 3)
    np.testing.assert_array_equal(keypoints.numpy(), training_set.keypoints[training_set.train_indices])

    # With DeepLabCut's augmentation (448x448 crops): one size for all.
    augmenter = Augmenter({"affine": {"p": 0.5, "rotation": 30, "scaling": [0.5, 1.25], "translation": 0},
                           "crop_sampling": {"width": 448, "height": 448, "max_shift": 0.1, "method": "hybrid"},
                           "motion_blur": True, "gaussian_noise": 12.75}, training_set.bodyparts)
    dataset = PoseDataset.from_training_set(training_set, "train", augmenter, seed=1)
    images, keypoints = next(iter(make_loader(dataset, 8, torch.device("cpu"), workers=2, seed=3)))
    assert images.shape == (8, 448, 448, 3)
    kp = keypoints.numpy()
    finite = np.isfinite(kp).all(axis=-1)
    assert finite.any() and ((kp[finite] >= 0) & (kp[finite] <= 447)).all()


def write_split(paths: ProjectPaths, kind: str, train, test, fraction=0.95, shuffle=1):
    folder = paths.dataset_dir()
    if kind == "json":
        storage.write_text(storage.join(folder, f"split-shuffle{shuffle}.json"),
                           json.dumps({"train_indices": train, "test_indices": test}))
    elif kind == "pickle":  # DeepLabCut's own record: [train data, train indices, test indices, fraction]
        record = [[{"image": ("labeled-data", "v", "img0.png"), "size": np.array([3, 480, 640])}],
                  np.array(train), np.array(test), fraction]
        storage.write_bytes(storage.join(folder, f"Documentation_data-{paths.config.task}_95shuffle{shuffle}.pickle"),
                            pickle.dumps(record))
    else:
        storage.write_text(paths.split_file(fraction, shuffle),
                           yaml.safe_dump({"train_indices": train, "test_indices": test}))


@pytest.mark.parametrize("kind", ["yaml", "json", "pickle"])
def test_split_records_of_posering_and_deeplabcut(openfield_project, kind):
    make_shuffle(openfield_project, "resnet_18")
    cfg = load_config(openfield_project)
    paths = ProjectPaths(cfg)
    storage.remove(paths.split_file(0.95, 1))
    write_split(paths, kind, [3, 1, 2], [0, 4])
    training_set = load_training_set(cfg)
    assert training_set.train_indices == [3, 1, 2] and training_set.test_indices == [0, 4]
    assert training_set.split_source.endswith({"yaml": ".yaml", "json": ".json", "pickle": ".pickle"}[kind])
    assert training_set.relpaths[0] == "labeled-data/m4s1/img0000.png"


def test_bad_splits_are_refused_with_the_file_named(openfield_project):
    make_shuffle(openfield_project, "resnet_18")
    cfg = load_config(openfield_project)
    paths = ProjectPaths(cfg)
    write_split(paths, "yaml", [0, 500], [1])
    with pytest.raises(DatasetError, match=r"Documentation_data-openfield_95shuffle1.yaml: row 500"):
        load_training_set(cfg)
    with pytest.raises(DatasetError, match="no split for shuffle 7"):
        load_training_set(cfg, shuffle=7)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    storage.remove(paths.split_file(0.95, 1))
    storage.write_bytes(storage.join(paths.dataset_dir(), "Documentation_data-openfield_95shuffle1.pickle"),
                        pickle.dumps([Evil(), [0], [1], 0.95]))
    with pytest.raises(DatasetError, match="cannot read DeepLabCut's split record safely"):
        load_training_set(cfg)


def test_images_are_read_from_s3(openfield_project, s3):
    root = storage.join(s3, "openfield")
    relpaths = ["labeled-data/m4s1/img0000.png", "labeled-data/m4s1/img0001.png"]
    for rel in relpaths:
        storage.copy(str(openfield_project.parent / rel), storage.join(root, rel))
    keypoints = np.array([[[1, 2]] * 4, [[3, 4]] * 4], dtype=np.float32)
    dataset = PoseDataset(root, relpaths, keypoints)
    image, kp = dataset[1]
    assert image.shape == (480, 640, 3) and kp.tolist() == [[3, 4]] * 4
    assert 1 in dataset._cache  # remote images are kept after the first read
