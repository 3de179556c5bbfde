"""``posering demo``: the whole workflow on a synthetic project, with nothing to download.

1. render a video of a synthetic animal and create a project for it, with 40 labeled frames;
2. create a training dataset and train a small network briefly (resnet_18, random init);
3. evaluate it (RMSE on train and test frames);
4. analyze the video on a local Ray instance;
5. plot the trajectories and write a labeled video;
and say where everything is. It runs in a few minutes on a laptop CPU.
"""

from __future__ import annotations

import logging
import tempfile
import time

import numpy as np

from posering import storage
from posering.demo.synthetic import BODYPARTS, SKELETON, Scene, render_video
from posering.formats import labels
from posering.frames.images import save_frames
from posering.project import ProjectConfig, ProjectPaths
from posering.project.create_new_project import create_new_project
from posering.project.paths import LABELED_DATA, frame_image_name

log = logging.getLogger("posering.demo")

DEMO_NET = "resnet_18"


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
    # A network trained for minutes is right before it is sure: its likelihoods sit around 0.5.
    config["pcutoff"] = 0.3
    config.save()

    video = next(iter(config.video_sets))
    stem = storage.stem(video)
    folder = ProjectPaths(config).labeled_folder(stem)
    chosen = np.linspace(0, nframes - 1, nlabeled).round().astype(int)
    save_frames(video, chosen, folder)
    relpaths = [f"{LABELED_DATA}/{stem}/{frame_image_name(i, nframes)}" for i in chosen]
    table = labels.from_arrays(config.scorer, BODYPARTS, relpaths, truth[chosen])
    labels.write_labels(table, ProjectPaths(config).collected_data(stem))
    storage.write_text(storage.join(out, "ground-truth.csv"), _truth_csv(truth))
    return config_path


def _truth_csv(truth: np.ndarray) -> str:
    header = "frame," + ",".join(f"{bp}_x,{bp}_y" for bp in BODYPARTS)
    rows = [f"{i}," + ",".join(f"{v:.3f}" for v in truth[i].ravel()) for i in range(len(truth))]
    return "\n".join([header, *rows]) + "\n"


def _configure_quick_training(config_path: str, epochs: int) -> None:
    """Small crops and a higher learning rate: the synthetic animal is learned in minutes."""
    from posering.formats.model_config import load_model_config, save_model_config

    config = ProjectConfig.load(config_path)
    model_config_file = ProjectPaths(config).model_config_file(config.training_fractions[0], 1)
    model_config = load_model_config(model_config_file)
    model_config["data"]["train"]["crop_sampling"].update(width=224, height=224)
    model_config["runner"]["optimizer"]["params"]["lr"] = 1e-3
    model_config["runner"]["scheduler"]["params"]["milestones"] = [int(epochs * 0.8), int(epochs * 0.9)]
    model_config["runner"]["eval_interval"] = epochs
    model_config.setdefault("posering", {})["weight_init"] = "none"
    save_model_config(model_config, model_config_file)


def demo(out: str | None = None, epochs: int = 30, quick: bool = False) -> str:
    """Run the whole workflow on a synthetic project and say where everything is.

    Parameters
    ----------
    out: folder for the demo (default: a new temporary folder).
    epochs: training epochs (30 learns the synthetic animal to a few pixels).
    quick: only create the project and its labels (no training or analysis).
    """
    import posering as pr

    started = time.perf_counter()
    out = out or tempfile.mkdtemp(prefix="posering-demo-")
    config_path = make_demo_project(out)
    config = ProjectConfig.load(config_path)
    video = next(iter(config.video_sets))
    log.info("1/5 demo project: %s (video %s, %d labeled frames)", config.project_path, storage.name(video),
             config["numframes2pick"])
    if quick:
        return config_path

    pr.create_training_dataset(config_path, net_type=DEMO_NET)
    _configure_quick_training(config_path, epochs)
    log.info("2/5 training %s for %d epochs (random init) ...", DEMO_NET, epochs)
    pr.train_network(config_path, epochs=epochs, save_epochs=epochs)
    log.info("3/5 evaluating ...")
    results = pr.evaluate_network(config_path)
    log.info("4/5 analyzing the video on a local Ray instance ...")
    pr.analyze_videos(config_path, [video], save_as_csv=True, num_workers=1)
    log.info("5/5 plots and a labeled video ...")
    pr.plot_trajectories(config_path, [video])
    pr.create_labeled_video(config_path, [video], draw_skeleton=True, trailpoints=5)
    _report(config, video, results, time.perf_counter() - started)
    return config_path


def _report(config: ProjectConfig, video: str, results, seconds: float) -> None:
    from posering.project.models import resolve_model
    from posering.project.paths import analysis_file, labeled_video_file, plot_poses_folder

    scorer = resolve_model(config).scorer
    paths = ProjectPaths(config)
    print(f"\nposering demo finished in {seconds / 60:.1f} minutes. Where everything is:")
    print(f"  project        {config.location}")
    print(f"  labels         {paths.labeled_data_dir}")
    print(f"  model          {paths.model_folder(config.training_fractions[0], 1)}")
    print(f"  evaluation     {paths.evaluation_folder(config.training_fractions[0], 1)}")
    if results is not None and hasattr(results, "to_string"):
        print("\n" + results.to_string() + "\n")
    print(f"  poses          {analysis_file(video, scorer)}")
    print(f"  plots          {plot_poses_folder(video)}")
    print(f"  labeled video  {labeled_video_file(video, scorer, config['pcutoff'])}")
