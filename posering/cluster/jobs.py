"""The jobs a cluster runs, each a command generated from the API function it calls.

A job's command is built by :func:`posering.cli.make_command` from its function's signature, as
every ``posering <step>`` command is: ``posering jobs run analyze`` (the job itself, run where it
is started), ``posering submit analyze`` (the same options, sent to a cluster) and
``jobs/analyze.py`` (for ``ray job submit``) all parse with that one command. Submitting turns
the parsed options back into that command's arguments (:func:`job_argv`) for the entry point.
"""

from __future__ import annotations

import importlib
import shlex

import click

from posering.errors import PoseringError

# job name -> what it runs: "module:function", or the name of an API step (posering.api.ENTRIES).
# train and compare are the steps that train on Ray Train and compare models on Ray Tune.
JOBS: dict[str, str] = {
    "analyze": "posering.cluster.analyze_collection:analyze_collection",
    "train": "train_network",
    "compare": "compare_models",
}
# What a cluster runs: this module's command line, in the job's own Python.
ENTRYPOINT = ("python", "-m", "posering.cli", "jobs", "run")


def job_function(name: str):
    from posering import api

    target = JOBS[name]
    if ":" not in target:
        if target not in api.ENTRIES:
            raise PoseringError(f"the {name} job runs {target}, which this version of posering does not have")
        return api.resolve(target)
    module_name, function_name = target.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def job_command(name: str) -> click.Command:
    from posering.cli import make_command

    return make_command(name, job_function(name))


def job_argv(command: click.Command, values: dict) -> list[str]:
    """The arguments that make ``command`` parse to ``values`` again (click's parsed values, as a
    command's callback receives them; parameters left at their default are left out)."""
    argv: list[str] = []
    for param in command.params:
        if param.name not in values:
            continue
        value = values[param.name]
        if isinstance(param, click.Argument):
            argv.extend(str(v) for v in value) if param.nargs == -1 else argv.append(str(value))
        elif param.is_flag:
            if value is not None and value != param.default:
                argv.append(param.opts[0] if value else param.secondary_opts[0])
        elif param.multiple:
            for item in value or ():
                argv += [param.opts[0], str(item)]
        elif value is not None:
            argv += [param.opts[0], str(value)]
    return argv


def entrypoint(name: str, argv: list[str]) -> str:
    """The shell command a cluster runs for job ``name`` with these arguments."""
    return shlex.join([*ENTRYPOINT, name, *argv])
