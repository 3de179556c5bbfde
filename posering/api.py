"""The public API, in DeepLabCut's words: one entry per workflow step.

``import posering as pr; pr.create_new_project(...)`` and ``posering create_new_project ...`` both
come from this table, so the command line always offers exactly the API's functions with the
same parameter names. Entries are imported lazily: ``import posering`` stays fast and does not
pull in torch or Ray until a step that needs them is called.
"""

from __future__ import annotations

import importlib
from typing import Callable

# name -> "module:function". Order is the workflow's order (used by `posering --help`).
ENTRIES: dict[str, str] = {
    "demo": "posering.demo:demo",
    "gui": "posering.gui:gui",
    "create_new_project": "posering.project.create_new_project:create_new_project",
    "add_new_videos": "posering.project.add_new_videos:add_new_videos",
    "extract_frames": "posering.frames.extract_frames:extract_frames",
    "check_labels": "posering.viz.check_labels:check_labels",
    "convertcsv2h5": "posering.labeling.convertcsv2h5:convertcsv2h5",
    "create_training_dataset": "posering.dataset.create_training_dataset:create_training_dataset",
    "create_training_model_comparison": "posering.dataset.create_training_model_comparison:create_training_model_comparison",
    "train_network": "posering.train.train_network:train_network",
    "compare_models": "posering.train.compare_models:compare_models",
    "evaluate_network": "posering.evaluate.evaluate_network:evaluate_network",
    "extract_save_all_maps": "posering.evaluate.extract_save_all_maps:extract_save_all_maps",
    "analyze_videos": "posering.analyze.analyze_videos:analyze_videos",
    "analyze_time_lapse_frames": "posering.analyze.analyze_time_lapse_frames:analyze_time_lapse_frames",
    "filterpredictions": "posering.post.filterpredictions:filterpredictions",
    "analyzeskeleton": "posering.post.analyzeskeleton:analyzeskeleton",
    "plot_trajectories": "posering.viz.plot_trajectories:plot_trajectories",
    "create_labeled_video": "posering.viz.create_labeled_video:create_labeled_video",
    "extract_outlier_frames": "posering.frames.extract_outlier_frames:extract_outlier_frames",
    "load_for_refinement": "posering.labeling.refine_labels:load_for_refinement",
    "refine_labels": "posering.labeling.refine_labels:refine_labels",
    "merge_datasets": "posering.dataset.merge_datasets:merge_datasets",
    "export_dlc": "posering.interop.export_dlc:export_dlc",
}


def resolve(name: str) -> Callable:
    module_name, function_name = ENTRIES[name].split(":")
    return getattr(importlib.import_module(module_name), function_name)
