"""``posering submit analyze|train|compare ...`` and ``posering jobs list|status|logs|stop|run``.

Submitting goes through Ray's Job Submission API (``client.py``): the job's entry point is
``python -m posering.cli jobs run <job> <its arguments>``, so the cluster parses the options
with the very command that checked them here. The cluster needs posering installed (the image
in ``deploy/``), or ``--working-dir`` uploads a checkout with the job.
"""

from __future__ import annotations

import time

import click

from posering.cluster.client import (ADDRESS_HELP, FINAL_STATES, cluster_address, explained, follow_logs,
                                     job_client, runtime_env)
from posering.cluster.jobs import JOBS, entrypoint, job_argv, job_command
from posering.errors import PoseringError

_address = click.Option(["--address"], default=None, help=ADDRESS_HELP)
SUBMIT_OPTIONS = [
    _address,
    click.Option(["--wait/--no-wait"], default=True, help="follow the job's logs until it ends [default: wait]"),
    click.Option(["--env"], multiple=True, metavar="NAME[=VALUE]",
                 help="an environment variable for the job: NAME=VALUE, or NAME for its value here "
                      "(e.g. AWS_ENDPOINT_URL); repeat for several. Prefer instance roles for "
                      "credentials: values are visible to whoever can read the job on the dashboard"),
    click.Option(["--working-dir"], default=None,
                 help="a folder uploaded with the job and used as its working directory (a checkout "
                      "of posering, when the cluster's image lacks this version)"),
    click.Option(["--submission-id"], default=None, help="the job's id (default: Ray chooses one)"),
]


class _JobNames(click.Group):
    """One subcommand per job in ``jobs.JOBS``, built when used."""

    def __init__(self, *args, build, **kwargs):
        super().__init__(*args, **kwargs)
        self.build = build

    def list_commands(self, ctx):
        return list(JOBS)

    def get_command(self, ctx, cmd_name):
        if cmd_name not in JOBS:
            return None
        try:
            return self.build(cmd_name)
        except PoseringError as exc:  # a job this install cannot run: say so when it is used
            def unavailable(problem=str(exc), **_):
                raise PoseringError(problem)

            return click.Command(cmd_name, callback=unavailable, help=str(exc), short_help="(unavailable)",
                                 context_settings={"ignore_unknown_options": True}, params=[
                                     click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)])


def _submit_command(name: str) -> click.Command:
    job = job_command(name)
    own = {option.name for option in SUBMIT_OPTIONS}
    # The job's own `address` (which Ray cluster to join) means nothing here: on the cluster the
    # job joins the cluster it runs on.
    job_params = [p for p in job.params if p.name not in own]

    def callback(**values):
        submit = {key: values.pop(key) for key in own}
        address = cluster_address(submit["address"])
        command = entrypoint(name, job_argv(job, values))
        env = runtime_env(submit["env"], submit["working_dir"])
        client = job_client(address)
        with explained(address):
            job_id = client.submit_job(entrypoint=command, runtime_env=env or None,
                                       submission_id=submit["submission_id"])
        click.echo(job_id)
        click.echo(f"submitted {job_id} to {address}: {command}", err=True)
        if not submit["wait"]:
            click.echo(f"follow it with: posering jobs logs {job_id} --follow --address {address}", err=True)
            return
        status = follow_logs(client, address, job_id)
        if status != "SUCCEEDED":
            raise PoseringError(f"job {job_id} {status}; its log is above (posering jobs logs {job_id})")
        click.echo(f"job {job_id} SUCCEEDED", err=True)

    return click.Command(name, callback=callback, params=[*job_params, *SUBMIT_OPTIONS],
                         help=f"Submit the {name} job to a Ray cluster.\n\n{job.help}",
                         short_help=f"submit the {name} job ({job.short_help})")


submit = _JobNames("submit", build=_submit_command,
                   help="Submit a job to a Ray cluster: its id is printed, then its logs until it ends.")
run = _JobNames("run", build=job_command,
                help="Run a job here: what a cluster runs for `posering submit` (and jobs/*.py).")


@click.group("jobs")
def jobs() -> None:
    """The jobs of a Ray cluster: list them, see one's status or logs, stop one, or run one here."""


jobs.add_command(run)


@jobs.command("list")
@click.option("--address", default=None, help=ADDRESS_HELP)
def list_jobs(address: str | None) -> None:
    """Every job the cluster knows, oldest first: id, status, start, end, entry point."""
    address = cluster_address(address)
    client = job_client(address)
    with explained(address):
        infos = client.list_jobs()
    for info in sorted(infos, key=lambda i: i.start_time or 0):
        entry = info.entrypoint if len(info.entrypoint) <= 100 else info.entrypoint[:99] + "…"
        click.echo(f"{info.submission_id or info.job_id}  {info.status.value:<9}  {_time(info.start_time):<19}  "
                   f"{_time(info.end_time):<19}  {entry}")


@jobs.command("status")
@click.argument("job_id")
@click.option("--address", default=None, help=ADDRESS_HELP)
def job_status(job_id: str, address: str | None) -> None:
    """A job's status (PENDING, RUNNING, SUCCEEDED, FAILED, STOPPED) and Ray's message about it."""
    address = cluster_address(address)
    client = job_client(address)
    with explained(address):
        info = client.get_job_info(job_id)
    click.echo(f"{job_id}: {info.status.value}" + (f" ({info.message})" if info.message else ""))


@jobs.command("logs")
@click.argument("job_id")
@click.option("--follow/--no-follow", "-f", default=False, help="keep printing until the job ends")
@click.option("--address", default=None, help=ADDRESS_HELP)
def job_logs(job_id: str, follow: bool, address: str | None) -> None:
    """A job's output (what its driver printed and logged)."""
    address = cluster_address(address)
    client = job_client(address)
    if follow:
        follow_logs(client, address, job_id)
        return
    with explained(address):
        click.echo(client.get_job_logs(job_id), nl=False)


@jobs.command("stop")
@click.argument("job_id")
@click.option("--wait/--no-wait", default=True, help="wait until it has stopped [default: wait]")
@click.option("--address", default=None, help=ADDRESS_HELP)
def job_stop(job_id: str, wait: bool, address: str | None) -> None:
    """Stop a running job. Its finished shards and videos stay: submit it again to resume."""
    address = cluster_address(address)
    client = job_client(address)
    with explained(address):
        client.stop_job(job_id)
        status = str(client.get_job_status(job_id).value)
        while wait and status not in FINAL_STATES:
            time.sleep(1)
            status = str(client.get_job_status(job_id).value)
    click.echo(f"{job_id}: {status}")


def _time(milliseconds: int | None) -> str:
    if not milliseconds:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(milliseconds / 1000))
