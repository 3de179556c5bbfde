"""analyze_videos: DeepLabCut's outputs, the same numbers on every path, exactly once, resumable."""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest
import yaml

from posering.analyze.analyze_videos import analyze_videos as _analyze_videos
from posering.analyze.shards import existing_parts
from posering.project.paths import PARTS_DIR
from posering.video import probe


def analyze_videos(*args, **kwargs):
    """float32 unless a test asks otherwise: these tests pin sharding, not precision choice."""
    kwargs.setdefault("precision", "fp32")
    return _analyze_videos(*args, **kwargs)


def _read(folder, scorer, stem="mouse-a"):
    return pd.read_hdf(os.path.join(folder, f"{stem}{scorer}.h5"), "df_with_missing")


def test_outputs_have_deeplabcut_layout(analysis_project, videos_dir):
    scorer = analyze_videos(analysis_project, [str(videos_dir)], num_workers=0, save_as_csv=True,
                            output_format=("h5", "parquet"), batch_size=4)
    assert scorer.startswith("DLC_MobilenetV4Small_demo") and scorer.endswith("shuffle1_snapshot_5")
    table = _read(videos_dir, scorer)
    assert list(table.columns.names) == ["scorer", "bodyparts", "coords"]
    assert list(table.columns.get_level_values(2)[:3]) == ["x", "y", "likelihood"]
    assert list(table.index) == list(range(120)), "one row per frame, frame index as the index"
    assert ((table.xs("likelihood", level=2, axis=1) >= 0) & (table.xs("likelihood", level=2, axis=1) <= 1)).all().all()
    csv = pd.read_csv(videos_dir / f"mouse-a{scorer}.csv", header=[0, 1, 2], index_col=0)
    np.testing.assert_allclose(csv.to_numpy(), table.to_numpy())
    parquet = pd.read_parquet(videos_dir / f"mouse-a{scorer}.parquet")
    np.testing.assert_allclose(parquet["snout_x"].to_numpy(), table[(scorer, "snout", "x")].to_numpy())
    meta = yaml.safe_load((videos_dir / f"mouse-a{scorer}_meta.yaml").read_text())
    assert meta["video"]["nframes"] == 120 and meta["scorer"] == scorer
    assert not (videos_dir / PARTS_DIR).exists(), "no scratch folder is left beside the video"


@pytest.mark.parametrize("workers", [1, 2])
def test_ray_path_equals_single_process(analysis_project, videos_dir, tmp_path, ray_session, workers):
    reference = tmp_path / "reference"
    scorer = analyze_videos(analysis_project, [str(videos_dir)], num_workers=0, destfolder=str(reference))
    analyze_videos(analysis_project, [str(videos_dir)], num_workers=workers, shard_frames=25,
                   destfolder=str(tmp_path / "ray"))
    single = _read(reference, scorer)
    sharded = _read(tmp_path / "ray", scorer)
    assert len(sharded) == probe(str(videos_dir / "mouse-a.mp4")).frame_count
    np.testing.assert_allclose(sharded.to_numpy(), single.to_numpy(), atol=1e-4)
    # Each shard's worker memory is recorded (benchmarks check it does not grow with length).
    run = yaml.safe_load((tmp_path / "ray" / f"mouse-a{scorer}_meta.yaml").read_text())["run"]
    rss = run["worker_rss_mb"]
    assert rss["units"] == 5  # 120 frames in shards of 25
    assert 0 < rss["after_first_unit"] <= rss["largest"]
    # (the kernel updates the high-water mark lazily: allow a few MiB)
    assert rss["largest"] <= run["worker_peak_rss_mb"] + 8


def test_rerun_skips_finished_videos_unless_overwrite(analysis_project, videos_dir):
    scorer = analyze_videos(analysis_project, [str(videos_dir)], num_workers=0)
    h5 = videos_dir / f"mouse-a{scorer}.h5"
    before = h5.stat().st_mtime_ns
    analyze_videos(analysis_project, [str(videos_dir)], num_workers=0)
    assert h5.stat().st_mtime_ns == before
    analyze_videos(analysis_project, [str(videos_dir)], num_workers=0, overwrite=True)
    assert h5.stat().st_mtime_ns != before


def test_interrupted_video_resumes_from_its_parts(analysis_project, videos_dir, tmp_path):
    """Parts left by a killed run are reused: only the missing frames are analysed again."""
    reference = tmp_path / "reference"
    scorer = analyze_videos(analysis_project, [str(videos_dir)], num_workers=0, destfolder=str(reference))
    out = tmp_path / "out"
    script = (f"import posering.analyze.analyze_videos as a; a.analyze_videos({analysis_project!r}, "
              f"[{str(videos_dir)!r}], num_workers=0, destfolder={str(out)!r}, shard_frames=10, batch_size=2, precision='fp32')")
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts_root = out / PARTS_DIR
    deadline = time.time() + 240
    while time.time() < deadline:
        found = list(parts_root.glob("*/part-*.npz")) if parts_root.exists() else []
        if len(found) >= 3:
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    (parts_dir,) = parts_root.iterdir()
    done_before = existing_parts(str(parts_dir))
    assert 3 <= len(done_before) < 12, "the run was killed midway"
    assert not (out / f"mouse-a{scorer}.h5").exists()
    analyze_videos(analysis_project, [str(videos_dir)], num_workers=0, destfolder=str(out), shard_frames=50)
    np.testing.assert_allclose(_read(out, scorer).to_numpy(), _read(reference, scorer).to_numpy(), atol=1e-4)


