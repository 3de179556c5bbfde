"""Jobs on a real Ray cluster: a head and a worker node started with ``ray start`` (token
authentication on), the project and videos in a bucket of the local S3 server.

Submitted with ``ray job submit`` and with ``posering submit``; stopped halfway with ``posering
jobs stop`` and resubmitted; a worker node's raylet killed mid-run. Every run must end with the
poses of an uninterrupted single-process run, row for row, and redo nothing already done.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from posering import storage
from tests.cluster.conftest import SETTINGS, assert_same_poses, posering, read_poses, report_table, reports
from tests.cluster.ray_cluster import REPO, RayCluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    cluster = RayCluster(head_cpus=1)
    try:
        cluster.add_worker_node(num_cpus=1)
        yield cluster
    finally:
        cluster.stop()


def submit(cluster, collection, *argv: str) -> tuple[int, str, str]:
    """``posering submit analyze <config> ... --address <head>`` with the cluster's token."""
    return posering("submit", "analyze", collection.config, *argv, *SETTINGS, *collection.env_options(),
                    "--address", cluster.dashboard_url, RAY_AUTH_TOKEN=cluster.token)


def jobs(cluster, *argv: str) -> tuple[int, str, str]:
    return posering("jobs", *argv, "--address", cluster.dashboard_url, RAY_AUTH_TOKEN=cluster.token)


