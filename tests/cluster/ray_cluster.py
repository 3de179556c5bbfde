"""Real Ray clusters for tests, started with ``ray start`` on free ports, and stopped by pid.

Other Ray users share this machine (and CI runners run several suites at once), so a test
cluster never uses Ray's default ports, keeps its files in its own ``--temp-dir``, and is stopped
by killing its own process groups and the processes that name its temp dir: never with
``ray stop``, which stops every Ray on the machine.

Token authentication is on (``RAY_AUTH_MODE=token`` with a token made for the cluster), as Ray
2.60 turns it on for local clusters; clients must present the token.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import ray  # noqa: F401  (puts the psutil that Ray bundles on sys.path)
import psutil  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
# Storage settings stay out of the nodes' environment: a job must bring its own (runtime env).
_NOT_INHERITED = ("AWS_", "RAY_ADDRESS", "RAY_API_SERVER_ADDRESS", "RAY_AUTH", "POSERING_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_range(size: int = 60) -> tuple[int, int]:
    """A window of free ports for a node's workers, away from Ray's default 10002-19999."""
    for _ in range(200):
        first = random.randrange(20000, 30000 - size)
        if all(_is_free(port) for port in range(first, first + size)):
            return first, first + size - 1
    raise RuntimeError("no free window of worker ports")


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _node_ports() -> list[str]:
    """The ports every node listens on besides its workers', all free ones."""
    low, high = free_port_range()
    return ["--node-manager-port", str(free_port()), "--object-manager-port", str(free_port()),
            "--dashboard-agent-listen-port", str(free_port()), "--dashboard-agent-grpc-port", str(free_port()),
            "--runtime-env-agent-port", str(free_port()), "--metrics-export-port", str(free_port()),
            "--min-worker-port", str(low), "--max-worker-port", str(high)]


