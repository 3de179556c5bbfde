"""An S3 endpoint that accepts connections and never answers fails in about 30 s, not 7 minutes.

The endpoint is a real socket on loopback that accepts every connection and stays silent, as a
hung proxy or a stopped S3-compatible server behind a load balancer does (issue 19, item 2).
"""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from posering import storage
from posering.errors import StorageError

REPO = Path(__file__).resolve().parents[1]


class SilentEndpoint:
    """Accepts TCP connections on loopback, counts them, and never sends a byte."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.connections: list[socket.socket] = []
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:  # closed
                return
            self.connections.append(connection)

    def close(self):
        self.server.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def silent_endpoint():
    endpoint = SilentEndpoint()
    yield endpoint
    endpoint.close()


def test_a_silent_endpoint_fails_within_about_30_seconds_with_one_line(silent_endpoint, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FSSPEC_", "POSERING_S3_"))}
    env.update(AWS_ENDPOINT_URL=silent_endpoint.url, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
               PYTHONPATH=str(REPO), POSERING_CACHE=str(tmp_path / "cache"))
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "posering.cli", "check_labels", "s3://lab/of/config.yaml"],
                            capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=300)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    # The message a closed port gives: the URL, what timed out, where to look.
    assert "s3://lab/of/config.yaml" in lines[0] and "Read timeout" in lines[0], lines
    assert "is reachable (AWS_ENDPOINT_URL, network)" in lines[0], lines
    # Three attempts of 10 s each, with backoff; before, s3fs x botocore retried 25 times (407 s).
    # The bound is loose for a loaded machine; the count of attempts is the exact check.
    assert len(silent_endpoint.connections) == storage.S3_TIMEOUTS["attempts"][1] == 3
    assert elapsed < 90, f"{elapsed:.0f} s"


def test_s3_timeouts_and_attempts_come_from_the_environment(silent_endpoint, monkeypatch):
    monkeypatch.setenv("POSERING_S3_READ_TIMEOUT", "1")
    monkeypatch.setenv("POSERING_S3_ATTEMPTS", "2")
    storage.configure("s3", endpoint_url=silent_endpoint.url, key="testing", secret="testing")
    try:
        started = time.monotonic()
        with pytest.raises(StorageError, match=r"s3://lab/x\.txt: cannot read .*Read timeout"):
            storage.read_text("s3://lab/x.txt")
        assert len(silent_endpoint.connections) == 2
        assert time.monotonic() - started < 30
        monkeypatch.setenv("POSERING_S3_READ_TIMEOUT", "ten")
        with pytest.raises(StorageError, match="POSERING_S3_READ_TIMEOUT='ten' is not a number"):
            storage.exists("s3://lab/x.txt")
    finally:
        storage._REMOTE_OPTIONS.clear()


def test_explicit_client_settings_win_over_the_defaults():
    storage.configure("s3", config_kwargs={"read_timeout": 120, "retries": {"max_attempts": 7}})
    try:
        fs, _ = storage.filesystem("s3://lab/x.txt")
        assert fs.config_kwargs["read_timeout"] == 120 and fs.config_kwargs["retries"] == {"max_attempts": 7}
        assert fs.config_kwargs["connect_timeout"] == 5.0 and fs.retries == 1
    finally:
        storage._REMOTE_OPTIONS.clear()
