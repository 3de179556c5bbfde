"""The files DeepLabCut 3.0.2 needs beside posering's, checked without DeepLabCut: names, keys,
layouts, and that every pickle posering writes holds plain Python values only.

(tests/interop/ runs DeepLabCut itself on them where POSERING_DLC_PYTHON is set.)
"""

import io
import pickle

import numpy as np
import pytest
import yaml
from scipy.io import loadmat

from posering import storage
from posering.dataset.create_training_dataset import create_training_dataset
from posering.dataset.training_set import load_training_set
from posering.formats import labels, pickles
from posering.formats.splits import read_split
from posering.project import ProjectPaths, load_config

# The keys of DeepLabCut 3.0.2's analysis record (pose_estimation_pytorch/apis/videos.py).
DLC_META_KEYS = {"start", "stop", "run_duration", "Scorer", "pytorch-config", "fps", "batch_size",
                 "frame_dimensions", "nframes", "iteration (active-learning)", "training set fraction",
                 "cropping", "cropping_parameters", "individuals", "bodyparts", "unique_bodyparts"}


class _NothingAllowed(pickle.Unpickler):
    """Plain values only: any class at all (numpy included) stops the read."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"{module}.{name}")


def plain(data: bytes):
    return _NothingAllowed(io.BytesIO(data)).load()


def test_every_shuffle_has_deeplabcuts_records(openfield_project):
    create_training_dataset(str(openfield_project), Shuffles=[1, 2])
    cfg = load_config(openfield_project)
    paths = ProjectPaths(cfg)
    table = labels.read_labels(paths.dataset_collected_data())
    for shuffle in (1, 2):
        documentation = paths.split_pickle(0.95, shuffle)
        assert storage.name(documentation) == f"Documentation_data-openfield_95shuffle{shuffle}.pickle"
        entries, train, test, fraction = plain(storage.read_bytes(documentation))
        split = read_split(cfg, 0.95, shuffle)
        assert (train, test, fraction) == (split.train_indices, split.test_indices, 0.95)
        assert [e["image"] for e in entries] == [table.index[i] for i in train]
        first = table.iloc[train[0]].to_numpy().reshape(-1, 2)
        assert entries[0]["size"] == (3, 480, 640)
        assert entries[0]["joints"] == [[k, int(x), int(y)] for k, (x, y) in enumerate(first)]

        mat = paths.training_mat(0.95, shuffle)
        assert storage.name(mat) == f"openfield_Pranav95shuffle{shuffle}.mat"
        dataset = loadmat(mat)["dataset"]
        assert dataset.shape == (1, len(entries))
        item = dataset[0, 0]
        assert tuple(p.strip() for p in item[0][0]) == entries[0]["image"]
        assert tuple(item[1][0]) == entries[0]["size"]
        assert item[2][0][0].tolist() == entries[0]["joints"]


def test_model_folders_hold_only_deeplabcuts_keys(openfield_project, tmp_path):
    create_training_dataset(str(openfield_project), Shuffles=[1])
    paths = ProjectPaths(load_config(openfield_project))
    written = yaml.safe_load(storage.read_text(paths.model_config_file(0.95, 1)))
    assert "posering" not in written
    settings = storage.join(storage.parent(paths.model_config_file(0.95, 1)), "posering.yaml")
    assert set(yaml.safe_load(storage.read_text(settings))) == {"weight_init", "precision"}


def test_when_deeplabcut_recreated_a_shuffle_its_split_holds(openfield_project, caplog):
    create_training_dataset(str(openfield_project), Shuffles=[1])
    cfg = load_config(openfield_project)
    paths = ProjectPaths(cfg)
    entries, train, test, fraction = plain(storage.read_bytes(paths.split_pickle(0.95, 1)))
    moved = train[:-1] + [test[0]], [train[-1]] + test[1:]
    storage.write_bytes(paths.split_pickle(0.95, 1), pickle.dumps([entries, np.array(moved[0]),
                                                                   np.array(moved[1]), fraction]))
    with caplog.at_level("WARNING", logger="posering.formats"):
        training_set = load_training_set(cfg)
    assert (sorted(training_set.train_indices), sorted(training_set.test_indices)) == (sorted(moved[0]),
                                                                                         sorted(moved[1]))
    assert training_set.split_source.endswith(".pickle") and "DeepLabCut recreated the shuffle" in caplog.text


def test_pickles_posering_writes_refuse_anything_but_plain_values(tmp_path):
    with pytest.raises(TypeError, match="numpy"):
        pickles.write_pickle(str(tmp_path / "x.pickle"), {"data": {"fps": np.float64(30.0)}})
    assert not (tmp_path / "x.pickle").exists()
    pickles.write_pickle(str(tmp_path / "y.pickle"), {"data": {"fps": 30.0, "size": (3, 4), "ok": [None, True]}})
    assert plain((tmp_path / "y.pickle").read_bytes()) == {"data": {"fps": 30.0, "size": (3, 4), "ok": [None, True]}}


def test_analysis_has_deeplabcuts_metadata_pickle(demo_project, tmp_path):
    from posering.analyze.analyze_videos import analyze_videos
    from tests.random_model import install_random_model

    install_random_model(demo_project)
    cfg = load_config(demo_project)
    video = next(iter(cfg.video_sets))
    scorer = analyze_videos(demo_project, [video], num_workers=0, precision="fp32", destfolder=str(tmp_path))
    data = plain((tmp_path / f"demo-mouse{scorer}_meta.pickle").read_bytes())["data"]
    assert set(data) == DLC_META_KEYS
    assert data["Scorer"] == scorer and data["nframes"] == 120 and data["frame_dimensions"] == (320, 240)
    assert data["cropping"] is False and data["cropping_parameters"] == [0, 320, 0, 240]
    assert data["bodyparts"] == cfg.bodyparts and "posering" not in data["pytorch-config"]
    assert data["pytorch-config"]["net_type"] == "mobilenet_v4_small"
    # posering reads its own record first, and DeepLabCut's when it is the only one.
    from posering.post.analysis_files import AnalysisTarget

    target = AnalysisTarget(video, scorer, str(tmp_path))
    assert target.meta().frame_size == (320, 240)
    (tmp_path / f"demo-mouse{scorer}_meta.yaml").unlink()
    assert target.meta().frame_size == (320, 240) and target.meta().crop is None
