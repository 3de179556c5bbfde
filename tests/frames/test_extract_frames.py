"""extract_frames on real videos: uniform and k-means, manual frames, crop, reruns, Ray, errors."""

from pathlib import Path

import numpy as np
import pytest

from posering import labels, storage
from posering.cli import main
from posering.errors import ConfigError, PoseringError, VideoError, VideosFailed
from posering.frames.extract_frames import extract_frames
from posering.frames.images import decode_image
from posering.frames.kmeans import pick_kmeans, rng_for, sample_thumbnails, thumbnail
from posering.project import ProjectConfig, ProjectPaths
from posering.project.add_new_videos import add_new_videos
from posering.video import VideoReader

from tests.ffmpeg_streams import DROP_FIVE_IN_FIFTY, sequential_frames, x264


def _images(folder):
    return sorted(n for n in storage.listdir(str(folder)) if n.endswith(".png"))


def _demo_video(config_path):
    config = ProjectConfig.load(config_path)
    key = next(iter(config.video_sets))
    return config, key, ProjectPaths(config).labeled_folder(storage.stem(key))


def test_openfield_video_uniform_and_kmeans(openfield_project):
    config = str(openfield_project)
    video = str(openfield_project.parent / "videos" / "m3v1mp4.mp4")
    add_new_videos(config, [video])
    folder = openfield_project.parent / "labeled-data" / "m3v1mp4"

    uniform = extract_frames(config, algo="uniform")[video]
    assert uniform["added"] == 20 and uniform["skipped"] == 0
    assert _images(folder) == [f"img{i:04d}.png" for i in uniform["frames"]]  # 2330 frames: 4 digits

    kmeans = extract_frames(config, algo="kmeans")[video]
    assert kmeans["added"] == 20
    assert not set(kmeans["frames"]) & set(uniform["frames"])  # a rerun adds new frames
    assert len(_images(folder)) == 40
    # Every image is its video frame, so it traces back to the video position in its name.
    index = kmeans["frames"][7]
    with VideoReader(video) as reader:
        assert np.array_equal(decode_image(str(folder / f"img{index:04d}.png")), reader.read(index))
    # The labeled example folder of the project is untouched.
    assert len(_images(openfield_project.parent / "labeled-data" / "m4s1")) == 116


def test_choice_is_seeded_and_reproducible(demo_project, tmp_path):
    config, _, folder = _demo_video(demo_project)
    # Drop the demo's images so both runs start from the same (empty) folder.
    for name in _images(folder):
        storage.remove(storage.join(folder, name))
    first = next(iter(extract_frames(demo_project, algo="kmeans").values()))["frames"]
    for name in _images(folder):
        storage.remove(storage.join(folder, name))
    again = next(iter(extract_frames(demo_project, algo="kmeans").values()))["frames"]
    assert first == again and len(first) == config["numframes2pick"]
    other_seed = next(iter(extract_frames(demo_project, algo="uniform", seed=7).values()))["frames"]
    assert len(other_seed) == config["numframes2pick"]


def test_rerun_never_overwrites_or_orphans_labeled_frames(demo_project):
    config, _, folder = _demo_video(demo_project)
    collected = ProjectPaths(config).collected_data(storage.stem(next(iter(config.video_sets))))
    labeled = labels.image_relpaths(labels.read_labels(collected))
    before = {n: storage.read_bytes(storage.join(folder, n)) for n in _images(folder)}
    assert len(before) == 20

    for algo in ("uniform", "kmeans", "uniform"):
        result = next(iter(extract_frames(demo_project, algo=algo).values()))
        assert result["added"] == 20
        assert not {f"img{i:03d}.png" for i in result["frames"]} & set(before)
    after = _images(folder)
    assert len(after) == 80
    assert all(storage.read_bytes(storage.join(folder, n)) == data for n, data in before.items())
    # Every labeled row still has its image, and the labels file is as it was.
    assert all(rel.split("/")[-1] in after for rel in labeled)
    assert labels.image_relpaths(labels.read_labels(collected)) == labeled


