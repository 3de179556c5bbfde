"""The round trip: a DeepLabCut 3 project -> posering (labels changed, a new shuffle trained) ->
DeepLabCut 3.0.2 again, with no file lost or rewritten in a way DeepLabCut rejects.

The project is DeepLabCut's openfield project with the shuffle DeepLabCut 3.0.2 trained
(../shared/data/dlc3-openfield-resnet50). Runs only where POSERING_DLC_PYTHON is set.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import pandas as pd
import pytest
import yaml

from tests.conftest import deeplabcut_trained_openfield
from tests.interop.dlc_venv import assert_step, needs_deeplabcut, quick_model, run_deeplabcut, step

# DeepLabCut and posering each train a resnet_50 here: minutes on a small CPU machine.
pytestmark = [needs_deeplabcut, pytest.mark.slow, pytest.mark.timeout(3600)]

DATASET = "training-datasets/iteration-0/UnaugmentedDataSet_openfieldOct30"
THEIR_MODEL = "dlc-models-pytorch/iteration-0/openfieldOct30-trainset95shuffle1"
CLIP_FRAMES = 10


def _deeplabcut_project(work: Path) -> Path:
    """The openfield project as DeepLabCut 3.0.2 left it (the recipe of its README)."""
    root = deeplabcut_trained_openfield(work)
    # The shared copy keeps DeepLabCut's split of shuffle 1 as JSON; a project DeepLabCut made
    # holds it as its Documentation pickle and .mat, which DeepLabCut reads for every shuffle of
    # metadata.yaml when it adds one. metadata.yaml also lists shuffle 2 (another net on split 1,
    # the same frames), whose records the copy lacks: both are rebuilt from the JSON split.
    from posering.dataset.collect import image_shape
    from posering.formats import labels
    from posering.formats.splits import Split, read_metadata, write_dlc_split
    from posering.project import load_config

    cfg = load_config(str(root / "config.yaml"))
    split = json.loads((root / DATASET / "split-shuffle1.json").read_text())
    table = labels.read_labels(str(root / DATASET / "CollectedData_Pranav.h5"))
    shapes = {rel: image_shape(str(root / rel)) for rel in labels.image_relpaths(table)}
    for entry in read_metadata(cfg)["shuffles"].values():
        assert entry["split"] == 1, "the shared copy holds the frames of split 1 only"
        write_dlc_split(cfg, Split(entry["index"], entry["train_fraction"], split["train_indices"],
                                   split["test_indices"]), table, shapes)
    return root


def _clip(source: Path, target: Path, frames: int) -> None:
    reader = cv2.VideoCapture(str(source))
    ok, frame = reader.read()
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (frame.shape[1], frame.shape[0]))
    for _ in range(frames):
        writer.write(frame)
        ok, frame = reader.read()
    writer.release()


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    import posering as pr
    from posering import labels

    work = tmp_path_factory.mktemp("round-trip")
    root = _deeplabcut_project(work)
    config = str(root / "config.yaml")
    theirs_before = _digests(root / THEIR_MODEL)
    clip = root / "videos" / "clip10.mp4"
    _clip(root / "videos" / "m3v1mp4_clip600.mp4", clip, CLIP_FRAMES)

    # posering: a person corrects a label, and a new shuffle (16 train / 4 test frames) is trained.
    human = root / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5"
    table = labels.read_labels(str(human))
    table.iloc[5, 0] = 123.25
    labels.save_labels(table, str(human))
    pr.create_training_dataset(config, Shuffles=[2], trainIndices=[list(range(16))],
                               testIndices=[list(range(16, 20))], net_type="resnet_50")
    quick_model(config, shuffle=2, trainingsetindex=1)
    pr.train_network(config, shuffle=2, trainingsetindex=1, epochs=1, progress=False)
    ours = root / "dlc-models-pytorch/iteration-0/openfieldOct30-trainset80shuffle2/train"
    plan = [
        step("check_labels", "check_labels", config),
        step("create_training_dataset", "create_training_dataset", config, Shuffles=[3], userfeedback=False),
        step("evaluate_network", "evaluate_network", config, shuffles=[2], trainingsetindex=1, show_errors=False),
        step("analyze_videos", "analyze_videos", config, [str(clip)], shuffle=2, trainingsetindex=1,
             destfolder=work / "ours", batch_size=4),
        step("analyze_videos_their_shuffle", "analyze_videos", config, [str(clip)], shuffle=1,
             destfolder=work / "theirs", batch_size=4),
        step("train_network", "train_network", config, shuffle=2, trainingsetindex=1, epochs=1, save_epochs=1,
             snapshot_path=ours / "snapshot-001.pt", batch_size=8, device="cpu"),
    ]
    results = run_deeplabcut(plan, work / "deeplabcut")
    return {"root": root, "config": config, "work": work, "results": results, "theirs_before": theirs_before,
            "ours": ours}


def test_deeplabcut_checks_the_labels_posering_saved(round_trip):
    assert_step(round_trip["results"], "check_labels")
    assert list((round_trip["root"] / "labeled-data" / "m4s1_labeled").glob("*.png"))


def test_deeplabcut_adds_a_shuffle_beside_both(round_trip):
    assert_step(round_trip["results"], "create_training_dataset")
    text = (round_trip["root"] / DATASET / "metadata.yaml").read_text()
    shuffles = yaml.safe_load(text.split("---", 1)[1])["shuffles"]
    assert {(e["train_fraction"], e["index"]) for e in shuffles.values()} >= {(0.95, 1), (0.8, 2), (0.95, 3)}
    from posering.dataset.training_set import load_training_set

    assert load_training_set(round_trip["config"], shuffle=3).split_source.endswith(".pickle")


def test_deeplabcut_evaluates_and_analyzes_with_poserings_shuffle(round_trip):
    assert_step(round_trip["results"], "evaluate_network")
    assert_step(round_trip["results"], "analyze_videos")
    (h5,) = (round_trip["work"] / "ours").glob("*.h5")
    assert "shuffle2" in h5.name and len(pd.read_hdf(h5)) == CLIP_FRAMES


def test_deeplabcut_trains_poserings_shuffle_on(round_trip):
    assert_step(round_trip["results"], "train_network")
    assert (round_trip["ours"] / "snapshot-002.pt").exists()


def test_nothing_of_deeplabcuts_was_lost_or_rewritten(round_trip):
    assert_step(round_trip["results"], "analyze_videos_their_shuffle")
    assert _digests(round_trip["root"] / THEIR_MODEL) == round_trip["theirs_before"]
    assert (round_trip["root"] / DATASET / "split-shuffle1.json").exists()
    from posering import labels

    table = labels.read_labels(str(round_trip["root"] / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5"))
    assert table.iloc[5, 0] == 123.25