@pytest.fixture(scope="module")
def submitted(cluster, collection):
    """The two short videos analysed twice: once by ``ray job submit`` (with the checkout as the
    job's working directory), once by ``posering submit`` (the code the nodes have)."""
    by_ray = f"{collection.bucket}/poses-ray"
    result = subprocess.run(
        ["ray", "job", "submit", "--address", cluster.dashboard_url, "--working-dir", str(REPO),
         "--runtime-env-json", json.dumps({"env_vars": collection.env_vars()}), "--",
         "python", "jobs/analyze.py", collection.config, collection.videos, "--destfolder", by_ray,
         "--shard_frames", "20", *SETTINGS],
        env=cluster.client_env(RAY_AUTH_MODE="token"), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    by_posering = f"{collection.bucket}/poses-posering"
    code, out, err = submit(cluster, collection, collection.videos, "--destfolder", by_posering,
                            "--shard_frames", "20")
    assert code == 0, out[-4000:] + err[-2000:]
    return {"ray": by_ray, "posering": by_posering, "job_id": out.splitlines()[0], "log": out}


def h5(collection, dest: str, stem: str) -> str:
    return f"{dest}/{stem}{collection.scorer}.h5"


def test_the_job_server_refuses_requests_without_the_token(cluster, tmp_path):
    assert cluster.api("/api/jobs/", token=None)[0] == 401, "authentication is on"
    code, _, err = posering("jobs", "list", "--address", cluster.dashboard_url, RAY_AUTH_TOKEN="not-the-token")
    assert code == 1 and "refused this machine's token" in err and "RAY_AUTH_TOKEN" in err
    assert len(err.strip().splitlines()) == 1, "one line"
    code, _, err = posering("jobs", "list", "--address", cluster.dashboard_url, RAY_AUTH_TOKEN=None,
                            RAY_AUTH_TOKEN_PATH=str(tmp_path / "missing"))
    assert code == 1 and "RAY_AUTH_TOKEN_PATH" in err and "no such file" in err


def test_both_submissions_write_the_reference_poses_and_a_report(cluster, collection, submitted):
    for dest in (submitted["ray"], submitted["posering"]):
        for stem in ("mouse-a", "mouse-b"):
            assert_same_poses(read_poses(h5(collection, dest, stem)), collection.reference[stem])
        (report,) = reports(dest)
        table = report_table(report)
        assert sorted(table.index) == [f"{collection.videos}/mouse-a.mp4", f"{collection.videos}/mouse-b.mp4"]
        assert (table["status"] == "analyzed").all() and (table["analyzed"] == 60).all()
        assert (table["frames"] == 60).all() and (table["frames_per_second"].astype(float) > 0).all()
        nodes = {label for labels in table["nodes"] for label in labels.split()}
        assert nodes == {"node-1", "node-2"}, "shards spread over the head and the worker node"
        text = storage.read_text(report)
        assert "## Nodes over time" in text and "| frames analysed | 120 |" in text
        png = storage.read_bytes(storage.join(storage.parent(report), "throughput.png"))
        assert png.startswith(b"\x89PNG")
    assert submitted["job_id"].startswith("raysubmit_")
    assert "run report: s3://" in submitted["log"], "the job's log came back to the submitter"


def test_posering_jobs_lists_shows_and_reads_the_job(cluster, submitted):
    job_id = submitted["job_id"]
    code, out, _ = jobs(cluster, "status", job_id)
    assert code == 0 and out.startswith(f"{job_id}: SUCCEEDED")
    code, out, _ = jobs(cluster, "logs", job_id)
    assert code == 0 and "analyzing 2 videos (120 frames)" in out
    code, out, _ = jobs(cluster, "list")
    assert code == 0 and job_id in out
    code, _, err = jobs(cluster, "status", "raysubmit_nosuchjob")
    assert code == 1 and "raysubmit_nosuchjob" in err


def wait_for(condition, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise TimeoutError(what)


def parts(dest: str) -> list[tuple[int, int]]:
    """(first, end) frame of every part file under ``dest``."""
    names = [storage.name(p) for p in storage.glob(f"{dest}/.posering-parts/*/part-*.npz")]
    return [tuple(int(x) for x in name[5:-4].split("-")) for name in names]


def stable_parts(dest: str) -> list[tuple[int, int]]:
    """Parts once no new one has appeared for 3 s (a stopped job's workers are gone)."""
    seen, since = parts(dest), time.time()
    while time.time() - since < 3:
        time.sleep(0.5)
        now = parts(dest)
        if now != seen:
            seen, since = now, time.time()
    return seen


def test_a_stopped_job_resubmitted_redoes_nothing_and_loses_nothing(cluster, collection, submitted):
    dest = submitted["posering"]  # mouse-a and mouse-b are done there
    done_before = {stem: storage.filesystem(h5(collection, dest, stem))[0].modified(h5(collection, dest, stem))
                   for stem in ("mouse-a", "mouse-b")}
    argv = (collection.videos, collection.more_videos, "--destfolder", dest, "--shard_frames", "15")
    code, out, err = submit(cluster, collection, *argv, "--no-wait")
    assert code == 0, err
    job_id = out.splitlines()[0]
    wait_for(lambda: parts(dest), 300, "no shard was finished")
    code, out, _ = jobs(cluster, "stop", job_id)
    assert code == 0 and "STOPPED" in out
    left = stable_parts(dest)
    frames_left = sum(end - first for first, end in left)
    assert 0 < frames_left < 300, "stopped halfway"
    assert not storage.exists(h5(collection, dest, "mouse-c")) or not storage.exists(h5(collection, dest, "mouse-d"))

    code, out, err = submit(cluster, collection, *argv)
    assert code == 0, out[-4000:] + err[-2000:]
    for stem, frames in collection.reference.items():
        assert_same_poses(read_poses(h5(collection, dest, stem)), frames)
    for stem, modified in done_before.items():
        location = h5(collection, dest, stem)
        assert storage.filesystem(location)[0].modified(location) == modified, f"{stem} was redone"
    table = report_table(reports(dest)[-1])
    assert set(table.loc[[f"{collection.videos}/mouse-a.mp4", f"{collection.videos}/mouse-b.mp4"], "status"]) == {"done earlier"}
    resumed = table.loc[[f"{collection.more_videos}/mouse-c.mp4", f"{collection.more_videos}/mouse-d.mp4"]]
    assert resumed["analyzed"].sum() == 300 - frames_left, "finished shards were not analysed again"
    assert "resumed" in set(resumed["status"])
    assert not parts(dest), "parts are removed once a video's outputs are written"


def test_a_lost_worker_node_costs_one_unit_and_a_resubmission_nothing(cluster, collection):
    dest = f"{collection.bucket}/poses-node-lost"
    # One 150-frame unit per video, one per node: the kill lands mid-unit.
    argv = (collection.more_videos, "--destfolder", dest, "--shard_frames", "150")
    code, out, err = submit(cluster, collection, *argv, "--no-wait")
    assert code == 0, err
    job_id = out.splitlines()[0]
    (worker_node,) = [n["node_id"] for n in cluster.alive_nodes() if not n["is_head_node"]]
    try:
        wait_for(lambda: any(t["node_id"] == worker_node for t in cluster.running_tasks("PoseWorker.run")), 600,
                 "the worker node's model replica never analysed a shard")
    except TimeoutError:
        pytest.fail("the worker node's model replica never analysed a shard; the job's log: " +
                    jobs(cluster, "logs", job_id)[1][-6000:])
    killed_at = time.time()
    cluster.kill_node(cluster.worker_nodes[0])  # SIGKILL: the node and its replica gone mid-shard
    cluster.add_worker_node(num_cpus=1)  # its replacement, as an autoscaler would add
    try:
        status = wait_for(lambda: (s := jobs(cluster, "status", job_id)[1]) and
                          any(word in s for word in ("SUCCEEDED", "FAILED", "STOPPED")) and s, 600, "job never ended")
    except TimeoutError:
        pytest.fail("the job never ended: " + jobs(cluster, "logs", job_id)[1][-6000:])
    assert "SUCCEEDED" in status, jobs(cluster, "logs", job_id)[1][-4000:]
    for stem in ("mouse-c", "mouse-d"):
        assert_same_poses(read_poses(h5(collection, dest, stem)), collection.reference[stem])
    table = report_table(reports(dest)[-1])
    if table["retries"].sum() == 0:
        # Nothing ran again: then the killed node had finished its unit before the kill (the task
        # list the test watches lags by a second or so, and a unit takes about that long).
        from posering.cluster.report import video_rows

        rows = video_rows([f"{collection.more_videos}/{s}.mp4" for s in ("mouse-c", "mouse-d")],
                          collection.scorer, dest, set())
        on_killed = [u for row in rows for u in row.units if u["node"] == worker_node]
        assert on_killed and all(u["finished"] < killed_at for u in on_killed), \
            "a unit in flight on the lost node was neither retried nor finished before the kill"
    assert set(table["status"]) == {"analyzed"} and 0 < table["analyzed"].sum() <= 300, "nothing twice"

    code, out, err = submit(cluster, collection, *argv)
    assert code == 0, out[-4000:] + err[-2000:]
    table = report_table(reports(dest)[-1])
    assert set(table["status"]) == {"done earlier"} and table["analyzed"].sum() == 0
