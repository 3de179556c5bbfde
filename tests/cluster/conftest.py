"""A video collection in a bucket of the local S3 server, and the outputs it must give.

The project (a demo project with a seeded, untrained network) and its videos live in
``s3://<bucket>/project`` and ``s3://<bucket>/videos`` (two short videos) and
``s3://<bucket>/more-videos`` (two longer ones). ``reference`` holds each video's poses from an
uninterrupted single-process run on local files: every cluster run must give exactly these rows.
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.random_model import install_random_model

SETTINGS = ["--precision", "fp32", "--num_workers", "2"]  # what every job here passes


@dataclass
class Collection:
    bucket: str
    scorer: str
    config: str  # s3:// config.yaml
    videos: str  # s3:// prefix of the short videos
    more_videos: str  # s3:// prefix of the longer ones
    reference: dict[str, pd.DataFrame]  # video stem -> poses of an uninterrupted local run
    reference_folder: str  # that run's outputs (and metadata)
    local_videos: list[str]  # the videos on local disk: mouse-a, mouse-b, mouse-c, mouse-d
    env_names: tuple[str, ...] = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                  "AWS_DEFAULT_REGION")

    def env_options(self) -> list[str]:
        """``posering submit`` options that hand the S3 settings to the job (runtime env)."""
        return [item for name in self.env_names for item in ("--env", name)]

    def env_vars(self) -> dict[str, str]:
        return {name: os.environ[name] for name in self.env_names}


@pytest.fixture(scope="package")
def collection(s3_server, tmp_path_factory) -> Collection:
    import logging

    import boto3
    import fsspec

    from posering.analyze.analyze_videos import analyze_videos
    from posering.demo.run import make_demo_project
    from posering.demo.synthetic import Scene, render_video

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the S3 server's line per request
    work = tmp_path_factory.mktemp("collection")
    config = make_demo_project(str(work / "project"), nframes=30, nlabeled=5)
    install_random_model(config)
    for folder, stems, nframes in (("videos", ("mouse-a", "mouse-b"), 60), ("more-videos", ("mouse-c", "mouse-d"), 150)):
        (work / folder).mkdir()
        for seed, stem in enumerate(stems):
            render_video(str(work / folder / f"{stem}.mp4"), Scene(nframes=nframes, seed=seed + 1))
    bucket = f"cluster-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=bucket)
    fs = fsspec.filesystem("s3")
    fs.put(str(Path(config).parent), f"{bucket}/project", recursive=True)
    for folder in ("videos", "more-videos"):
        fs.put(str(work / folder), f"{bucket}/{folder}", recursive=True)
    scorer = analyze_videos(config, [str(work / "videos"), str(work / "more-videos")], num_workers=0,
                            precision="fp32", destfolder=str(work / "reference"))
    reference = {path.name.split(scorer)[0]: pd.read_hdf(path) for path in (work / "reference").glob("*.h5")}
    local_videos = [str(work / folder / f"{stem}.mp4") for folder, stems in
                    (("videos", ("mouse-a", "mouse-b")), ("more-videos", ("mouse-c", "mouse-d"))) for stem in stems]
    return Collection(f"s3://{bucket}", scorer, f"s3://{bucket}/project/config.yaml", f"s3://{bucket}/videos",
                      f"s3://{bucket}/more-videos", reference, str(work / "reference"), local_videos)


def reports(dest: str) -> list[str]:
    """The run reports under ``dest``, oldest first."""
    from posering import storage

    return sorted(storage.glob(f"{dest}/posering-runs/*/report.md"))


def report_table(report: str) -> pd.DataFrame:
    """A run report's videos.csv, indexed by video."""
    from posering import storage

    with storage.local_copy(storage.join(storage.parent(report), "videos.csv")) as path:
        return pd.read_csv(path, keep_default_na=False).set_index("video")


def read_poses(location: str) -> pd.DataFrame:
    from posering import storage

    with storage.local_copy(location) as path:
        return pd.read_hdf(path)


def assert_same_poses(ours: pd.DataFrame, reference: pd.DataFrame) -> None:
    """Row for row: the same frames, bodyparts and numbers (ONNX Runtime's float32 on one or
    more threads may differ in the last bits)."""
    assert list(ours.index) == list(reference.index), "every frame once, in order"
    assert list(ours.columns.droplevel(0)) == list(reference.columns.droplevel(0))
    np.testing.assert_allclose(ours.to_numpy(), reference.to_numpy(), atol=1e-3)


@contextlib.contextmanager
def environment(**values: str | None):
    """Set (or, with None, remove) environment variables for the block."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def posering(*argv: str, **env: str | None) -> tuple[int, str, str]:
    """Run the ``posering`` command in this process; (exit code, stdout, stderr)."""
    from contextlib import redirect_stderr, redirect_stdout

    from posering.cli import main

    out, err = io.StringIO(), io.StringIO()
    with environment(**env), redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()