class RayCluster:
    """A head started with ``ray start --head --block`` (and optional worker nodes)."""

    def __init__(self, head_cpus: int = 1, autoscaling_config: dict | None = None,
                 object_store_mb: int = 150):
        self.token = secrets.token_hex(32)
        # Short: Ray's socket paths under it must stay within the 107-byte limit.
        self.temp_dir = tempfile.mkdtemp(prefix="prc-", dir="/tmp")
        self.object_store = str(object_store_mb * 1024 * 1024)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
        self.env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=self.token, RAY_USAGE_STATS_ENABLED="0",
                        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        self.processes: list[subprocess.Popen] = []
        self.worker_nodes: list[subprocess.Popen] = []
        self.temp_dirs = [self.temp_dir]
        for attempt in range(3):  # a busy machine can miss Ray's 30 s start check: start again
            try:
                self._start_head(head_cpus, autoscaling_config, attempt)
                return
            except RuntimeError as exc:
                problem = exc
                _signal_group(self.processes[-1], signal.SIGKILL)
        self.stop()
        raise problem

    def _start_head(self, head_cpus: int, autoscaling_config: dict | None, attempt: int) -> None:
        self.port, self.dashboard_port = free_port(), free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.dashboard_url = f"http://127.0.0.1:{self.dashboard_port}"
        command = ["ray", "start", "--head", "--block", "--port", str(self.port), "--node-ip-address", "127.0.0.1",
                   "--include-dashboard", "true", "--dashboard-host", "127.0.0.1",
                   "--dashboard-port", str(self.dashboard_port), "--ray-client-server-port", str(free_port()),
                   "--num-cpus", str(head_cpus), "--object-store-memory", self.object_store,
                   "--temp-dir", self.temp_dir, "--disable-usage-stats", *_node_ports()]
        env = dict(self.env)
        if autoscaling_config is not None:
            config = dict(autoscaling_config)
            config["provider"] = {**config["provider"], "gcs_address": self.address}
            path = Path(self.temp_dir) / "autoscaling.json"
            path.write_text(json.dumps(config))
            command.append(f"--autoscaling-config={path}")
            env.update(RAY_FAKE_CLUSTER="1", AUTOSCALER_UPDATE_INTERVAL_S="1")
        log = Path(self.temp_dir) / f"head-{attempt}.log"
        self._start(command, env, log)
        self._wait_for_dashboard(self.processes[-1], log)

    # -- processes -----------------------------------------------------------------------------------
    def _start(self, command: list[str], env: dict, log: Path) -> subprocess.Popen:
        with open(log, "wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.processes.append(process)
        return process

    def add_worker_node(self, num_cpus: int = 1, wait: bool = True, attempts: int = 3) -> subprocess.Popen:
        """Start a worker node. Ray gives a raylet 30 s to register, which a busy machine can
        miss: then ``ray start`` exits, and the node is started again."""
        for attempt in range(attempts):
            # Its own temp dir, as on a machine of its own: nodes sharing one would share the
            # folders where runtime envs unpack working dirs, and delete each other's.
            temp_dir = tempfile.mkdtemp(prefix="prc-", dir="/tmp")
            self.temp_dirs.append(temp_dir)
            command = ["ray", "start", "--block", "--address", self.address, "--node-ip-address", "127.0.0.1",
                       "--num-cpus", str(num_cpus), "--object-store-memory", self.object_store,
                       "--temp-dir", temp_dir, "--disable-usage-stats", *_node_ports()]
            log = Path(self.temp_dir) / f"worker-{len(self.worker_nodes)}-{attempt}.log"
            process = self._start(command, self.env, log)
            deadline = time.time() + 180
            # `ray start` says so once the GCS has the node (its own 30 s check passed)
            while wait and time.time() < deadline and process.poll() is None:
                if "Ray runtime started" in log.read_text():
                    break
                time.sleep(0.5)
            if process.poll() is None:
                self.worker_nodes.append(process)
                if wait and "Ray runtime started" not in log.read_text():
                    raise TimeoutError(f"the worker node did not join in 180 s: {log.read_text()[-2000:]}")
                return process
        raise RuntimeError(f"the worker node did not start {attempts} times: {log.read_text()[-2000:]}")

    def kill_node(self, node: subprocess.Popen) -> None:
        """SIGKILL a worker node whole, as a lost machine: its raylet, its workers (which could
        otherwise finish the call in hand and answer) and ``ray start`` itself."""
        processes = [*psutil.Process(node.pid).children(recursive=True), psutil.Process(node.pid)]
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()

    # -- state ---------------------------------------------------------------------------------------
    def api(self, path: str, token: str | None = "own"):
        """GET ``path`` of the dashboard's REST API; returns (status, parsed body)."""
        request = urllib.request.Request(self.dashboard_url + path)
        if token:
            request.add_header("Authorization", f"Bearer {self.token if token == 'own' else token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, None

    def alive_nodes(self) -> list[dict]:
        status, body = self.api("/api/v0/nodes?detail=true&limit=100")
        if status != 200:
            return []
        return [n for n in body["data"]["result"]["result"] if n.get("state") == "ALIVE"]

    def running_tasks(self, name: str) -> list[dict]:
        """Tasks and actor calls named ``name`` (``PoseWorker.run``) running now, with their node_id."""
        status, body = self.api("/api/v0/tasks?detail=true&limit=1000&filter_keys=state"
                                "&filter_predicates=%3D&filter_values=RUNNING")
        if status != 200:
            return []
        return [t for t in body["data"]["result"]["result"] if name in (t.get("name"), t.get("func_or_class_name"))]

    def _wait_for_dashboard(self, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"ray start failed: {log.read_text()[-3000:]}")
            try:
                # `ray start` says so once its own 30 s check has passed
                if "Ray runtime started" in log.read_text() and self.api("/api/jobs/")[0] == 200:
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the dashboard did not come up in {timeout} s: {log.read_text()[-3000:]}")

    def client_env(self, **extra: str) -> dict:
        """Environment of a client on this machine that holds the cluster's token."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_ADDRESS", "RAY_API_SERVER", "RAY_AUTH"))}
        env.update(RAY_AUTH_TOKEN=self.token, PYTHONPATH=self.env["PYTHONPATH"], **extra)
        return env

    # -- teardown ------------------------------------------------------------------------------------
    def stop(self) -> None:
        """SIGTERM our process groups (worker nodes first), then SIGKILL what is left of them and
        of any process that names our temp dir (fake autoscaler nodes, workers)."""
        for process in reversed(self.processes):
            _signal_group(process, signal.SIGTERM)
        deadline = time.time() + 15
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(process, signal.SIGKILL)
        for process in psutil.process_iter(["pid", "cmdline"]):
            try:
                if any(folder in part for part in process.info["cmdline"] or [] for folder in self.temp_dirs):
                    process.kill()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        for folder in self.temp_dirs:
            shutil.rmtree(folder, ignore_errors=True)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
