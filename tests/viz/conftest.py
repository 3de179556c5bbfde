"""A project whose video has known poses (see tests/posed_project.py)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.posed_project import make_posed_project


@pytest.fixture
def posed_project(tmp_path, synthetic_video):
    """(config path, video path, true keypoints (120, 4, 2), scorer); analysis file beside the video.

    Every point has likelihood 0.9 except the tail base in frames 60-69 (0.1: below pcutoff).
    """
    video, truth = synthetic_video
    likelihood = np.full(truth.shape[:2], 0.9)
    likelihood[60:70, 3] = 0.1
    config, project_video, scorer = make_posed_project(str(tmp_path), video, truth, likelihood, dotsize=4,
                                                       alphavalue=1.0, pcutoff=0.6)
    return config, project_video, truth, scorer
