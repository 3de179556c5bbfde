"""The job commands without a cluster: one parser for every way a job is started, addresses and
tokens, one-line errors."""

from __future__ import annotations

import inspect
import shlex

import pytest

from posering.cluster.client import auth_headers, cluster_address, runtime_env
from posering.cluster.jobs import ENTRYPOINT, entrypoint, job_argv, job_command
from posering.errors import PoseringError
from tests.cluster.conftest import environment, posering
from tests.conftest import _free_port

ARGV = ["s3://lab/p/config.yaml", "s3://lab/videos", "/data/more videos", "--destfolder", "s3://lab/poses",
        "--dynamic", "[true, 0.5, 10]", "--num-workers", "8", "--gpus_per_worker", "1", "--save_as_csv",
        "--output_format", "[h5, parquet]", "--filter-predictions", "--watch_scale_down", "30"]


def test_a_submitted_job_parses_its_arguments_as_submit_did():
    """submit parses the options; the entry point the cluster runs parses them to the same values."""
    from posering.cluster.commands import submit

    submit_command = submit.get_command(None, "analyze")
    values = submit_command.make_context("analyze", [*ARGV, "--address", "http://head:8265", "--no-wait"]).params
    for name in ("address", "wait", "env", "working_dir", "submission_id"):
        values.pop(name)
    command = entrypoint("analyze", job_argv(job_command("analyze"), values))
    words = shlex.split(command)
    assert words[:len(ENTRYPOINT) + 1] == [*ENTRYPOINT, "analyze"]
    again = job_command("analyze").make_context("analyze", words[len(ENTRYPOINT) + 1:]).params
    assert again == {**values, "address": None}
    assert again["videos"] == ("s3://lab/videos", "/data/more videos") and again["num_workers"] == "8"


def test_the_analyze_job_takes_analyze_videos_options_and_its_own():
    from posering.analyze.analyze_videos import analyze_videos
    from posering.cluster.analyze_collection import analyze_collection

    ours = list(inspect.signature(analyze_collection).parameters)
    theirs = list(inspect.signature(analyze_videos).parameters)
    assert ours[:len(theirs)] == theirs
    assert ours[len(theirs):] == ["filter_predictions", "filtertype", "plot_trajectories", "create_labeled_video",
                                  "report_folder", "watch_scale_down"]
    help_text = job_command("analyze").get_help(job_command("analyze").make_context("analyze", ["c", "v"]))
    assert "--shard_frames" in help_text and "--create_labeled_video" in help_text
    assert "frames per shard" in help_text, "help comes from analyze_videos' docstring"


def test_train_and_compare_jobs_are_the_api_steps():
    """The train and compare jobs run the API's train_network and compare_models (Ray Train, Ray
    Tune), with those functions' own options; a step this version lacks is one clear error."""
    from posering import api
    from posering.cluster.commands import submit

    for job, step in (("train", "train_network"), ("compare", "compare_models")):
        if step in api.ENTRIES:
            command = submit.get_command(None, job)
            names = {p.name for p in command.params}
            assert set(inspect.signature(api.resolve(step)).parameters) - {"address"} <= names
            assert {"address", "wait", "env"} <= names
        else:
            code, _, err = posering("submit", job, "config.yaml", "--address", "http://127.0.0.1:1")
            assert code == 1 and f"runs {step}, which this version of posering does not have" in err


def test_addresses_and_tokens_come_from_where_ray_looks():
    with environment(RAY_API_SERVER_ADDRESS=None, RAY_ADDRESS=None):
        with pytest.raises(PoseringError, match="--address"):
            cluster_address(None)
    with environment(RAY_API_SERVER_ADDRESS="http://a:8265", RAY_ADDRESS="http://b:8265"):
        assert cluster_address(None) == "http://a:8265"
        assert cluster_address("http://c:8265") == "http://c:8265", "the command line wins"
    with environment(RAY_ADDRESS="http://b:8265", RAY_API_SERVER_ADDRESS=None):
        assert cluster_address(None) == "http://b:8265"
    with environment(RAY_AUTH_TOKEN="secret-token", RAY_AUTH_MODE=None):
        assert auth_headers() == {"Authorization": "Bearer secret-token"}
    with environment(RAY_AUTH_TOKEN="secret-token", RAY_AUTH_MODE="disabled"):
        assert auth_headers() == {}


def test_runtime_env_takes_variables_by_name_or_value(tmp_path):
    with environment(POSERING_TEST_ENDPOINT="http://s3.local:9000"):
        env = runtime_env(["POSERING_TEST_ENDPOINT", "AWS_DEFAULT_REGION=eu-west-1"], None)
    assert env == {"env_vars": {"POSERING_TEST_ENDPOINT": "http://s3.local:9000", "AWS_DEFAULT_REGION": "eu-west-1"}}
    with environment(POSERING_TEST_MISSING=None), pytest.raises(PoseringError, match="POSERING_TEST_MISSING"):
        runtime_env(["POSERING_TEST_MISSING"], None)
    uploaded = runtime_env([], str(tmp_path))
    assert uploaded["working_dir"] == str(tmp_path) and ".aws" in uploaded["excludes"]
    with pytest.raises(PoseringError, match="not a folder"):
        runtime_env([], str(tmp_path / "nowhere"))


def test_an_unreachable_head_is_one_line():
    address = f"http://127.0.0.1:{_free_port()}"
    code, _, err = posering("jobs", "list", "--address", address)
    assert code == 1 and f"cannot reach the Ray job server at {address}" in err
    assert len(err.strip().splitlines()) == 1


def test_run_report_from_a_real_analysis(collection, tmp_path):
    """The report of the collection's reference run (single process, 4 videos): a row per video,
    totals that add up, a PNG."""
    import time

    import pandas as pd

    from posering.cluster.nodes import NodeSample
    from posering.cluster.report import video_rows, write_report
    from posering.project.paths import run_report_files

    folder = tmp_path / "reference-report"
    reference = collection.reference_folder
    videos = collection.local_videos
    rows = video_rows(videos, collection.scorer, reference, done_before={videos[0]})
    assert [r.status for r in rows] == ["done earlier", "analyzed", "analyzed", "analyzed"]
    assert [r.analyzed for r in rows[1:]] == [60, 150, 150] and all(r.nodes == "node-1" for r in rows[1:])
    started = min(u["started"] for r in rows for u in r.units) - 1
    samples = [NodeSample(started + i, 1, 0, 2.0, 0.0) for i in range(3)]
    files = run_report_files(str(folder), "run")
    write_report(files, rows, samples, started, time.time(), {"job": "local"})
    table = pd.read_csv(files["videos"])
    assert list(table["status"]) == [r.status for r in rows]
    text = open(files["report"]).read()
    assert "| frames analysed | 360 |" in text and "| done earlier | 1 |" in text
    assert open(files["throughput"], "rb").read(4) == b"\x89PNG"
