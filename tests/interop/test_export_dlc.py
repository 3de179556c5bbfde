"""export_dlc writes what DeepLabCut 3 loads: the fixture's layout, keys and snapshot format.

Where a DeepLabCut 3.0.2 virtual environment is available (POSERING_DLC_PYTHON=<its python>),
DeepLabCut itself analyzes a clip with the export and must agree with posering within 0.5 px.
"""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from posering.errors import ModelError
from posering.interop.export_dlc import export_dlc

from tests.random_model import install_random_model

MODEL = "dlc-models-pytorch/iteration-0/openfieldOct30-trainset95shuffle1"


def _keys(tree, prefix=""):
    if not isinstance(tree, dict):
        return set()
    out = set()
    for key, value in tree.items():
        out.add(prefix + str(key))
        out |= _keys(value, f"{prefix}{key}.")
    return out


def test_export_has_deeplabcut_layout_and_keys(dlc3_project, tmp_path):
    exported = export_dlc(str(dlc3_project), shuffle=1, destination=str(tmp_path / "export"))
    root = tmp_path / "export"
    assert exported == str(root / "config.yaml")
    reference = yaml.safe_load((dlc3_project.parent / MODEL / "train" / "pytorch_config.yaml").read_text())
    written = yaml.safe_load((root / MODEL / "train" / "pytorch_config.yaml").read_text())
    assert _keys(written) == _keys(reference), "the same settings, nested alike, as DeepLabCut wrote"
    assert written["metadata"]["project_path"] == str(root)
    meta = yaml.safe_load((root / "training-datasets/iteration-0/UnaugmentedDataSet_openfieldOct30/metadata.yaml")
                          .read_text().split("---", 1)[1])
    assert meta["shuffles"]["openfieldOct30-trainset95shuffle1"]["engine"] == "pytorch"
    assert (root / MODEL / "test" / "pose_cfg.yaml").exists()
    snapshot = torch.load(root / MODEL / "train" / "snapshot-010.pt", weights_only=True)
    original = torch.load(dlc3_project.parent / MODEL / "train" / "snapshot-best-010.pt", weights_only=True)
    assert set(snapshot) == {"metadata", "model"} and snapshot["metadata"]["epoch"] == 10
    assert all(torch.equal(snapshot["model"][k], original["model"][k]) for k in original["model"])


def test_nets_deeplabcut_lacks_are_refused(demo_project, tmp_path):
    install_random_model(demo_project, net_type="mobilenet_v4_small")
    with pytest.raises(ModelError, match="mobilenet_v4_small.*resnet_50"):
        export_dlc(demo_project, destination=str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()


DLC_PYTHON = os.environ.get("POSERING_DLC_PYTHON")


@pytest.mark.skipif(not DLC_PYTHON, reason="set POSERING_DLC_PYTHON to a python with deeplabcut==3.0.2 installed")
def test_deeplabcut_analyzes_with_the_export(demo_project, tmp_path):
    from posering.analyze.analyze_videos import analyze_videos
    from posering.project import load_config

    install_random_model(demo_project, net_type="resnet_50")
    video = next(iter(load_config(demo_project).video_sets))
    exported = export_dlc(demo_project, destination=str(tmp_path / "export"))
    scorer = analyze_videos(demo_project, [video], num_workers=0, destfolder=str(tmp_path / "ours"), precision="fp32")
    script = ("import deeplabcut, sys; deeplabcut.analyze_videos(sys.argv[1], [sys.argv[2]], "
              "destfolder=sys.argv[3], batch_size=4)")
    subprocess.run([DLC_PYTHON, "-c", script, exported, video, str(tmp_path / "dlc")], check=True)
    ours = pd.read_hdf(tmp_path / "ours" / f"demo-mouse{scorer}.h5")
    (theirs_file,) = (tmp_path / "dlc").glob("demo-mouse*.h5")
    theirs = pd.read_hdf(theirs_file)
    distance = np.linalg.norm(ours.to_numpy().reshape(len(ours), -1, 3)[..., :2]
                              - theirs.to_numpy().reshape(len(theirs), -1, 3)[..., :2], axis=-1)
    assert distance.max() <= 0.5
