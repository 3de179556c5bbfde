"""convertcsv2h5: each labeled-data folder's ``CollectedData_<scorer>.h5`` rebuilt from its CSV twin.

As DeepLabCut's ``convertcsv2h5``: for labels typed or corrected in a spreadsheet, or an ``.h5``
that was damaged (copied halfway, a full disk), the ``.csv`` becomes the ``.h5`` again and both
are written so that they agree. Unlike DeepLabCut's, it never loses a label: where the ``.h5``
still reads, its points that the ``.csv`` leaves empty are kept (a label is removed only by
deleting it while labeling), and an ``.h5`` that HDF5 cannot read is kept aside as
``CollectedData_<scorer>.h5.damaged`` rather than overwritten.
"""

from __future__ import annotations

import logging
import sys

from posering import storage
from posering.errors import LabelsError
from posering.formats import labels
from posering.project import ProjectPaths, load_config
from posering.project.videos import dataset_video_stems

log = logging.getLogger("posering.labeling")


def convertcsv2h5(config: str, userfeedback: bool = False, scorer: str | None = None) -> dict[str, dict]:
    """Write every labeled-data folder's CollectedData_<scorer>.h5 from its .csv.

    Returns, per video (labeled-data folder), the .h5 written, its number of labeled images and,
    where the old .h5 could not be read, where it was kept.

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    userfeedback: ask on the terminal before each folder (never asks when stdin is not a terminal).
    scorer: the scorer written into the tables (default: config.yaml's scorer); the files read
        are always CollectedData_<config's scorer>.csv, as in DeepLabCut.
    """
    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    scorer = scorer or cfg.scorer
    results = {}
    for stem in dataset_video_stems(cfg):
        csv = paths.collected_data(stem, ".csv")
        if not storage.exists(csv):
            log.info("%s: no %s; nothing to convert", stem, storage.name(csv))
            continue
        if userfeedback and not _confirm(csv):
            continue
        results[stem] = _convert(paths, stem, csv, scorer)
    if not results:
        log.warning("no labeled-data folder has a CollectedData_%s.csv to convert", cfg.scorer)
    return results


def _convert(paths: ProjectPaths, stem: str, csv: str, scorer: str) -> dict:
    table = labels.read_labels(csv)
    table.columns = table.columns.set_levels([scorer], level=0)
    h5 = paths.collected_data(stem)
    kept_aside = None
    if storage.exists(h5):
        try:
            existing = labels.read_labels(h5)
        except LabelsError as exc:
            kept_aside = paths.damaged_collected_data(stem)
            storage.copy(h5, kept_aside)
            log.warning("%s; kept it as %s", str(exc).split(";")[0], storage.name(kept_aside))
        else:
            existing.columns = existing.columns.set_levels([scorer], level=0)
            table = labels.merge_keeping_existing(existing, table)
    labels.write_labels(table, h5)
    count = int(table.notna().any(axis=1).sum())
    log.info("%s: wrote %s (%d labeled images) and its .csv", stem, storage.name(h5), count)
    return {"h5": h5, "labeled_images": count, "damaged_copy": kept_aside}


def _confirm(csv: str) -> bool:
    """Ask on a terminal; without one (a job, a pipe) convert without asking."""
    if not sys.stdin or not sys.stdin.isatty():
        log.info("userfeedback: stdin is not a terminal; converting %s without asking", csv)
        return True
    return input(f"Convert {csv} to .h5? [yes/no] ").strip().lower() in ("y", "yes")
