"""Every file and folder name of a project, in DeepLabCut 3's words, computed here and only here.

A project moves between posering and DeepLabCut because both agree on these names
(see DLC_FORMATS.md, section 2). Functions return locations (local paths or s3 URLs) built with
:func:`posering.storage.join`.
"""

from __future__ import annotations

import math

from posering import storage
from posering.project.config import ProjectConfig

MODELS_DIR = "dlc-models-pytorch"
EVALUATION_DIR = "evaluation-results-pytorch"
LABELED_DATA = "labeled-data"
LABELING_STATE = ".posering-labeling.yaml"  # the desktop client's place in a folder (frame, bodypart)
# Ray Train's and Ray Tune's own bookkeeping (which snapshot is a run's checkpoint, experiment
# state for resuming): beside the project's data, on the same storage, so every node reaches it.
RAY_RUNS = "ray-runs"
MODEL_COMPARISON = "model-comparison"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".mpg", ".mpeg", ".wmv", ".m4v", ".h264")


def trainset_percent(fraction: float) -> int:
    """DeepLabCut's ``int(100 * fraction)`` (kept exactly, so folder names agree)."""
    return int(100 * fraction)


def frame_digits(nframes: int) -> int:
    """Zero-padding of frame file names: ``ceil(log10(nframes))`` digits, at least one."""
    return max(1, int(math.ceil(math.log10(max(nframes, 1)))))


def frame_image_name(index: int, nframes: int) -> str:
    """``img<index>.png`` zero-padded to the video's digit count (``img0042.png``)."""
    return f"img{index:0{frame_digits(nframes)}d}.png"


