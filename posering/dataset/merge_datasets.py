"""merge_datasets: close a refinement round and start the next iteration.

After outlier frames were extracted (``machinelabels-iter<N>.h5``) and corrected into
``CollectedData_<scorer>.h5``, every labeled-data folder must hold human labels. If so, config's
``iteration`` goes up by one, and the next create_training_dataset writes its dataset and model
folders under ``iteration-<N+1>``; earlier iterations stay as they are.
"""

from __future__ import annotations

import logging

from posering import storage
from posering.dataset.collect import collect_labels
from posering.errors import DatasetError
from posering.project import ProjectPaths, load_config
from posering.project.paths import is_video_folder

log = logging.getLogger("posering.dataset")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def merge_datasets(config: str, forceiterate: int | None = None) -> int:
    """Check that every labeled-data folder is labeled, then move the project to the next iteration.

    Returns the new iteration.

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    forceiterate: set iteration to this number instead of adding one.
    """
    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    labeled_dir = paths.labeled_data_dir
    for entry in storage.listdir(labeled_dir):
        folder = storage.join(labeled_dir, entry)
        if not is_video_folder(entry) or not storage.isdir(folder):
            continue
        names = storage.listdir(folder)
        if not any(n.lower().endswith(IMAGE_SUFFIXES) for n in names):
            continue  # a video's folder with no frames yet: nothing to label
        if storage.name(paths.collected_data(entry)) not in names:
            machine = sorted(n for n in names if n.startswith("machinelabels"))
            hint = (f"correct its {machine[-1]} in the labeling GUI and save" if machine
                    else "label its frames")
            raise DatasetError(f"{folder}: no CollectedData_{cfg.scorer}.h5; {hint}, or remove the "
                               "folder, then run merge_datasets again")
    # The same checks as create_training_dataset, so a bad label is found now, not at the next step.
    table = collect_labels(cfg)
    previous = cfg.iteration
    iteration = int(forceiterate) if forceiterate is not None else previous + 1
    if iteration < 0:
        raise DatasetError(f"forceiterate={forceiterate}: iterations are numbered from 0")
    cfg["iteration"] = iteration
    cfg.save()
    log.info("%d labeled frames checked; iteration %d -> %d in %s. Next: create_training_dataset",
             len(table), previous, iteration, cfg.location)
    return iteration
