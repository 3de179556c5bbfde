"""Post-processing of pose tables: filters, skeleton features, outlier candidates.

Pure functions on pandas DataFrames in DeepLabCut's analysis layout (see `poses`); reading and
writing the files is left to the callers, which route it through posering's storage.
"""

from posering.post.filters import arima_filter_series, filter_poses
from posering.post.outliers import find_outlier_candidates, select_frames
from posering.post.pose_table import PosesError, validate_poses
from posering.post.skeleton import skeleton_features

__all__ = [
    "PosesError",
    "arima_filter_series",
    "filter_poses",
    "find_outlier_candidates",
    "select_frames",
    "skeleton_features",
    "validate_poses",
]