def _our_pose_worker_pids() -> list[int]:
    """PoseWorker processes of this test session's Ray (descendants of this process): found
    without asking the actor, whose methods wait while it analyses."""
    def parent(pid: int) -> int:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])

    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if not cmdline.read(64).startswith(b"ray::PoseWorker"):
                    continue
            pid = int(entry)
            while pid > 1 and pid != os.getpid():
                pid = parent(pid)
        except OSError:  # the process ended meanwhile
            continue
        if pid == os.getpid():
            found.append(int(entry))
    return found


def test_killed_worker_is_replaced_and_its_shard_redone_and_counted_once(analysis_project, videos_dir, tmp_path,
                                                                         ray_session, capsys):
    import ray

    reference = tmp_path / "reference"
    scorer = analyze_videos(analysis_project, [str(videos_dir)], num_workers=0, destfolder=str(reference))
    capsys.readouterr()
    killed = []

    def kill_the_worker_mid_shard():
        deadline = time.time() + 240
        while time.time() < deadline and not killed:
            counters = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
                        if a["name"].startswith("posering-frames-")]
            parts = list((tmp_path / "ray").glob(f"{PARTS_DIR}/*/part-*.npz"))
            # Late in the second of three shards: the frames it counted so far are analysed again.
            if counters and parts and 60 <= ray.get(ray.get_actor(counters[0]).total.remote()) <= 76:
                for pid in _our_pose_worker_pids():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_worker_mid_shard)
    killer.start()
    analyze_videos(analysis_project, [str(videos_dir)], num_workers=1, shard_frames=40, batch_size=2,
                   destfolder=str(tmp_path / "ray"))
    killer.join()
    assert killed, "a worker process was killed during the run"
    np.testing.assert_allclose(_read(tmp_path / "ray", scorer).to_numpy(),
                               _read(reference, scorer).to_numpy(), atol=1e-4)
    # The progress bar counts each frame once: it never passes the 120 frames (was 1056/900).
    shown = [int(n) for n in re.findall(r"(\d+)/120 \[", capsys.readouterr().err)]
    assert shown and max(shown) == 120 and shown[-1] == 120, shown


def test_corrupt_video_fails_the_run_after_the_others_finish(analysis_project, videos_dir, capsys):
    from posering.cli import main
    from posering.errors import VideosFailed

    (videos_dir / "broken.mp4").write_bytes(b"\x00" * 4096)
    with pytest.raises(VideosFailed) as failed:
        analyze_videos(analysis_project, [str(videos_dir)], num_workers=0)
    scorer = failed.value.returned
    good, bad = str(videos_dir / "mouse-a.mp4"), str(videos_dir / "broken.mp4")
    assert (videos_dir / f"mouse-a{scorer}.h5").exists()
    assert not (videos_dir / f"broken{scorer}.h5").exists()
    assert failed.value.results == {good: str(videos_dir / f"mouse-a{scorer}.h5")}
    assert list(failed.value.failures) == [bad] and "cannot be opened as a video" in failed.value.failures[bad]
    err = capsys.readouterr().err
    assert "broken.mp4" in err and "failed" in err  # the summary lists every video
    # The command line exits with 1 (mouse-a is done: skipped now), naming the failed video.
    assert main(["analyze_videos", analysis_project, str(videos_dir), "--num_workers", "0",
                 "--precision", "fp32"]) == 1
    out, err = capsys.readouterr()
    assert out.strip() == scorer
    assert "skipped" in err and "error: analyze_videos: 1 of 2 videos failed (broken.mp4: " in err


def test_fixed_crop_returns_full_frame_coordinates(analysis_project, videos_dir, tmp_path):
    scorer = analyze_videos(analysis_project, [str(videos_dir)], num_workers=0, cropping=[100, 260, 40, 200],
                            destfolder=str(tmp_path))
    table = _read(tmp_path, scorer)
    xs = table.xs("x", level=2, axis=1).to_numpy()
    ys = table.xs("y", level=2, axis=1).to_numpy()
    assert (xs >= 100).all() and (xs < 260).all() and (ys >= 40).all() and (ys < 200).all()


def test_dynamic_never_confident_equals_full_frame(analysis_project, videos_dir, tmp_path):
    """With a threshold nothing reaches, dynamic cropping analyses full frames, in lockstep batches."""
    full = analyze_videos(analysis_project, [str(videos_dir)], num_workers=0, destfolder=str(tmp_path / "f"))
    analyze_videos(analysis_project, [str(videos_dir)], num_workers=0, destfolder=str(tmp_path / "d"),
                   dynamic=(True, 1.0, 10), shard_frames=30, batch_size=4)
    np.testing.assert_allclose(_read(tmp_path / "d", full).to_numpy(), _read(tmp_path / "f", full).to_numpy(),
                               atol=1e-4)


