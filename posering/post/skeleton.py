"""Bone features from a pose table: DeepLabCut's ``analyzeskeleton`` on data, without files.

For every bone ``[bp1, bp2]`` (config.yaml ``skeleton``) and every frame:

- ``length``: Euclidean distance between the two points, in pixels.
- ``orientation``: ``degrees(arctan2(y2 - y1, x2 - x1))`` wrapped into [0, 360), the direction
  from bp1 to bp2. DeepLabCut calls this the "anticlockwise" angle from the horizontal; that is
  true in a y-up (mathematical) frame. Image coordinates have y pointing *down*, so on the image
  as a person sees it the angle turns *clockwise* from the +x axis: 0 = bp2 right of bp1,
  90 = bp2 straight below, 180 = left, 270 = straight above. posering keeps DeepLabCut's numbers
  (the formula on raw pixel coordinates, same range) so files and downstream analyses agree;
  negate (``(360 - a) % 360``) for the on-screen anticlockwise angle.
- ``likelihood``: the smaller of the two ends' likelihoods (the bone is only as sure as its
  weaker end). DeepLabCut 3.0.x documents this but its code takes bp2's likelihood twice, so
  its files hold bp2's likelihood; posering writes the documented minimum.

Frames where either end is NaN give NaN length and orientation.

Layout, matching what DeepLabCut writes to ``<video><scorer>_skeleton.h5`` (key
``df_with_missing``, table format): columns are a 2-level MultiIndex with *unnamed* levels,
level 0 the bone name ``f"{bp1}_{bp2}"`` in skeleton order, level 1 ``length, orientation,
likelihood``. There is no scorer level. Rows keep the pose table's index (DeepLabCut's is a
RangeIndex 0..n-1, which is what analysis tables carry). length and orientation are float64;
likelihood keeps the pose table's dtype (float32 for DeepLabCut files).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from posering.post.pose_table import PosesError, get_bodyparts, validate_poses

FEATURES = ("length", "orientation", "likelihood")


def bone_name(bp1: str, bp2: str) -> str:
    """Column name of a bone, as DeepLabCut forms it."""
    return f"{bp1}_{bp2}"


def bone_orientation(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """DeepLabCut's bone angle in degrees, [0, 360), from coordinate differences (see module doc)."""
    angle = np.degrees(np.arctan2(dy, dx))
    # arctan2 gives (-180, 180]; DeepLabCut adds 360 to negative angles. NaN stays NaN.
    return np.where(angle < 0, angle + 360.0, angle)


def _check_bones(bones: Sequence[Sequence[str]], known: list[str], source: str | None) -> list[tuple[str, str]]:
    where = f"{source}: " if source else "skeleton: "
    if isinstance(bones, str) or not bones:
        raise PosesError(f"{where}no bones given; define skeleton: [[bp1, bp2], ...] in config.yaml")
    checked = []
    for bone in bones:
        if isinstance(bone, str) or len(bone) != 2:
            raise PosesError(f"{where}bone {bone!r} must be a pair [bp1, bp2]")
        for bp in bone:
            if bp not in known:
                raise PosesError(
                    f"{where}bone {list(bone)} uses unknown bodypart {bp!r}; known: {', '.join(known)}"
                )
        checked.append((str(bone[0]), str(bone[1])))
    return checked


def skeleton_features(
    df: pd.DataFrame, bones: Sequence[Sequence[str]], source: str | None = None
) -> pd.DataFrame:
    """Length, orientation and likelihood of every bone in every frame (layout in module doc)."""
    df = validate_poses(df, source)
    scorer = df.columns.get_level_values(0)[0]
    pairs = _check_bones(bones, get_bodyparts(df), source)
    parts = {}
    for bp1, bp2 in pairs:
        a, b = df[scorer][bp1], df[scorer][bp2]
        dx = b["x"].to_numpy(np.float64) - a["x"].to_numpy(np.float64)
        dy = b["y"].to_numpy(np.float64) - a["y"].to_numpy(np.float64)
        parts[bone_name(bp1, bp2)] = pd.DataFrame(
            {
                "length": np.hypot(dx, dy),
                "orientation": bone_orientation(dx, dy),
                # np.minimum propagates NaN: an end without a likelihood gives none.
                "likelihood": np.minimum(a["likelihood"].to_numpy(), b["likelihood"].to_numpy()),
            },
            index=df.index,
        )
    # concat of a dict makes the bone level; levels stay unnamed, as in DeepLabCut's files.
    return pd.concat(parts, axis=1)
