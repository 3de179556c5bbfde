"""Every file and folder name of a project, in DeepLabCut 3's words, computed here and only here.

A project moves between posering and DeepLabCut because both agree on these names
(see DLC_FORMATS.md, section 2). Functions return locations (local paths or s3 URLs) built with
:func:`posering.storage.join`.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from posering import storage

if TYPE_CHECKING:  # config.py names config.yaml from here: no import cycle at run time
    from posering.project.config import ProjectConfig

# Every name below is enforced by tests/project/test_path_literals.py: an upper-case constant here
# may not appear as a literal anywhere else in the package.
CONFIG_FILE = "config.yaml"
VIDEOS_DIR = "videos"
LABELED_DATA = "labeled-data"
TRAINING_DATASETS_DIR = "training-datasets"
TF_MODELS_DIR = "dlc-models"  # DeepLabCut creates it (TensorFlow models); kept for its layout
MODELS_DIR = "dlc-models-pytorch"
EVALUATION_DIR = "evaluation-results-pytorch"
NEW_PROJECT_DIRS = (VIDEOS_DIR, LABELED_DATA, TRAINING_DATASETS_DIR, TF_MODELS_DIR)
CHECKED_LABELS_SUFFIX = "_labeled"
OUTLIERS_LABELED_SUFFIX = "_outliers_labeled"
COLLECTED_DATA_PREFIX = "CollectedData_"
DAMAGED_SUFFIX = ".damaged"
MACHINE_LABELS_PREFIX = "machinelabels-iter"
MACHINE_LABELS_CSV = "machinelabels.csv"
ITERATION_PREFIX = "iteration-"
DATASET_PREFIX = "UnaugmentedDataSet_"
DATASET_METADATA = "metadata.yaml"
DOCUMENTATION_PREFIX = "Documentation_data-"
SPLIT_JSON_PREFIX = "split-shuffle"
TRAIN_DIR, TEST_DIR = "train", "test"
MODEL_CONFIG = "pytorch_config.yaml"
POSE_CFG = "pose_cfg.yaml"
POSERING_SETTINGS = "posering.yaml"
LEARNING_STATS = "learning_stats.csv"
TRAINING_LOG = "train.txt"
LEARNING_CURVE = "learning_curve.png"
COMBINED_EVALUATION = "CombinedEvaluation-results.csv"
COMPARISON_PLAN_PREFIX = "plan-"
LEADERBOARD = "leaderboard.csv"
LEADERBOARD_PLOT = "test-rmse-vs-minutes.png"
COMPARISON_WINNER = "best.yaml"
FRAME_IMAGE_PREFIX = "img"
FILTERED_SUFFIX = "_filtered"
META_SUFFIX = "_meta"
SKELETON_SUFFIX = "_skeleton"
LABELED_VIDEO_SUFFIX = "_labeled.mp4"
PLOT_POSES_DIR = "plot-poses"
LABELED_FRAMES_PREFIX = "temp-"
PARTS_DIR = ".posering-parts"  # pieces of an unfinished analysis or labeled video, beside its output
PART_PREFIX, SEGMENT_PREFIX = "part-", "segment-"
PREVIOUS_RUN_PREFIX = "previous-run-"  # train/ snapshots of an earlier run, moved aside
RAY_CHECKPOINT_POINTER = "snapshot.json"  # a Ray Train checkpoint: names the snapshot in train/
RAY_WORKER_STARTED = "worker-{rank}-started"  # in a Ray Train run's folder: that worker started once
COMPARISON_EXPERIMENT_PREFIX, TRAINING_EXPERIMENT_PREFIX = "compare-", "train-shuffles-"
EXPORTED_MODELS_DIR = "exported-models-dlc"
EVALUATION_RESULTS_SUFFIX = "-results.csv"
KEYPOINT_RESULTS_SUFFIX = "-keypoint-results.csv"
LABELED_IMAGES_PREFIX = "LabeledImages_"
SCOREMAPS_DIR, SCOREMAP_SUFFIX, LOCREF_SUFFIX = "maps", "_scmap.png", "_locref.png"
LABELING_STATE = ".posering-labeling.yaml"  # the desktop client's place in a folder (frame, bodypart)
# Ray Train's and Ray Tune's own bookkeeping (which snapshot is a run's checkpoint, experiment
# state for resuming): beside the project's data, on the same storage, so every node reaches it.
RAY_RUNS = "ray-runs"
MODEL_COMPARISON = "model-comparison"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".mpg", ".mpeg", ".wmv", ".m4v", ".h264")


def trainset_percent(fraction: float) -> int:
    """DeepLabCut's ``int(100 * fraction)`` (kept exactly, so folder names agree)."""
    return int(100 * fraction)


