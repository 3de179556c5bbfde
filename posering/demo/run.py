"""``posering demo``: make a small synthetic project with labels, ready for the workflow."""

from __future__ import annotations

import logging
import os
import tempfile

import numpy as np

from posering import labels, storage
from posering.demo.synthetic import BODYPARTS, SKELETON, Scene, render_video
from posering.frames.images import save_frames
from posering.project import ProjectConfig, ProjectPaths
from posering.project.create import create_new_project
from posering.project.paths import frame_image_name

log = logging.getLogger("posering.demo")


def make_demo_project(out: str, nframes: int = 300, nlabeled: int = 40, seed: int = 0) -> str:
    """Render a synthetic video, create a project for it and label ``nlabeled`` frames.

    Returns the config path. Labels are the renderer's exact keypoints.
    """
    out = storage.normalize(out)
    storage.makedirs(out)
    scene = Scene(nframes=nframes, seed=seed)
    raw_video = storage.join(out, "demo-mouse.mp4")
    truth = render_video(raw_video, scene)
    config_path = create_new_project("demo", "posering", [raw_video], working_directory=out, copy_videos=True)
    config = ProjectConfig.load(config_path)
    config["bodyparts"] = BODYPARTS
    config["skeleton"] = SKELETON
    config["numframes2pick"] = nlabeled
    config["dotsize"] = 5
    config["batch_size"] = 8
    config.save()

    video = next(iter(config.video_sets))
    stem = storage.stem(video)
    folder = ProjectPaths(config).labeled_folder(stem)
    chosen = np.linspace(0, nframes - 1, nlabeled).round().astype(int)
    save_frames(video, chosen, folder)
    relpaths = [f"labeled-data/{stem}/{frame_image_name(i, nframes)}" for i in chosen]
    table = labels.from_arrays(config.scorer, BODYPARTS, relpaths, truth[chosen])
    labels.write_labels(table, ProjectPaths(config).collected_data(stem))
    storage.write_text(storage.join(out, "ground-truth.csv"), _truth_csv(truth))
    return config_path


def _truth_csv(truth: np.ndarray) -> str:
    header = "frame," + ",".join(f"{bp}_x,{bp}_y" for bp in BODYPARTS)
    rows = [f"{i}," + ",".join(f"{v:.3f}" for v in truth[i].ravel()) for i in range(len(truth))]
    return "\n".join([header, *rows]) + "\n"


def demo(out: str | None = None) -> str:
    """Run the built-in demo on a synthetic project and say where everything is.

    Parameters
    ----------
    out: folder for the demo project (default: a new temporary folder).
    """
    out = out or tempfile.mkdtemp(prefix="posering-demo-")
    config_path = make_demo_project(out)
    config = ProjectConfig.load(config_path)
    log.info("demo project: %s", config.project_path)
    log.info("  video:  %s", next(iter(config.video_sets)))
    log.info("  labels: %s", ProjectPaths(config).labeled_data_dir)
    return config_path