def test_manual_frames_exactly_and_cli_does_the_same(demo_project, capsys):
    config, key, folder = _demo_video(demo_project)
    existing = _images(folder)
    result = extract_frames(demo_project, "manual", frames={key: [1, 2, 119, 1]})[key]
    new = {1, 2, 119} - {int(n[3:6]) for n in existing}
    assert result["added"] == len(new) and set(result["frames"]) == new
    assert set(_images(folder)) == set(existing) | {f"img{i:03d}.png" for i in new}
    # The command line, by video name: the same frames again are all skipped.
    assert main(["extract_frames", demo_project, "--mode", "manual",
                 "--frames", "{demo-mouse: [1, 2, 119]}"]) == 0
    out = capsys.readouterr().out
    assert "added: 0" in out and "skipped: 3" in out
    assert main(["extract_frames", demo_project, "--mode", "manual", "--frames", "{demo-mouse: [50]}"]) == 0
    assert "img050.png" in _images(folder)


def test_crop_saves_the_box_of_video_sets(demo_project):
    config, key, folder = _demo_video(demo_project)
    config.data["video_sets"][key] = {"crop": "10, 170, 20, 140"}
    config.save()
    extract_frames(demo_project, "manual", frames={key: [33]}, crop=True)
    image = decode_image(storage.join(folder, "img033.png"))
    assert image.shape == (120, 160, 3)
    with VideoReader(key) as reader:
        assert np.array_equal(image, reader.read(33)[20:140, 10:170])
    config.data["video_sets"][key] = {"crop": "0, 400, 0, 240"}
    config.save()
    with pytest.raises(VideosFailed, match="outside the video"):
        extract_frames(demo_project, "manual", frames={key: [34]}, crop=True)
    assert "img034.png" not in _images(folder)


def test_several_videos_run_as_ray_tasks(demo_project, ray_session, tmp_path):
    from posering.demo.synthetic import Scene, render_video

    second = tmp_path / "second.mp4"
    render_video(str(second), Scene(nframes=60, seed=3))
    add_new_videos(demo_project, [str(second)])
    results = extract_frames(demo_project, algo="uniform", userfeedback=True)  # stdin is no terminal
    assert len(results) == 2
    assert all(r["added"] == 20 for r in results.values())
    config = ProjectConfig.load(demo_project)
    assert len(_images(ProjectPaths(config).labeled_folder("second"))) == 20
    # A video that fails does not stop the other; the step then fails naming it, with the
    # error from inside its task as one line (not a remote traceback), and the other's result.
    key = next(k for k in config.video_sets if k.endswith("second.mp4"))
    config.data["video_sets"][key] = {"crop": "0, 999, 0, 240"}
    config.save()
    with pytest.raises(VideosFailed) as error:
        extract_frames(demo_project, algo="uniform", crop=True)
    assert "second.mp4: crop '0, 999, 0, 240'" in str(error.value) and "\n" not in str(error.value)
    assert isinstance(error.value.__cause__, ConfigError) and list(error.value.failures) == [key]
    (first,) = error.value.results.values()
    assert first["added"] == 20 and len(_images(first["folder"])) == 60


def test_errors_name_the_video_and_frame(demo_project, tmp_path):
    config, key, _ = _demo_video(demo_project)
    with pytest.raises(ConfigError, match="not a video of this project"):
        extract_frames(demo_project, videos_list=[str(tmp_path / "other.mp4")])
    with pytest.raises(VideosFailed, match="frame 500 does not exist"):
        extract_frames(demo_project, "manual", frames={key: [3, 500]})
    with pytest.raises(PoseringError, match="mode='manual' needs frames"):
        extract_frames(demo_project, "manual")
    with pytest.raises(PoseringError, match="algo"):
        extract_frames(demo_project, algo="fast")
    storage.remove(key)
    with pytest.raises(VideoError, match="is missing"):
        extract_frames(demo_project)


