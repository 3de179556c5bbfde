"""Shared fixtures: real components only.

* ``ray_session``: one local Ray instance for the whole test session (2 CPUs, no dashboard).
* ``s3``: a real S3-compatible server (moto's server) on loopback, with a fresh bucket per test.
* ``synthetic_video`` / ``demo_project``: real videos written with OpenCV, a real demo project.
* ``openfield_project`` / ``reaching_project`` / ``dlc3_project``: the DeepLabCut example projects
  of ``../shared/data`` copied to a temporary folder (skipped, with the reason, where absent).
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    explicit = os.environ.get("POSERING_SHARED_DATA")
    candidate = Path(explicit) if explicit else REPO.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


SHARED_DATA = shared_data_dir()
needs_shared_data = pytest.mark.skipif(
    SHARED_DATA is None,
    reason="../shared/data (DeepLabCut's example projects) is not beside this checkout; "
           "set POSERING_SHARED_DATA to its location to run these tests")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Remote files are cached per test session, never in the user's home; the desktop
    client's settings (recent projects) go to the session's folder, not the user's."""
    monkeypatch.setenv("POSERING_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "settings"))


# -- Ray ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def ray_session():
    import ray

    if not ray.is_initialized():
        # "local": our own instance, never the latest `ray start` cluster on the machine (a
        # cluster test's head, or one a killed driver left behind).
        ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=300 * 1024 * 1024,
                 log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


# -- S3 ------------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback; AWS variables point every client (and Ray workers) at it."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION")}
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "us-east-1"})
    yield endpoint
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def s3(s3_server):
    """A fresh, empty bucket; yields its URL ``s3://<bucket>``."""
    import boto3

    bucket = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=bucket)
    yield f"s3://{bucket}"


# -- videos and projects --------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def synthetic_video(tmp_path_factory):
    """A 120-frame 320x240 mp4 of the synthetic mouse; yields (path, keypoints (120, 4, 2))."""
    from posering.demo.synthetic import Scene, render_video

    path = tmp_path_factory.mktemp("videos") / "mouse.mp4"
    points = render_video(str(path), Scene(nframes=120))
    return str(path), points


@pytest.fixture
def demo_project(tmp_path):
    """A fresh demo project (synthetic video, 40 labeled frames); yields its config path."""
    from posering.demo.run import make_demo_project

    return make_demo_project(str(tmp_path / "demo"), nframes=120, nlabeled=20)


def _copy_shared(name: str, tmp_path: Path) -> Path:
    if SHARED_DATA is None:
        pytest.skip("../shared/data is not beside this checkout (set POSERING_SHARED_DATA)")
    source = SHARED_DATA / name
    target = tmp_path / name
    shutil.copytree(source, target, symlinks=False)
    for path in [target, *target.rglob("*")]:  # shared files are read-only; copies must not be
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@pytest.fixture
def openfield_project(tmp_path) -> Path:
    """A writable copy of openfield-Pranav-2018-10-30; yields the config.yaml path."""
    return _copy_shared("openfield-Pranav-2018-10-30", tmp_path) / "config.yaml"


@pytest.fixture
def reaching_project(tmp_path) -> Path:
    return _copy_shared("Reaching-Mackenzie-2018-08-30", tmp_path) / "config.yaml"


def deeplabcut_trained_openfield(work: Path) -> Path:
    """The openfield project with DeepLabCut 3's trained shuffle laid over it (its README's
    recipe), copied into ``work``; the project's folder."""
    root = _copy_shared("openfield-Pranav-2018-10-30", work)
    model = _copy_shared("dlc3-openfield-resnet50", work / "dlc3")
    for entry in ("config.yaml", "dlc-models-pytorch", "training-datasets", "videos"):
        source = model / entry
        if source.is_dir():
            shutil.copytree(source, root / entry, dirs_exist_ok=True)
        else:
            shutil.copy2(source, root / entry)
    return root


@pytest.fixture
def dlc3_project(tmp_path) -> Path:
    """deeplabcut_trained_openfield's config.yaml."""
    return deeplabcut_trained_openfield(tmp_path) / "config.yaml"