def frame_index_from_name(image_name: str) -> int | None:
    """The frame index encoded in ``img0042.png``, or None for other names."""
    base = storage.name(image_name)
    if not base.startswith("img"):
        return None
    digits = base[3:].split(".", 1)[0]
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
        return storage.join(self.root, "videos")

    @property
    def labeled_data_dir(self) -> str:
        return storage.join(self.root, LABELED_DATA)

    def labeled_folder(self, video_stem: str) -> str:
        return storage.join(self.labeled_data_dir, video_stem)

    def checked_labels_folder(self, video_stem: str) -> str:
        return storage.join(self.labeled_data_dir, f"{video_stem}_labeled")

    def collected_data(self, video_stem: str, suffix: str = ".h5") -> str:
        return storage.join(self.labeled_folder(video_stem), f"CollectedData_{self.config.scorer}{suffix}")

    def damaged_collected_data(self, video_stem: str) -> str:
        """Where convertcsv2h5 keeps a damaged ``CollectedData_<scorer>.h5`` it rebuilt from the CSV."""
        return self.collected_data(video_stem, ".h5.damaged")

    def machine_labels(self, video_stem: str, iteration: int | None = None) -> str:
        iteration = self.config.iteration if iteration is None else iteration
        return storage.join(self.labeled_folder(video_stem), f"machinelabels-iter{iteration}.h5")

    def machine_labels_csv(self, video_stem: str) -> str:
        """``machinelabels.csv``: DeepLabCut's CSV twin of the latest machine labels (no iteration)."""
        return storage.join(self.labeled_folder(video_stem), "machinelabels.csv")

    def labeling_state(self, video_stem: str) -> str:
        """Where the desktop client was in a labeled-data folder (image, bodypart), to resume there."""
        return storage.join(self.labeled_folder(video_stem), LABELING_STATE)

    def outliers_labeled_folder(self, video_stem: str) -> str:
        """Outlier frames drawn with their machine labels (``savelabeled``); ``_labeled`` keeps it
        out of the datasets, as check_labels' folder is."""
        return storage.join(self.labeled_data_dir, f"{video_stem}_outliers_labeled")

    # -- training datasets -------------------------------------------------------------------------------
    def iteration_name(self, iteration: int | None = None) -> str:
        return f"iteration-{self.config.iteration if iteration is None else iteration}"

    def dataset_dir(self, iteration: int | None = None) -> str:
        return storage.join(self.root, "training-datasets", self.iteration_name(iteration),
                            f"UnaugmentedDataSet_{self.config.task}{self.config.date}")

    def dataset_collected_data(self, iteration: int | None = None, suffix: str = ".h5") -> str:
        return storage.join(self.dataset_dir(iteration), f"CollectedData_{self.config.scorer}{suffix}")

    def dataset_metadata(self, iteration: int | None = None) -> str:
        return storage.join(self.dataset_dir(iteration), "metadata.yaml")

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
        return storage.join(self.dataset_dir(iteration), f"split-shuffle{shuffle}.json")

    def _documentation(self, fraction: float, shuffle: int, iteration: int | None, suffix: str) -> str:
        name = f"Documentation_data-{self.config.task}_{trainset_percent(fraction)}shuffle{shuffle}{suffix}"
        return storage.join(self.dataset_dir(iteration), name)

    # -- models and evaluation -----------------------------------------------------------------------------
    def shuffle_name(self, fraction: float, shuffle: int) -> str:
        return f"{self.config.task}{self.config.date}-trainset{trainset_percent(fraction)}shuffle{shuffle}"

    def model_folder(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        return storage.join(self.root, MODELS_DIR, self.iteration_name(iteration),
                            self.shuffle_name(fraction, shuffle))

    def train_dir(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        return storage.join(self.model_folder(fraction, shuffle, iteration), "train")

    def test_dir(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        return storage.join(self.model_folder(fraction, shuffle, iteration), "test")

    def model_config_file(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        return storage.join(self.train_dir(fraction, shuffle, iteration), "pytorch_config.yaml")

    def pose_cfg_file(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        return storage.join(self.test_dir(fraction, shuffle, iteration), "pose_cfg.yaml")

    def evaluation_folder(self, fraction: float, shuffle: int, iteration: int | None = None) -> str:
        return storage.join(self.root, EVALUATION_DIR, self.iteration_name(iteration),
                            self.shuffle_name(fraction, shuffle))

    def combined_evaluation(self, iteration: int | None = None) -> str:
        return storage.join(self.root, EVALUATION_DIR, self.iteration_name(iteration),
                            "CombinedEvaluation-results.csv")

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
        return storage.join(self.model_comparison_dir, f"plan-{key}.yaml")

    @property
    def leaderboard_file(self) -> str:
        return storage.join(self.model_comparison_dir, "leaderboard.csv")

    @property
    def leaderboard_plot(self) -> str:
        return storage.join(self.model_comparison_dir, "test-rmse-vs-minutes.png")

    @property
    def comparison_winner(self) -> str:
        """The winning shuffle and snapshot, what ``shuffle="best"`` means for later steps."""
        return storage.join(self.model_comparison_dir, "best.yaml")


# -- analysis outputs (beside the video, or in destfolder) --------------------------------------------
def analysis_base(video: str, scorer: str, destfolder: str | None = None) -> str:
    """``<folder>/<video stem><scorer>``: every analysis output adds its suffix to this."""
    folder = destfolder if destfolder else storage.parent(video)
    return storage.join(folder, f"{storage.stem(video)}{scorer}")


def analysis_file(video: str, scorer: str, destfolder: str | None = None, filtered: bool = False,
                  suffix: str = ".h5") -> str:
    return analysis_base(video, scorer, destfolder) + ("_filtered" if filtered else "") + suffix


def analysis_meta_file(video: str, scorer: str, destfolder: str | None = None, suffix: str = ".yaml") -> str:
    """``<stem><scorer>_meta.yaml`` (posering's record of the run) or ``_meta.pickle`` (DeepLabCut's)."""
    return analysis_base(video, scorer, destfolder) + "_meta" + suffix


def posering_settings_file(model_config_file: str) -> str:
    """``train/posering.yaml``: posering's own settings of a model, beside its pytorch_config.yaml."""
    return storage.join(storage.parent(model_config_file), "posering.yaml")


def skeleton_file(video: str, scorer: str, destfolder: str | None = None, suffix: str = ".h5") -> str:
    return analysis_base(video, scorer, destfolder) + "_skeleton" + suffix


def labeled_video_file(video: str, scorer: str, pcutoff: float, filtered: bool = False,
                       destfolder: str | None = None) -> str:
    """DeepLabCut 3's name: ``<stem><scorer>[_filtered]_p<int(100*pcutoff)>_labeled.mp4``."""
    base = analysis_base(video, scorer, destfolder) + ("_filtered" if filtered else "")
    return f"{base}_p{int(100 * pcutoff)}_labeled.mp4"


def time_lapse_file(directory: str, scorer: str, suffix: str = ".h5") -> str:
    """``<folder>/<folder name><scorer>.h5``: the poses of a folder of images."""
    return storage.join(directory, storage.name(directory) + scorer) + suffix


def plot_poses_folder(video: str, destfolder: str | None = None) -> str:
    folder = destfolder if destfolder else storage.parent(video)
    return storage.join(folder, "plot-poses", storage.stem(video))


def labeled_frames_folder(video: str, destfolder: str | None = None) -> str:
    """``temp-<stem>/``: the PNG frames that ``create_labeled_video(save_frames=True)`` keeps."""
    folder = destfolder if destfolder else storage.parent(video)
    return storage.join(folder, f"temp-{storage.stem(video)}")


# -- run reports of cluster jobs (beside the outputs) -------------------------------------------------
RUN_REPORTS_DIR = "posering-runs"
RUN_REPORT_FILES = {"report": "report.md", "videos": "videos.csv", "nodes": "nodes.csv",
                    "throughput": "throughput.png"}


def run_report_files(folder: str, run_name: str) -> dict[str, str]:
    """``<folder>/posering-runs/<run>/{report.md, videos.csv, nodes.csv, throughput.png}``: one
    analysis job's report (its name starts with its UTC start time, so runs sort in order)."""
    base = storage.join(folder, RUN_REPORTS_DIR, run_name)
    return {key: storage.join(base, name) for key, name in RUN_REPORT_FILES.items()}