def is_video_folder(name: str) -> bool:
    """A labeled-data entry holding a video's frames: not hidden, not a ``*_labeled`` drawing of one."""
    return not name.startswith(".") and not name.endswith(CHECKED_LABELS_SUFFIX)


def is_labeled_video(name: str) -> bool:
    """posering's and DeepLabCut's labeled videos, which live beside the originals."""
    return name.endswith(LABELED_VIDEO_SUFFIX)


def is_collected_data(name: str) -> bool:
    """A ``CollectedData_<any scorer>.h5/.csv`` file name."""
    return name.startswith(COLLECTED_DATA_PREFIX) and name.endswith((".h5", ".csv"))


def machine_labels_iteration(name: str) -> int | None:
    """The iteration of a ``machinelabels-iter<N>.h5`` file name, or None for other names."""
    match = re.fullmatch(rf"{re.escape(MACHINE_LABELS_PREFIX)}(\d+)\.h5", name)
    return int(match.group(1)) if match else None


def frame_digits(nframes: int) -> int:
    """Zero-padding of frame file names: ``ceil(log10(nframes))`` digits, at least one."""
    return max(1, int(math.ceil(math.log10(max(nframes, 1)))))


def frame_image_name(index: int, nframes: int) -> str:
    """``img<index>.png`` zero-padded to the video's digit count (``img0042.png``)."""
    return f"{FRAME_IMAGE_PREFIX}{index:0{frame_digits(nframes)}d}.png"


def frame_index_from_name(image_name: str) -> int | None:
    """The frame index encoded in ``img0042.png``, or None for other names."""
    base = storage.name(image_name)
    if not base.startswith(FRAME_IMAGE_PREFIX):
        return None
    digits = base[len(FRAME_IMAGE_PREFIX):].split(".", 1)[0]
    return int(digits) if digits.isdigit() else None


def net_display_name(net_type: str) -> str:
    """``resnet_50`` -> ``Resnet50``: split on ``_``, each part capitalised (DeepLabCut 3's scorer names)."""
    return "".join(part[:1].upper() + part[1:] for part in net_type.split("_"))


def scorer_name(net_type: str, task: str, date: str, shuffle: int, snapshot_uid: str | int) -> str:
    """DeepLabCut 3's scorer: ``DLC_Resnet50_openfieldOct30shuffle1_snapshot_200``."""
    return f"DLC_{net_display_name(net_type)}_{task}{date}shuffle{shuffle}_snapshot_{snapshot_uid}"


