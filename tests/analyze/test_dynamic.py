"""The dynamic-cropping box: around the confident bodyparts, in a few recurring sizes."""

import numpy as np

from posering.analyze.dynamic import DynamicCropper


def test_box_holds_the_confident_points_with_margin_on_a_32_pixel_grid():
    cropper = DynamicCropper(640, 480, threshold=0.5, margin=10)
    rng = np.random.default_rng(0)
    shapes = set()
    for _ in range(200):
        centre = rng.uniform([80, 80], [560, 400])
        points = centre + rng.uniform(-40, 40, size=(4, 2))
        likelihood = np.array([0.9, 0.8, 0.7, 0.1])  # the last point is not confident
        cropper.update(np.column_stack([points, likelihood]))
        box = cropper.box
        confident = points[:3]
        assert box.x1 <= confident[:, 0].min() - 10 and box.x2 >= confident[:, 0].max() + 10
        assert box.y1 <= confident[:, 1].min() - 10 and box.y2 >= confident[:, 1].max() + 10
        assert box.width % 32 == 0 and box.height % 32 == 0 and box.width >= 256 and box.height >= 256
        assert box.x1 % 32 == 0 and box.y1 % 32 == 0, "crops share the full frame's feature grid"
        shapes.add((box.width, box.height))
    assert len(shapes) <= 9, "box sizes recur, so kernels prepared for a shape are reused"


def test_box_is_clipped_to_the_frame_and_lost_animal_means_full_frame():
    cropper = DynamicCropper(100, 90, threshold=0.5, margin=30)
    cropper.update(np.array([[5.0, 5.0, 0.9], [95.0, 85.0, 0.9]]))
    assert (cropper.box.x1, cropper.box.y1, cropper.box.x2, cropper.box.y2) == (0, 0, 100, 90)
    cropper.update(np.array([[5.0, 5.0, 0.2], [95.0, 85.0, 0.1]]))
    assert cropper.box is None