def test_kmeans_takes_one_frame_per_look(synthetic_video):
    path, _ = synthetic_video
    with VideoReader(path) as reader:
        indices, thumbs = sample_thumbnails(reader, 0, 1, cluster_resizewidth=16, target=25)
    assert len(indices) == 24  # 120 frames, every 5th and thumbs.shape == (len(indices), 16 * 12)
    # Three looks (dark, mid, bright); three clusters take one frame of each.
    looks = np.repeat([0.0, 120.0, 250.0], 10)[:, None] + np.random.default_rng(0).normal(0, 2, (30, 8))
    chosen = pick_kmeans(np.arange(30), looks.astype(np.float32), 3, rng_for(0, "x"))
    assert sorted(i // 10 for i in chosen) == [0, 1, 2]


def test_s3_project(s3, synthetic_video):
    """A project in a bucket: the video is read through the cache, frames are written to s3."""
    from posering.project.create_new_project import create_new_project

    config = create_new_project("remote", "me", [synthetic_video[0]], working_directory=s3)
    assert config.startswith("s3://")
    result = next(iter(extract_frames(config, algo="kmeans").values()))
    assert result["folder"].startswith("s3://") and result["added"] == 20
    assert _images(result["folder"]) == [f"img{i:03d}.png" for i in result["frames"]]
    with VideoReader(synthetic_video[0]) as reader:
        index = result["frames"][0]
        assert np.array_equal(decode_image(storage.join(result["folder"], f"img{index:03d}.png")),
                              reader.read(index))


def test_dropped_frame_video_images_are_the_decoded_frames(demo_project, tmp_path):
    """On a video with dropped frames (OpenCV's frame numbers are not the indices), each
    img<NNN>.png is the NNN-th decoded frame and k-means chooses what it would choose from a
    sequential decode, also from a candidate range that starts with a seek past a drop."""
    config = ProjectConfig.load(demo_project)
    demo = next(iter(config.video_sets))
    video = x264(tmp_path / "dropped.mp4", DROP_FIVE_IN_FIFTY, params="keyint=20", count=120, source=demo)
    (video,) = add_new_videos(demo_project, [video])
    truth = sequential_frames(video)
    config = ProjectConfig.load(demo_project)
    config["start"], config["stop"] = 0.5, 1.0  # candidates 55..109: frame 55 is after a drop
    config.save()

    result = extract_frames(demo_project, algo="kmeans", videos_list=[video])[video]
    kmeans, folder = result["frames"], result["folder"]
    candidates = np.arange(55, 110)
    thumbs = np.stack([thumbnail(truth[i], 30, False) for i in candidates])
    assert kmeans == pick_kmeans(candidates, thumbs, config["numframes2pick"], rng_for(0, "dropped.mp4"))
    uniform = extract_frames(demo_project, algo="uniform", videos_list=[video])[video]["frames"]
    manual = [0, 44, 45, 46, 90, 91, 109]
    extract_frames(demo_project, mode="manual", frames={video: manual})
    saved = {int(name[3:-4]): name for name in _images(folder)}
    assert set(saved) == set(kmeans) | set(uniform) | set(manual)
    wrong = [i for i, name in saved.items()
             if not np.array_equal(decode_image(storage.join(folder, name)), truth[i])]
    assert wrong == []


def test_a_relative_video_path_is_read_from_the_project_not_the_current_folder(tmp_path, monkeypatch):
    """Issue 19 item 3: run from a folder with its own videos/clip.mp4, the project's is used."""
    from posering.demo.synthetic import Scene, render_video
    from posering.project.create_new_project import create_new_project

    source = tmp_path / "source" / "clip.mp4"
    source.parent.mkdir()
    render_video(str(source), Scene(nframes=100))
    config_path = create_new_project("rel", "me", [str(source)], working_directory=str(tmp_path / "p"),
                                     copy_videos=True)
    config = ProjectConfig.load(config_path)
    config["video_sets"] = {"videos/clip.mp4": next(iter(config.video_sets.values()))}
    config["numframes2pick"] = 5
    config.save()
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "videos").mkdir(parents=True)
    render_video(str(elsewhere / "videos" / "clip.mp4"), Scene(nframes=300, seed=3))
    monkeypatch.chdir(elsewhere)

    found = extract_frames(config_path, algo="uniform")
    (location, result), = found.items()
    assert location == str(Path(config.project_path) / "videos" / "clip.mp4")
    assert max(result["frames"]) < 100, result["frames"]  # the 300-frame video was not read


def test_a_video_key_that_climbs_out_of_the_project_is_warned_about(tmp_path, caplog):
    from posering.project.create_new_project import create_new_project
    from posering.demo.synthetic import Scene, render_video

    video = tmp_path / "clip.mp4"
    render_video(str(video), Scene(nframes=30))
    config_path = create_new_project("up", "me", [str(video)], working_directory=str(tmp_path / "p"))
    config = ProjectConfig.load(config_path)
    config["video_sets"] = {"../../clip.mp4": {"crop": "0, 320, 0, 240"}}
    config.save()
    with caplog.at_level("WARNING", logger="posering.project"):
        ProjectConfig.load(config_path)
        ProjectConfig.load(config_path)  # said once
    warnings = [r.getMessage() for r in caplog.records if "leads outside the project folder" in r.getMessage()]
    assert len(warnings) == 1 and "'../../clip.mp4'" in warnings[0] and str(video) in warnings[0], warnings