class ProjectPaths:
    """The locations of one project's files, derived from its config."""

    def __init__(self, config: ProjectConfig):
        self.config = config
        self.root = config.project_path

    # -- videos and labels ---------------------------------------------------------------------------
    @property
    def videos_dir(self) -> str:
        return storage.join(self.root, VIDEOS_DIR)

    @property
    def labeled_data_dir(self) -> str:
        return storage.join(self.root, LABELED_DATA)

    def labeled_folder(self, video_stem: str) -> str:
        return storage.join(self.labeled_data_dir, video_stem)

    def checked_labels_folder(self, video_stem: str) -> str:
        return storage.join(self.labeled_data_dir, video_stem + CHECKED_LABELS_SUFFIX)

    def collected_data(self, video_stem: str, suffix: str = ".h5") -> str:
        return storage.join(self.labeled_folder(video_stem), f"{COLLECTED_DATA_PREFIX}{self.config.scorer}{suffix}")

    def damaged_collected_data(self, video_stem: str) -> str:
        """Where convertcsv2h5 keeps a damaged ``CollectedData_<scorer>.h5`` it rebuilt from the CSV."""
        return self.collected_data(video_stem, ".h5" + DAMAGED_SUFFIX)

    def machine_labels(self, video_stem: str, iteration: int | None = None) -> str:
        iteration = self.config.iteration if iteration is None else iteration
        return storage.join(self.labeled_folder(video_stem), f"{MACHINE_LABELS_PREFIX}{iteration}.h5")

    def machine_labels_csv(self, video_stem: str) -> str:
        """``machinelabels.csv``: DeepLabCut's CSV twin of the latest machine labels (no iteration)."""
        return storage.join(self.labeled_folder(video_stem), MACHINE_LABELS_CSV)

    def labeling_state(self, video_stem: str) -> str:
        """Where the desktop client was in a labeled-data folder (image, bodypart), to resume there."""
        return storage.join(self.labeled_folder(video_stem), LABELING_STATE)

    def outliers_labeled_folder(self, video_stem: str) -> str:
        """Outlier frames drawn with their machine labels (``savelabeled``); ``_labeled`` keeps it
        out of the datasets, as check_labels' folder is."""
        return storage.join(self.labeled_data_dir, video_stem + OUTLIERS_LABELED_SUFFIX)

    # -- training datasets -------------------------------------------------------------------------------
    def iteration_name(self, iteration: int | None = None) -> str:
        return f"{ITERATION_PREFIX}{self.config.iteration if iteration is None else iteration}"

    def dataset_dir(self, iteration: int | None = None) -> str:
        return storage.join(self.root, TRAINING_DATASETS_DIR, self.iteration_name(iteration),
                            f"{DATASET_PREFIX}{self.config.task}{self.config.date}")

    def dataset_collected_data(self, iteration: int | None = None, suffix: str = ".h5") -> str:
        return storage.join(self.dataset_dir(iteration), f"{COLLECTED_DATA_PREFIX}{self.config.scorer}{suffix}")

    def dataset_metadata(self, iteration: int | None = None) -> str:
        return storage.join(self.dataset_dir(iteration), DATASET_METADATA)

    def split_file(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        """posering's readable split record: DeepLabCut's Documentation_data file, in YAML."""
        return self._documentation(fraction, shuffle, iteration, ".yaml")

    def split_pickle(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        """DeepLabCut's split record, ``Documentation_data-<Task>_<pct>shuffle<k>.pickle``."""
        return self._documentation(fraction, shuffle, iteration, ".pickle")

    def training_mat(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        """DeepLabCut's training file of a shuffle, ``<Task>_<scorer><pct>shuffle<k>.mat``."""
        name = f"{self.config.task}_{self.config.scorer}{trainset_percent(fraction)}shuffle{shuffle}.mat"
        return storage.join(self.dataset_dir(iteration), name)

    def split_json(self, shuffle: int, iteration: int | None = None) -> str:
        """``split-shuffle<k>.json``: a split written out as JSON (train_indices, test_indices)."""
        return storage.join(self.dataset_dir(iteration), f"{SPLIT_JSON_PREFIX}{shuffle}.json")

    def _documentation(self, fraction: float, shuffle: int, iteration: int | None, suffix: str) -> str:
        name = f"{DOCUMENTATION_PREFIX}{self.config.task}_{trainset_percent(fraction)}shuffle{shuffle}{suffix}"
        return storage.join(self.dataset_dir(iteration), name)

    # -- models and evaluation -----------------------------------------------------------------------------
    def shuffle_name(self, fraction: float, shuffle: int) -> str:
        return f"{self.config.task}{self.config.date}-trainset{trainset_percent(fraction)}shuffle{shuffle}"

    def model_folder(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        return storage.join(self.root, MODELS_DIR, self.iteration_name(iteration),
                            self.shuffle_name(fraction, shuffle))

    def train_dir(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        return storage.join(self.model_folder(fraction, shuffle, iteration), TRAIN_DIR)

    def test_dir(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        return storage.join(self.model_folder(fraction, shuffle, iteration), TEST_DIR)

    def model_config_file(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        return storage.join(self.train_dir(fraction, shuffle, iteration), MODEL_CONFIG)

    def pose_cfg_file(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        return storage.join(self.test_dir(fraction, shuffle, iteration), POSE_CFG)

    def evaluation_folder(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        return storage.join(self.root, EVALUATION_DIR, self.iteration_name(iteration),
                            self.shuffle_name(fraction, shuffle))

    def combined_evaluation(self, iteration: int | None = None) -> str:
        return storage.join(self.root, EVALUATION_DIR, self.iteration_name(iteration),
                            COMBINED_EVALUATION)

    # -- training on Ray, model comparison ----------------------------------------------------------------
    @property
    def ray_runs_dir(self) -> str:
        """Ray Train runs' and Ray Tune experiments' own state (``RunConfig.storage_path``)."""
        return storage.join(self.root, RAY_RUNS)

    @property
    def model_comparison_dir(self) -> str:
        return storage.join(self.root, EVALUATION_DIR, MODEL_COMPARISON)

    def comparison_plan(self, key: str) -> str:
        """The trials (shuffles, net types, sampled settings) of one comparison request."""
        return storage.join(self.model_comparison_dir, f"{COMPARISON_PLAN_PREFIX}{key}.yaml")

    @property
    def leaderboard_file(self) -> str:
        return storage.join(self.model_comparison_dir, LEADERBOARD)

    @property
    def leaderboard_plot(self) -> str:
        return storage.join(self.model_comparison_dir, LEADERBOARD_PLOT)

    @property
    def comparison_winner(self) -> str:
        """The winning shuffle and snapshot, what ``shuffle="best"`` means for later steps."""
        return storage.join(self.model_comparison_dir, COMPARISON_WINNER)


# -- analysis outputs (beside the video, or in destfolder) --------------------------------------------
def analysis_base(video: str, scorer: str, destfolder: str | None = None) -> str:
    """``<folder>/<video stem><scorer>``: every analysis output adds its suffix to this."""
    folder = destfolder if destfolder else storage.parent(video)
    return storage.join(folder, f"{storage.stem(video)}{scorer}")


def analysis_file(video: str, scorer: str, destfolder: str | None = None, filtered: bool = False,
                  suffix: str = ".h5") -> str:
    return analysis_base(video, scorer, destfolder) + (FILTERED_SUFFIX if filtered else "") + suffix


def analysis_meta_file(video: str, scorer: str, destfolder: str | None = None, suffix: str = ".yaml") -> str:
    """``<stem><scorer>_meta.yaml`` (posering's record of the run) or ``_meta.pickle`` (DeepLabCut's)."""
    return analysis_base(video, scorer, destfolder) + META_SUFFIX + suffix


def posering_settings_file(model_config_file: str) -> str:
    """``train/posering.yaml``: posering's own settings of a model, beside its pytorch_config.yaml."""
    return storage.join(storage.parent(model_config_file), POSERING_SETTINGS)


def skeleton_file(video: str, scorer: str, destfolder: str | None = None, suffix: str = ".h5") -> str:
    return analysis_base(video, scorer, destfolder) + SKELETON_SUFFIX + suffix


def labeled_video_file(video: str, scorer: str, pcutoff: float, filtered: bool = False,
                       destfolder: str | None = None) -> str:
    """DeepLabCut 3's name: ``<stem><scorer>[_filtered]_p<int(100*pcutoff)>_labeled.mp4``."""
    base = analysis_base(video, scorer, destfolder) + (FILTERED_SUFFIX if filtered else "")
    return f"{base}_p{int(100 * pcutoff)}{LABELED_VIDEO_SUFFIX}"


def time_lapse_file(directory: str, scorer: str, suffix: str = ".h5") -> str:
    """``<folder>/<folder name><scorer>.h5``: the poses of a folder of images."""
    return storage.join(directory, storage.name(directory) + scorer) + suffix


def plot_poses_folder(video: str, destfolder: str | None = None) -> str:
    folder = destfolder if destfolder else storage.parent(video)
    return storage.join(folder, PLOT_POSES_DIR, storage.stem(video))


def labeled_frames_folder(video: str, destfolder: str | None = None) -> str:
    """``temp-<stem>/``: the PNG frames that ``create_labeled_video(save_frames=True)`` keeps."""
    folder = destfolder if destfolder else storage.parent(video)
    return storage.join(folder, LABELED_FRAMES_PREFIX + storage.stem(video))


# -- run reports of cluster jobs (beside the outputs) -------------------------------------------------
RUN_REPORTS_DIR = "posering-runs"
RUN_REPORT_FILES = {"report": "report.md", "videos": "videos.csv", "nodes": "nodes.csv",
                    "throughput": "throughput.png"}


def run_report_files(folder: str, run_name: str) -> dict[str, str]:
    """``<folder>/posering-runs/<run>/{report.md, videos.csv, nodes.csv, throughput.png}``: one
    analysis job's report (its name starts with its UTC start time, so runs sort in order)."""
    base = storage.join(folder, RUN_REPORTS_DIR, run_name)
    return {key: storage.join(base, name) for key, name in RUN_REPORT_FILES.items()}


# -- pieces of unfinished work, evaluation results --------------------------------------------------
def part_file(parts_dir: str, start: int, stop: int) -> str:
    """``part-<start>-<stop>.npz``: one analysed shard's poses (nine digits, so names sort)."""
    return storage.join(parts_dir, f"{PART_PREFIX}{start:09d}-{stop:09d}.npz")


def part_range(name: str) -> tuple[int, int] | None:
    """The frames ``(start, stop)`` of a part file name, or None for other names."""
    match = re.fullmatch(rf"{re.escape(PART_PREFIX)}(\d+)-(\d+)\.npz", name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def segment_file(parts_dir: str, start: int, stop: int) -> str:
    """``segment-<start>-<stop>.avi``: one rendered range of a labeled video."""
    return storage.join(parts_dir, f"{SEGMENT_PREFIX}{start:09d}-{stop:09d}.avi")


def exported_model_folder(root: str, shuffle_name: str, snapshot_uid: str | int) -> str:
    """``exported-models-dlc/<shuffle name>-snapshot-<uid>``: a model exported for DeepLabCut 3."""
    return storage.join(root, EXPORTED_MODELS_DIR, f"{shuffle_name}-snapshot-{snapshot_uid}")


def evaluation_files(folder: str, scorer: str) -> dict[str, str]:
    """DeepLabCut's evaluation results of one snapshot: predictions (``<scorer>.h5``), results and
    per-keypoint CSVs, the folder of labeled images."""
    return {"predictions": storage.join(folder, f"{scorer}.h5"),
            "results": storage.join(folder, scorer + EVALUATION_RESULTS_SUFFIX),
            "keypoint_results": storage.join(folder, scorer + KEYPOINT_RESULTS_SUFFIX),
            "labeled_images": storage.join(folder, LABELED_IMAGES_PREFIX + scorer)}