def test_dynamic_crops_follow_the_previous_frame(analysis_project, videos_dir, tmp_path):
    """threshold 0: every frame after a shard's first is cut around the last pose."""
    from posering.analyze.dynamic import DynamicCropper
    from posering.analyze.predictor import load_predictor
    from posering.project import load_config
    from posering.project.models import resolve_model
    from posering.video import VideoReader

    scorer = analyze_videos(analysis_project, [str(videos_dir)], num_workers=0, destfolder=str(tmp_path),
                            dynamic=(True, 0.0, 20), shard_frames=40, batch_size=1)
    table = _read(tmp_path, scorer).to_numpy().reshape(120, -1, 3)
    predictor, _ = load_predictor(resolve_model(load_config(analysis_project)), "cpu")
    cropper = DynamicCropper(320, 240, 0.0, 20)
    with VideoReader(str(videos_dir / "mouse-a.mp4")) as reader:
        for index, frame in reader.frames(40, 50):  # the second shard: starts full-frame
            if index == 40:
                pose = predictor(frame[None]).numpy()[0]
            else:
                box = cropper.box
                pose = predictor(frame[None, box.y1:box.y2, box.x1:box.x2], offset=(box.x1, box.y1)).numpy()[0]
            cropper.update(pose)
            np.testing.assert_allclose(table[index], pose, atol=1e-3)
            if index > 40:
                assert box.width < 320 or box.height < 240


def test_time_lapse_frames_give_the_same_numbers_as_the_video(analysis_project, videos_dir, tmp_path):
    from posering.analyze.analyze_time_lapse_frames import analyze_time_lapse_frames
    from posering.frames.images import save_frames

    scorer = analyze_videos(analysis_project, [str(videos_dir)], num_workers=0, destfolder=str(tmp_path / "v"))
    images = tmp_path / "stills"
    save_frames(str(videos_dir / "mouse-a.mp4"), [3, 50, 99], str(images))
    assert analyze_time_lapse_frames(analysis_project, str(images), batch_size=2) == scorer
    table = pd.read_hdf(images / f"stills{scorer}.h5", "df_with_missing")
    assert list(table.index) == ["img003.png", "img050.png", "img099.png"]
    video_rows = _read(tmp_path / "v", scorer).loc[[3, 50, 99]]
    # PNG stills are lossless copies of the decoded frames: the numbers agree.
    np.testing.assert_allclose(table.to_numpy(), video_rows.to_numpy(), atol=1e-4)


def test_auto_precision_keeps_float32_where_bfloat16_would_move_points(dlc3_project):
    """DeepLabCut's weak example model has flat score maps: bfloat16 would move its peaks."""
    from posering.analyze.precision import choose_precision
    from posering.project import load_config
    from posering.project.models import resolve_model

    model = resolve_model(load_config(str(dlc3_project)), 1)
    video = str(dlc3_project.parent / "videos" / "m3v1mp4_clip600.mp4")
    # With fast bfloat16 the sample shows points moving; without it, auto is float32 anyway.
    assert choose_precision(model, video, "cpu", sample_frames=8) == "fp32"


@pytest.mark.slow
def test_dynamic_crops_of_a_groupnorm_network_keep_its_full_frame_poses(tmp_path_factory, tmp_path):
    """resnet_50 (GroupNorm): crops are normalised as parts of their full frames (fullview.py)."""
    from posering.analyze.engine import REFERENCE_REFRESH
    from posering.demo.run import make_demo_project
    from posering.project import ProjectConfig
    from tests.random_model import install_random_model

    config = make_demo_project(str(tmp_path_factory.mktemp("groupnorm") / "demo"), nframes=40, nlabeled=10)
    install_random_model(config, "resnet_50")
    (video,) = ProjectConfig.load(config).video_sets  # the demo's own 40-frame video
    clip = tmp_path / "videos" / "clip.mp4"
    clip.parent.mkdir()
    shutil.copy(video, clip)
    full_scorer = analyze_videos(config, [str(clip)], num_workers=0, destfolder=str(tmp_path / "full"),
                                 shard_frames=20)
    scorer = analyze_videos(config, [str(clip)], num_workers=0, destfolder=str(tmp_path / "dynamic"),
                            shard_frames=20, batch_size=2, dynamic=(True, 0.0, 10))
    full = _read(tmp_path / "full", full_scorer, "clip").to_numpy().reshape(40, -1, 3)
    dynamic = _read(tmp_path / "dynamic", scorer, "clip").to_numpy().reshape(40, -1, 3)
    # Full frames in the dynamic run: each shard's first, then one after every REFERENCE_REFRESH crops.
    refreshed = [start + k for start in (0, 20) for k in (0, REFERENCE_REFRESH + 1)]
    np.testing.assert_allclose(dynamic[refreshed], full[refreshed], atol=1e-2)
    cropped = [i for i in range(40) if i not in refreshed]
    distance = np.linalg.norm(dynamic[cropped, :, :2] - full[cropped, :, :2], axis=-1)
    assert np.median(distance) < 1.0, distance
