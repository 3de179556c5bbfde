"""Cluster jobs from the window: ``posering submit`` / ``posering jobs`` (``posering.cluster``),
called, not copied.

* :func:`submit` runs the ``posering submit <job>`` command itself (with ``--no-wait``) and
  returns the job id it prints. It runs in a run's child process: building a job's command
  imports the step it runs (torch), which must stay out of the window's process.
* :func:`list_jobs`, :func:`job_logs` and :func:`stop_job` are Ray job-server requests through
  ``posering.cluster.client`` (the same client, token and one-line errors as the commands); the
  view runs them on worker threads.
"""

from __future__ import annotations

import contextlib
import io
import shlex
import time
from dataclasses import dataclass

from posering.errors import PoseringError

DEFAULT_ADDRESS = "http://127.0.0.1:8265"
MISSING = ("cluster jobs need posering's cluster module (posering.cluster: `posering submit`), "
           "which this installation lacks")


def job_names() -> list[str]:
    try:
        from posering.cluster.jobs import JOBS
    except ImportError:
        return []
    return list(JOBS)


def submit_arguments(job: str, arguments: str, address: str, env: str = "", working_dir: str = "") -> list[str]:
    """The ``posering submit`` command line for the form's fields (env: NAME or NAME=VALUE, spaces
    between)."""
    if not address.strip():
        raise PoseringError("give the cluster's address, e.g. http://HEAD:8265")
    try:
        argv = [job, *shlex.split(arguments)]
        env_items = shlex.split(env)
    except ValueError as exc:
        raise PoseringError(f"arguments: {exc} (quote paths with spaces)") from None
    argv += ["--address", address.strip(), "--no-wait"]
    for item in env_items:
        argv += ["--env", item]
    if working_dir.strip():
        argv += ["--working-dir", working_dir.strip()]
    return argv


def submit(argv: list[str]) -> str:
    """``posering submit <argv>``; returns the id of the submitted job (runs in a run's child)."""
    import click

    try:
        from posering.cluster.commands import submit as submit_command
    except ImportError:
        raise PoseringError(MISSING) from None
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            submit_command.main(args=list(argv), prog_name="posering submit", standalone_mode=False)
    except click.ClickException as exc:
        raise PoseringError(f"posering submit {argv[0]}: {exc.format_message()}") from None
    printed = out.getvalue().split()
    if not printed:
        raise PoseringError("posering submit printed no job id")
    return printed[0]


@dataclass(frozen=True)
class JobRow:
    job_id: str
    status: str
    started: str
    ended: str
    entrypoint: str
    message: str

    @property
    def final(self) -> bool:
        return self.status in ("SUCCEEDED", "FAILED", "STOPPED")


def _client(address: str):
    try:
        from posering.cluster.client import cluster_address, explained, job_client
    except ImportError:
        raise PoseringError(MISSING) from None
    address = cluster_address(address or None)
    return job_client(address), explained(address)


def list_jobs(address: str) -> list[JobRow]:
    """Every job of the cluster, newest first."""
    client, explained = _client(address)
    with explained:
        infos = client.list_jobs()
    rows = [JobRow(info.submission_id or info.job_id or "", str(info.status.value), _time(info.start_time),
                   _time(info.end_time), info.entrypoint or "", info.message or "")
            for info in sorted(infos, key=lambda i: i.start_time or 0, reverse=True)]
    return rows


def job_logs(address: str, job_id: str, last: int = 400) -> str:
    """The job's output (its last ``last`` lines)."""
    client, explained = _client(address)
    with explained:
        text = client.get_job_logs(job_id)
    lines = text.splitlines()
    return "\n".join(lines[-last:])


def stop_job(address: str, job_id: str) -> str:
    client, explained = _client(address)
    with explained:
        client.stop_job(job_id)
        return str(client.get_job_status(job_id).value)


def _time(milliseconds: int | None) -> str:
    if not milliseconds:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(milliseconds / 1000))
