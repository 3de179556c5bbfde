"""Every file posering writes on the openfield project, as digests: the check that moving the
format code changed no output (tests/formats/test_outputs_unchanged.py).

``run_pipeline`` takes a copy of DeepLabCut's openfield project through the workflow with the
public API only (labels saved, training set, 3 training steps of a small net, evaluation, analysis
of a 40-frame clip in h5/csv/parquet, filtering, skeleton, time-lapse frames, outlier frames,
refinement, merge, the next iteration's training set), so the same script runs on any version of
the code. ``digests`` then names each output file with a digest of its content:

* CSV, YAML, Parquet and PNG files: sha256 of the bytes, the project's absolute path replaced by
  ``<root>`` (so a recording made in one folder compares with a run in another);
* HDF5 files: sha256 of every node's path, class, attributes and data. Not of the file's bytes:
  HDF5 stamps each object with the time it was written, so two writes of the same table a second
  apart already differ in their bytes, while everything pandas and DeepLabCut read is the same.

Files whose numbers come from the trained network (evaluation, analysis and everything after it)
depend on the floating-point arithmetic of the machine, so ``MODEL_FREE`` names the ones that do
not; the recording keeps a fingerprint of the environment it was made in.

Record (on the code whose outputs are the reference)::

    POSERING_SHARED_DATA=/work/shared/data python3 -m tests.formats.openfield_outputs --write
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import platform
import shutil
import sys
from importlib.metadata import version
from pathlib import Path

RECORDING = Path(__file__).with_name("openfield_outputs.json")
CLIP = "clip40"

# Outputs whose content comes from labels and splits only, not from the network's numbers.
MODEL_FREE = ("labeled-data/m4s1/", "training-datasets/iteration-0/")

# Files whose content holds times, run statistics or absolute paths by design (not formats).
SKIPPED_NAMES = ("config.yaml", "learning_stats.csv", "train.txt")
SKIPPED_SUFFIXES = ("_meta.yaml", ".pt", ".mp4", ".onnx", ".mat")  # (.mat: its header holds the write time)


def environment() -> dict:
    """What the digests of network outputs depend on: libraries and the CPU's instruction set."""
    import torch

    libraries = ("torch", "numpy", "pandas", "tables", "pyarrow", "opencv-python-headless",
                 "onnxruntime", "timm", "albumentations", "PyYAML")
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    return {"libraries": {name: _version(name) for name in libraries},
            "python": platform.python_version(), "machine": platform.machine(), "cpu": cpu,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads()}


def _version(name: str) -> str:
    try:
        return version(name)
    except Exception:
        return "absent"


def _write_clip(source: str, target: str, frames: int = 40) -> None:
    import cv2

    reader = cv2.VideoCapture(source)
    ok, frame = reader.read()
    writer = cv2.VideoWriter(target, cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (frame.shape[1], frame.shape[0]))
    for _ in range(frames):
        writer.write(frame)
        ok, frame = reader.read()
        if not ok:
            break
    writer.release()
    reader.release()


def _set_model_options(location: str, options: dict) -> None:
    import yaml

    from posering.formats.model_config import set_dotted

    data = yaml.safe_load(Path(location).read_text())
    for dotted, value in options.items():
        set_dotted(data, dotted, value)
    Path(location).write_text(yaml.safe_dump(data, sort_keys=False))


