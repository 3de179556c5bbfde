"""check_labels on the example projects: one image per labeled frame, at its size, points drawn."""

import matplotlib
import numpy as np

from posering import labels, storage
from posering.cli import main
from posering.frames.images import decode_image
from posering.project import ProjectConfig
from posering.viz.check_labels import LabelStyle, check_labels, draw_labels


def _sizes(folder):
    return {p.name: decode_image(str(p)).shape for p in sorted(folder.glob("*.png"))}


def test_openfield_every_labeled_frame_drawn(openfield_project):
    result = check_labels(str(openfield_project))
    out = openfield_project.parent / "labeled-data" / "m4s1_labeled"
    swapped = result["m4s1"].pop("swapped")
    assert result == {"m4s1": {"folder": str(out), "images": 116}}
    # One frame's ears are labeled the other way round from the other 115 frames'.
    assert [(s.image, s.left, s.right) for s in swapped] == [("labeled-data/m4s1/img0102.png", "leftear", "rightear")]
    sizes = _sizes(out)
    assert len(sizes) == 116 and set(sizes.values()) == {(480, 640, 3)}
    # The snout of img0010 is painted in the colormap's first colour (jet, 4 bodyparts).
    config = ProjectConfig.load(str(openfield_project))
    table = labels.read_labels(str(openfield_project.parent / "labeled-data/m4s1/CollectedData_Pranav.h5"))
    row = [labels.image_relpath(k) for k in table.index].index("labeled-data/m4s1/img0010.png")
    x, y = np.round(labels.points(table, config.bodyparts)[row, 0]).astype(int)
    drawn = decode_image(str(out / "img0010.png"))[y, x].astype(float)
    original = decode_image(str(openfield_project.parent / "labeled-data/m4s1/img0010.png"))[y, x]
    colour = np.array(matplotlib.colormaps["jet"].resampled(4)(0)[:3]) * 255
    expected = 0.7 * colour + 0.3 * original  # alphavalue 0.7
    assert np.abs(drawn - expected).max() < 12


def test_reaching_mixed_sizes(reaching_project):
    source = reaching_project.parent / "labeled-data" / "reachingvideo1"
    result = check_labels(str(reaching_project))
    out = reaching_project.parent / "labeled-data" / "reachingvideo1_labeled"
    assert result["reachingvideo1"]["images"] == 55
    assert _sizes(out) == _sizes(source)  # 40 at 832x747 and 15 at 640x470, each at its own size
    assert sorted(set(_sizes(out).values())) == [(470, 640, 3), (747, 832, 3)]


def test_command_line_draws_what_the_api_draws(tmp_path):
    from posering.demo.run import make_demo_project

    api_config = make_demo_project(str(tmp_path / "api"), nframes=60, nlabeled=8)
    cli_config = make_demo_project(str(tmp_path / "cli"), nframes=60, nlabeled=8)
    api = check_labels(api_config, scale=0.5)
    assert main(["check_labels", cli_config, "--draw_skeleton", "--scale", "0.5"]) == 0
    api_out = next(iter(api.values()))["folder"]
    cli_out = api_out.replace(str(tmp_path / "api"), str(tmp_path / "cli"))
    names = storage.listdir(api_out)
    assert len(names) == 8 and names == storage.listdir(cli_out)
    assert all(storage.read_bytes(storage.join(api_out, n)) == storage.read_bytes(storage.join(cli_out, n))
               for n in names)
    assert decode_image(storage.join(api_out, names[0])).shape == (120, 160, 3)  # 320x240 at scale 0.5


def test_missing_points_are_not_drawn_and_stale_images_go(demo_project):
    config = ProjectConfig.load(demo_project)
    style = LabelStyle.from_config(config)
    image = np.full((240, 400, 3), 128, np.uint8)
    xy = np.array([[50.0, 60.0], [np.nan, np.nan], [150.0, 100.0], [np.nan, 30.0]])
    drawn = decode_image_bytes(draw_labels(image, xy, style))
    assert drawn.shape == image.shape
    assert not np.array_equal(drawn[60, 50], image[60, 50])
    assert not np.array_equal(drawn[100, 150], image[100, 150])
    # Without any point and skeleton, the picture away from the legend is the frame itself.
    empty = decode_image_bytes(draw_labels(image, np.full((4, 2), np.nan), style))
    assert np.array_equal(empty[:, :150], image[:, :150])

    stem = storage.stem(next(iter(config.video_sets)))
    out = config.project_path + f"/labeled-data/{stem}_labeled"
    storage.write_bytes(storage.join(out, "img999.png"), b"old")
    result = check_labels(demo_project, draw_skeleton=False)
    assert result[stem]["images"] == 20
    assert "img999.png" not in storage.listdir(out)


def decode_image_bytes(data: bytes) -> np.ndarray:
    import cv2

    return cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def test_csv_only_labels_are_checked_as_training_reads_them(openfield_project):
    """A folder labeled in a spreadsheet has only the .csv: create_training_dataset trains on it,
    so check_labels must draw it too (they used to disagree)."""
    from posering.dataset.collect import collect_labels

    folder = openfield_project.parent / "labeled-data" / "m4s1"
    (folder / "CollectedData_Pranav.h5").unlink()
    trained_on = collect_labels(ProjectConfig.load(str(openfield_project)))
    result = check_labels(str(openfield_project))
    assert result["m4s1"]["images"] == len(trained_on) == 116
    assert len(list((openfield_project.parent / "labeled-data" / "m4s1_labeled").glob("*.png"))) == 116
