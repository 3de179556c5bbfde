"""Fixed costs paid once per snapshot: the ONNX export and precision="auto"'s measurement are
kept in the cache folder and read by later runs; a changed snapshot is exported and measured again."""

import logging
import shutil

import numpy as np
import pytest

from posering.analyze import model_cache
from posering.analyze.precision import choose_precision, cpu_has_fast_bf16
from posering.analyze.predictor import load_predictor
from posering.project import ProjectConfig, load_config
from posering.project.models import resolve_model


@pytest.fixture
def project(tmp_path, analysis_project, monkeypatch):
    """A copy of the analysis project (its snapshot is rewritten here) and a fresh cache folder."""
    monkeypatch.setenv("POSERING_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "project"
    shutil.copytree(ProjectConfig.load(analysis_project).project_path, root)
    return str(root / "config.yaml")


def _rewrite(location: str) -> None:
    """The snapshot saved again (as training does: a new file moved into place)."""
    data = open(location, "rb").read()
    shutil.os.remove(location)
    open(location, "wb").write(data)


def _messages(caplog) -> list[str]:
    messages = [record.getMessage() for record in caplog.records]
    caplog.clear()
    return messages


def test_onnx_export_is_kept_per_snapshot(project, caplog):
    pytest.importorskip("onnxruntime")
    caplog.set_level(logging.INFO, logger="posering")
    model = resolve_model(load_config(project))
    frames = np.random.default_rng(0).integers(0, 255, (2, 64, 96, 3), dtype=np.uint8)
    first, _ = load_predictor(model, "cpu", "fp32")
    assert first.backend == "onnxruntime"
    assert any(m.startswith("exported to ONNX, kept") for m in _messages(caplog))
    cached = model_cache.onnx_file(model)
    assert shutil.os.path.exists(cached)
    second, _ = load_predictor(model, "cpu", "fp32")
    messages = _messages(caplog)
    assert any(m.startswith("ONNX graph read from the cache") for m in messages)
    assert not any(m.startswith("exported to ONNX") for m in messages)
    np.testing.assert_array_equal(first(frames).numpy(), second(frames).numpy())

    _rewrite(model.snapshot.location)
    assert model_cache.onnx_file(model) != cached
    load_predictor(model, "cpu", "fp32")
    assert any(m.startswith("exported to ONNX, kept") for m in _messages(caplog))


def test_precision_measured_once_per_snapshot(project, videos_dir, caplog):
    if not cpu_has_fast_bf16():
        pytest.skip("this CPU has no fast bfloat16: precision auto is float32 without measuring")
    caplog.set_level(logging.INFO, logger="posering")
    model = resolve_model(load_config(project))
    video = str(videos_dir / "mouse-a.mp4")
    choice = choose_precision(model, video, "cpu", sample_frames=4)
    assert any("precision auto -> " in m and "(measured" in m for m in _messages(caplog))
    assert model_cache.read_decision(model, "precision")["choice"] == choice
    assert choose_precision(model, video, "cpu", sample_frames=4) == choice
    messages = _messages(caplog)
    assert any("(kept from an earlier run" in m for m in messages)
    assert not any("ONNX" in m or "(measured" in m for m in messages)  # nothing loaded or run

    _rewrite(model.snapshot.location)
    choose_precision(model, video, "cpu", sample_frames=4)
    assert any("(measured" in m for m in _messages(caplog))


def test_auto_refuses_reduced_precisions_that_move_the_weak_models_points(dlc3_project, caplog):
    """DeepLabCut's weak snapshot (flat score maps): bfloat16 and int8 both move peaks by whole
    cells, so auto stays float32 and the log says why, per precision."""
    pytest.importorskip("onnxruntime")
    caplog.set_level(logging.INFO, logger="posering")
    model = resolve_model(load_config(str(dlc3_project)), 1)
    video = str(dlc3_project.parent / "videos" / "m3v1mp4_clip600.mp4")
    assert choose_precision(model, video, "cpu", sample_frames=8) == "fp32"
    measured = model_cache.read_decision(model, "precision")["measured"]
    assert measured["int8"]["worst_px"] > 1.0
    (line,) = [m for m in _messages(caplog) if m.startswith("precision auto -> fp32 (measured")]
    assert "int8 moved keypoints by at most" in line and "(refused, limit 1 px)" in line


def test_int8_asked_for_is_calibrated_on_the_video_and_analyses_it(project, videos_dir, tmp_path, caplog):
    pytest.importorskip("onnxruntime")
    from posering.analyze.analyze_videos import analyze_videos

    caplog.set_level(logging.INFO, logger="posering")
    model = resolve_model(load_config(project))
    scorer = analyze_videos(project, [str(videos_dir)], num_workers=0, destfolder=str(tmp_path / "out"),
                            precision="int8")
    assert shutil.os.path.exists(model_cache.onnx_file(model, "int8"))
    messages = _messages(caplog)
    assert any(m.startswith("int8 graph calibrated on") for m in messages)
    assert any("inference: onnxruntime on cpu, int8" in m for m in messages)
    table = __import__("pandas").read_hdf(tmp_path / "out" / f"mouse-a{scorer}.h5", "df_with_missing")
    assert len(table) == 120 and np.isfinite(table.to_numpy()).all()
