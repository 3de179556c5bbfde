"""storage: local and s3 (real moto server) behave alike; writes are atomic; errors name the URL."""

import os

import pytest

from posering import storage
from posering.errors import StorageError


@pytest.fixture(params=["local", "s3"])
def root(request, tmp_path):
    if request.param == "local":
        return str(tmp_path)
    return request.getfixturevalue("s3")


def test_write_read_list_roundtrip(root):
    target = storage.join(root, "a", "b.txt")
    storage.write_text(target, "hello")
    assert storage.read_text(target) == "hello"
    assert storage.exists(target) and storage.isfile(target)
    assert storage.listdir(storage.join(root, "a")) == ["b.txt"]
    assert storage.glob(storage.join(root, "a", "*.txt")) == [target]
    storage.remove(target)
    assert not storage.exists(target)


def test_atomic_write_keeps_old_content_when_writer_fails(root):
    target = storage.join(root, "labels.csv")
    storage.write_text(target, "old")
    with pytest.raises(RuntimeError):
        with storage.atomic_write(target, "w") as handle:
            handle.write("half of the new")
            raise RuntimeError("crash while writing")
    assert storage.read_text(target) == "old"
    if not storage.is_remote(root):
        assert os.listdir(root) == ["labels.csv"], "no temporary file is left behind"


def test_local_target_and_local_copy(root):
    target = storage.join(root, "data.bin")
    with storage.local_target(target) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(b"\x00\x01" * 1000)
    with storage.local_copy(target) as local:
        assert os.path.getsize(local) == 2000


def test_local_target_leaves_target_untouched_on_error(root):
    target = storage.join(root, "model.pt")
    storage.write_bytes(target, b"old")
    with pytest.raises(ValueError):
        with storage.local_target(target) as tmp:
            with open(tmp, "wb") as handle:
                handle.write(b"new")
            raise ValueError("writer failed")
    assert storage.read_bytes(target) == b"old"


def test_copy_between_local_and_s3(tmp_path, s3):
    source = tmp_path / "video.bin"
    source.write_bytes(os.urandom(3000))
    remote = storage.join(s3, "videos", "video.bin")
    storage.copy(str(source), remote)
    back = tmp_path / "back.bin"
    storage.copy(remote, str(back))
    assert back.read_bytes() == source.read_bytes()


def test_missing_bucket_gives_one_clear_error(s3_server):
    with pytest.raises(StorageError, match="s3://no-such-bucket-here/x.txt"):
        storage.read_text("s3://no-such-bucket-here/x.txt")


def test_unreachable_endpoint_names_the_url(monkeypatch):
    storage.configure("s3", endpoint_url="http://127.0.0.1:9", config_kwargs={"connect_timeout": 1,
                      "retries": {"max_attempts": 1}})
    try:
        with pytest.raises(StorageError, match="s3://bucket/file.txt"):
            storage.write_text("s3://bucket/file.txt", "x")
    finally:
        storage._REMOTE_OPTIONS.clear()


def test_join_name_stem_parent():
    assert storage.join("s3://b/p", "x", "y.h5") == "s3://b/p/x/y.h5"
    assert storage.name("s3://b/p/video.mp4") == "video.mp4"
    assert storage.stem("/a/b/video.name.mp4") == "video.name"
    assert storage.parent("s3://b/p/video.mp4") == "s3://b/p"


def test_version_changes_when_a_file_is_rewritten(root):
    target = storage.join(root, "v", "labels.h5")
    assert storage.version(target) is None
    storage.write_text(target, "one")
    first = storage.version(target)
    assert first and storage.version(target) == first  # stable while untouched
    storage.write_text(target, "two")  # rewritten (same size): another version
    assert storage.version(target) != first
