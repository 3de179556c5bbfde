"""Left/right labels placed the wrong way round are found from the labels alone."""

import logging

import numpy as np
import pytest

from posering import labels
from posering.labeling.swapped_pairs import find_swapped_pairs, mirrored_pairs, pair_sides
from tests.conftest import SHARED_DATA, needs_shared_data

BODYPARTS = ["snout", "leftear", "rightear", "tailbase"]


def mice(n: int, seed: int = 0) -> np.ndarray:
    """n mice seen from above, heading anywhere: ears 8 px either side of the head, left on the
    animal's left (image y points down, so the left ear is at the heading turned clockwise)."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, n)
    heading = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    left = np.stack([heading[:, 1], -heading[:, 0]], axis=1)
    centre = rng.uniform(100, 500, (n, 2))
    head = centre + 30 * heading
    return np.stack([head + 10 * heading, head + 8 * left, head - 8 * left, centre - 35 * heading], axis=1)


def test_pair_names_in_the_forms_people_use():
    names = ["snout", "leftear", "rightear", "paw_L", "paw_R", "LeftHand", "RightHand", "l_eye", "r_eye",
             "Left", "Right", "ear", "leftonly", "Tail_l"]
    assert mirrored_pairs(names) == [("leftear", "rightear"), ("paw_L", "paw_R"), ("LeftHand", "RightHand"),
                                     ("l_eye", "r_eye"), ("Left", "Right")]


def test_one_swapped_frame_among_consistent_ones_is_named():
    points = mice(40)
    points[17, [1, 2]] = points[17, [2, 1]]
    images = [f"labeled-data/v/img{i:04d}.png" for i in range(40)]
    found = find_swapped_pairs(points, BODYPARTS, images)
    assert [(s.image, s.left, s.right, s.agreeing, s.judged) for s in found] == [
        ("labeled-data/v/img0017.png", "leftear", "rightear", 39, 40)]
    assert "img0017.png: leftear and rightear" in found[0].message()


def test_consistent_labels_and_unlabeled_points_give_nothing():
    points = mice(40)
    points[3, 1] = np.nan  # one ear not labeled: no side, not judged
    points[5, [0, 3]] = np.nan  # no body to take a side from
    assert find_swapped_pairs(points, BODYPARTS, [str(i) for i in range(40)]) == []
    sides = pair_sides(points, 1, 2)
    assert sides[3] == 0 and sides[5] == 0 and len(set(sides[np.arange(40) > 5])) == 1


def test_no_clear_majority_or_too_few_frames_judges_nothing():
    points = mice(40)
    points[:15, [1, 2]] = points[:15, [2, 1]]  # 15 of 40 the other way: no convention to hold to
    assert find_swapped_pairs(points, BODYPARTS, [str(i) for i in range(40)]) == []
    few = mice(6)
    few[0, [1, 2]] = few[0, [2, 1]]
    assert find_swapped_pairs(few, BODYPARTS, [str(i) for i in range(6)]) == []


def test_a_pair_along_the_body_has_no_side():
    points = mice(40)
    heading = (points[:, 0] - points[:, 3]) / np.linalg.norm(points[:, 0] - points[:, 3], axis=1, keepdims=True)
    points[9, 1] = points[9, 0] - 20 * heading[9]  # both "ears" on the body's midline
    points[9, 2] = points[9, 0] - 30 * heading[9]
    assert pair_sides(points, 1, 2)[9] == 0


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="expected points of shape"):
        find_swapped_pairs(np.zeros((3, 2, 2)), BODYPARTS, ["a", "b", "c"])


@needs_shared_data
def test_openfield_has_one_frame_with_swapped_ears():
    """Of openfield's 116 labeled frames, img0102's ears are labeled on the other side of the
    head from all 115 others: the frame whose test error dominates a trained model's RMSE."""
    table = labels.read_labels(str(SHARED_DATA / "openfield-Pranav-2018-10-30/labeled-data/m4s1/CollectedData_Pranav.h5"))
    found = find_swapped_pairs(labels.points(table, BODYPARTS), BODYPARTS, labels.image_relpaths(table))
    assert [(s.image, s.agreeing, s.judged) for s in found] == [("labeled-data/m4s1/img0102.png", 115, 116)]


@needs_shared_data
def test_reaching_has_no_pairs_to_judge():
    table = labels.read_labels(str(SHARED_DATA / "Reaching-Mackenzie-2018-08-30/labeled-data/reachingvideo1/"
                                                 "CollectedData_Mackenzie.h5"))
    bodyparts = labels.bodyparts_of(table)
    assert mirrored_pairs(bodyparts) == []
    assert find_swapped_pairs(labels.points(table, bodyparts), bodyparts, labels.image_relpaths(table)) == []


def test_create_training_dataset_warns_about_the_frame(openfield_project, caplog):
    import posering as pr

    with caplog.at_level(logging.WARNING, logger="posering.dataset"):
        pr.create_training_dataset(str(openfield_project), net_type="resnet_50")
    assert any("img0102.png: leftear and rightear lie on the opposite side" in r.getMessage() for r in caplog.records)


def test_the_command_line_prints_them_as_fields(capsys):
    from posering.cli import _print_result
    from posering.labeling.swapped_pairs import SwappedPair

    _print_result({"m4s1": {"images": 116, "swapped": [SwappedPair("labeled-data/m4s1/img0102.png", "leftear",
                                                                    "rightear", 115, 116)]}})
    printed = capsys.readouterr().out
    assert "  - image: labeled-data/m4s1/img0102.png\n    left: leftear\n    right: rightear\n" in printed
