"""Augmentation moves keypoints with the image, and keypoints that leave it become missing."""

import numpy as np
import pytest

from posering.train.augment import Augmenter, crop_around_keypoints, hflip, symmetric_pairs

BODYPARTS = ["snout", "leftear", "rightear", "tailbase"]
DLC_TRAIN = {"affine": {"p": 1.0, "rotation": 30, "scaling": [0.5, 1.25], "translation": 0},
             "crop_sampling": {"width": 160, "height": 120, "max_shift": 0.1, "method": "hybrid"},
             "motion_blur": False, "gaussian_noise": False, "normalize_images": True}


def dots_image(points, shape=(240, 320)):
    """A black image with one bright 3x3 dot per keypoint, each in its own colour channel mix."""
    image = np.zeros((*shape, 3), dtype=np.uint8)
    for k, (x, y) in enumerate(points):
        if np.isfinite([x, y]).all():
            image[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2, k % 3] = 255
    return image


def test_affine_and_crop_move_keypoints_with_the_pixels():
    points = np.array([[60, 50], [200, 120], [150, 200], [280, 40]], dtype=np.float32)
    # One keypoint per image so that the brightest pixel identifies it unambiguously.
    rng = np.random.default_rng(0)
    augmenter = Augmenter(DLC_TRAIN, BODYPARTS)
    checked = missing = 0
    for trial in range(40):
        k = trial % 4
        kp = np.full((4, 2), np.nan, dtype=np.float32)
        kp[k] = points[k]
        image, moved = augmenter(dots_image(kp), kp, rng)
        assert image.shape == (120, 160, 3) and image.dtype == np.uint8
        assert np.isnan(moved[[i for i in range(4) if i != k]]).all()
        if np.isnan(moved[k]).any():
            missing += 1
            continue
        bright = image.max(axis=2).astype(float)
        y, x = np.unravel_index(np.argmax(bright), bright.shape)
        assert bright[y, x] > 60, "the dot must survive when its keypoint is inside"
        assert abs(x - moved[k, 0]) <= 2.5 and abs(y - moved[k, 1]) <= 2.5
        checked += 1
    assert checked >= 20


def test_keypoints_outside_the_crop_become_nan_never_clipped():
    augmenter = Augmenter({"crop_sampling": {"width": 100, "height": 100, "max_shift": 0.0,
                                             "method": "keypoints"}}, BODYPARTS)
    image = np.zeros((200, 300, 3), dtype=np.uint8)
    kp = np.array([[10, 10], [290, 190], [150, 100], [np.nan, np.nan]], dtype=np.float32)
    rng = np.random.default_rng(3)
    for _ in range(20):
        crop, moved = augmenter(image, kp, rng)
        assert crop.shape == (100, 100, 3)
        inside = np.isfinite(moved).all(axis=1)
        # The two far corners never fit one 100x100 window; the unlabeled one stays missing.
        assert not (inside[0] and inside[1]) and not inside[3] and inside.any()
        assert ((moved[inside] >= 0) & (moved[inside] <= 99)).all()


def test_small_images_are_padded_to_the_crop_size():
    image = np.full((50, 80, 3), 7, dtype=np.uint8)
    kp = np.array([[10, 20], [np.nan, np.nan], [70, 40], [5, 5]], dtype=np.float32)
    crop, moved = crop_around_keypoints(image, kp, 128, 96, 0.1, "uniform", np.random.default_rng(0))
    assert crop.shape == (96, 128, 3)
    # Centred padding: (128-80)/2 = 24 left, (96-50)/2 = 23 top.
    np.testing.assert_allclose(moved[0], [34, 43])
    assert crop[43, 34].tolist() == [7, 7, 7] and crop[0, 0].tolist() == [0, 0, 0]


def test_hflip_swaps_left_and_right():
    assert symmetric_pairs(BODYPARTS) == [(1, 2)]
    assert symmetric_pairs(["paw_L", "paw_R", "Left Hand", "Right Hand", "nose"]) == [(0, 1), (2, 3)]
    assert symmetric_pairs(BODYPARTS, [["snout", "tailbase"]]) == [(0, 3)]
    image = dots_image([[10, 10], [20, 30], [40, 50], [np.nan, np.nan]], (60, 100))
    kp = np.array([[10, 10], [20, 30], [40, 50], [np.nan, np.nan]], dtype=np.float32)
    flipped, moved = hflip(image, kp, [(1, 2)])
    np.testing.assert_allclose(moved[0], [89, 10])
    np.testing.assert_allclose(moved[1], [59, 50])  # leftear now holds the mirrored rightear
    np.testing.assert_allclose(moved[2], [79, 30])
    assert flipped[10, 89].max() == 255 and np.isnan(moved[3]).all()


def test_pixel_transforms_and_reproducibility():
    cfg = dict(DLC_TRAIN, motion_blur=True, gaussian_noise=12.75,
               brightness_contrast={"p": 1.0}, hflip={"p": 0.5})
    augmenter = Augmenter(cfg, BODYPARTS)
    image = np.random.default_rng(1).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    kp = np.array([[60, 50], [200, 120], [150, 200], [np.nan, np.nan]], dtype=np.float32)
    a = augmenter(image, kp, np.random.default_rng(5))
    b = augmenter(image, kp, np.random.default_rng(5))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_unknown_crop_method_is_refused():
    with pytest.raises(ValueError, match="crop_sampling.method"):
        Augmenter({"crop_sampling": {"width": 8, "height": 8, "method": "spiral"}}, BODYPARTS)