def run_pipeline(shared_data: Path, work: Path) -> Path:
    """The openfield project through every step that writes files; returns the project folder."""
    import posering as pr
    from posering import labels
    from posering.project import ProjectConfig

    root = work / "openfield-Pranav-2018-10-30"
    shutil.copytree(shared_data / "openfield-Pranav-2018-10-30", root)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    config = str(root / "config.yaml")
    cfg = ProjectConfig.load(config)
    cfg["skeleton"] = [["snout", "tailbase"], ["leftear", "rightear"]]
    cfg["numframes2pick"] = 4
    cfg.save()
    clip = str(root / "videos" / f"{CLIP}.mp4")
    _write_clip(str(root / "videos" / "m3v1mp4.mp4"), clip)

    # A person moves a point and saves (the legacy row form of the file is kept).
    human = str(root / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5")
    table = labels.read_labels(human)
    table.iloc[3, 0] += 1.5
    labels.save_labels(table, human)

    pr.create_training_dataset(config, Shuffles=[1], net_type="mobilenet_v4_small")
    model_config = root / "dlc-models-pytorch/iteration-0/openfieldOct30-trainset95shuffle1/train/pytorch_config.yaml"
    _set_model_options(str(model_config), {
        "posering.weight_init": "none", "train_settings.batch_size": 4, "runner.eval_interval": 0,
        "data.train": {"affine": None, "crop_sampling": {"width": 256, "height": 256, "max_shift": 0.1,
                                                         "method": "uniform"}, "normalize_images": True}})
    pr.train_network(config, shuffle=1, maxiters=3, epochs=1, progress=False)
    pr.evaluate_network(config, Shuffles=[1], show_errors=False)

    pr.analyze_videos(config, [clip], num_workers=0, precision="fp32", batch_size=4, save_as_csv=True,
                      output_format=("h5", "csv", "parquet"))
    pr.filterpredictions(config, [clip], filtertype="median", save_as_csv=True)
    pr.analyzeskeleton(config, [clip], save_as_csv=True)
    frames = root / "time-lapse"
    frames.mkdir()
    for name in ("img0000.png", "img0050.png", "img0100.png"):
        shutil.copy(root / "labeled-data" / "m4s1" / name, frames / name)
    pr.analyze_time_lapse_frames(config, str(frames), save_as_csv=True, precision="fp32")

    pr.extract_outlier_frames(config, [clip], outlieralgorithm="uncertain", p_bound=1.01,
                              extractionalgorithm="uniform", automatic=True, seed=0)
    images = sorted(p.name for p in (root / "labeled-data" / CLIP).glob("*.png"))
    pr.refine_labels(config, clip, moves={images[0]: {"snout": [101.25, 88.5]}}, pcutoff=0)
    pr.merge_datasets(config)
    pr.create_training_dataset(config, Shuffles=[1], net_type="mobilenet_v4_small")
    return root


def h5_digest(location: Path) -> str:
    """sha256 of an HDF5 file's nodes: path, class, attributes and data (not the write times)."""
    import numpy as np
    import tables

    digest = hashlib.sha256()
    with tables.open_file(str(location), "r") as handle:
        for node in sorted(handle.walk_nodes("/"), key=lambda n: n._v_pathname):
            digest.update(f"{node._v_pathname}|{type(node).__name__}".encode())
            attributes = node._v_attrs
            for name in sorted(attributes._v_attrnames):
                digest.update(f"{name}={attributes[name]!r}".encode())
            if isinstance(node, tables.Leaf):
                data = node.read()
                if isinstance(data, np.ndarray) and data.dtype != object:
                    digest.update(f"{data.dtype}{data.shape}".encode() + data.tobytes())
                else:
                    digest.update(pickle.dumps(data.tolist() if isinstance(data, np.ndarray) else data))
    return digest.hexdigest()


def digests(root: Path) -> dict[str, str]:
    """{path relative to the project: digest} of every output file (see the module's description)."""
    out = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or path.name in SKIPPED_NAMES or path.name.endswith(SKIPPED_SUFFIXES):
            continue
        if relative.startswith("dlc-models-pytorch/") or "/." in f"/{relative}":
            continue  # model folders (configs, snapshots, logs) and hidden working files
        if relative.startswith(("labeled-data/m4s1/img", "time-lapse/img")):
            continue  # inputs
        if path.suffix == ".h5":
            out[relative] = h5_digest(path)
        else:
            data = path.read_bytes()
            if path.suffix in (".csv", ".yaml"):
                data = data.replace(str(root).encode(), b"<root>")
            out[relative] = hashlib.sha256(data).hexdigest()
    return out


def model_free(relative: str) -> bool:
    return relative.startswith(MODEL_FREE)


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"record into {RECORDING.name}")
    args = parser.parse_args(argv)
    shared = Path(os.environ.get("POSERING_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
    with tempfile.TemporaryDirectory() as work:
        found = digests(run_pipeline(shared, Path(work)))
    recording = {"environment": environment(), "files": found}
    text = json.dumps(recording, indent=1, sort_keys=True) + "\n"
    if args.write:
        RECORDING.write_text(text)
        print(f"recorded {len(found)} files in {RECORDING}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
