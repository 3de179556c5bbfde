"""The ``posering`` command: one subcommand per API function, same names, same options.

Commands are generated from :mod:`posering.api`: each function's signature gives the arguments
(parameters without a default, and an optional ``config``) and options (the other parameters
with a default), its docstring's ``Parameters`` section gives the help text. Options accept both
spellings, ``--copy_videos`` (the API's name) and ``--copy-videos``. Values that are not plain
strings or numbers (lists, tuples, dicts) are given in YAML: ``--dynamic "[true, 0.5, 10]"``,
``--Shuffles "[1, 2]"``. List options (``list[str]`` or ``list[int]``) take several values after
one flag, up to the next option: ``--shuffles 1 2 3``, ``--net_types resnet_50 mobilenet_v2_1.0``.

A user mistake (a :class:`~posering.errors.PoseringError`) prints one line and exits with 1;
``posering --debug <command>`` shows the traceback instead. A step where some videos failed
(:class:`~posering.errors.VideosFailed`) prints what the others gave, then the line naming the
failed videos, and exits with 1.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import logging
import re
import sys
from typing import Any, Callable

import click
import yaml

from posering import api
from posering.errors import PoseringError, VideosFailed

log = logging.getLogger("posering")


# -- docstrings ------------------------------------------------------------------------------------
def _split_doc(function: Callable) -> tuple[str, dict[str, str]]:
    """(summary, {parameter: help}) from a docstring with a ``Parameters`` section."""
    doc = inspect.getdoc(function) or ""
    parts = re.split(r"\n\s*Parameters\n\s*-+\n", doc, maxsplit=1)
    summary = parts[0].strip()
    helps: dict[str, str] = {}
    if len(parts) == 2:
        section = re.split(r"\n\s*(?:Returns|Raises|Examples|Notes)\n\s*-+\n", parts[1])[0]
        current = None
        for line in section.splitlines():
            numpy_style = re.match(r"^(\w+) : ", line)  # "name : type", help on the next lines
            match = re.match(r"^(\w+)\s*:\s*(.*)$", line) if not line.startswith(" ") else None
            if numpy_style:
                current = numpy_style.group(1)
                helps[current] = ""
            elif match:
                current = match.group(1)
                helps[current] = match.group(2).strip()
            elif current and line.strip():
                helps[current] += " " + line.strip()
    return summary, helps


# -- parameter types ---------------------------------------------------------------------------------
def _kind(parameter: inspect.Parameter) -> str:
    """'flag', 'int', 'float', 'str', 'list', 'intlist' or 'yaml' for one parameter."""
    annotation = parameter.annotation if parameter.annotation is not inspect.Parameter.empty else ""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    default = parameter.default
    if isinstance(default, bool) or text == "bool":
        return "flag"
    if text.startswith("list[str]") or text.startswith("list[str] | str"):
        return "list"
    if text in ("list[int]", "list[int] | None"):
        return "intlist"
    if any(t in text for t in ("list", "tuple", "dict", "|")) and "str | None" not in text:
        return "yaml"
    if isinstance(default, (list, tuple, dict)):
        return "yaml"
    if text == "int" or (isinstance(default, int) and not text):
        return "int"
    if text == "float" or (isinstance(default, float) and not text):
        return "float"
    return "str"


def _parse_yaml(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value


def _flatten_list(values: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for value in values:
        parsed = _parse_yaml(value) if value.strip().startswith("[") else value
        out.extend(str(v) for v in parsed) if isinstance(parsed, list) else out.append(value)
    return out


def _click_param(parameter: inspect.Parameter, help_text: str) -> click.Parameter:
    kind = _kind(parameter)
    name = parameter.name
    required = parameter.default is inspect.Parameter.empty
    if name == "config" and not required:  # `posering gui [config.yaml]`: the project, if given
        return click.Argument([name], required=False, default=None)
    if required:
        if kind in ("list", "intlist"):
            return click.Argument([name], nargs=-1, required=True)
        type_ = {"int": int, "float": float}.get(kind, str)
        return click.Argument([name], type=type_)
    dashed = name.replace("_", "-")
    spellings = [f"--{name}"] + ([f"--{dashed}"] if dashed != name else [])
    default = parameter.default
    shown = "" if default is None else f" [default: {default}]"
    if kind == "flag":
        negatives = [f"--no-{name}"] + ([f"--no-{dashed}"] if dashed != name else [])
        decls = ["/".join(pair) for pair in zip(spellings, negatives)]
        return click.Option(decls + [name], default=default, help=help_text + shown)
    if kind in ("list", "intlist"):
        return click.Option(spellings + [name], multiple=True, default=None,
                            help=help_text + " (one or more values)" + shown)
    type_ = {"int": int, "float": float}.get(kind, str)
    yaml_hint = " (YAML, e.g. [1, 2])" if kind == "yaml" else ""
    return click.Option(spellings + [name], type=type_, default=None, show_default=False,
                        help=help_text + yaml_hint + shown)


def _convert(parameter: inspect.Parameter, value: Any) -> Any:
    kind = _kind(parameter)
    if kind in ("list", "intlist"):
        if value is None or value == ():
            return parameter.default if parameter.default is not inspect.Parameter.empty else []
        values = _flatten_list(tuple(value))
        if kind == "intlist":
            try:
                return [int(v) for v in values]
            except ValueError:
                raise click.BadParameter(f"whole numbers expected, got {' '.join(values)}",
                                         param_hint=f"--{parameter.name}") from None
        return values
    if value is None:
        return parameter.default
    if kind == "yaml":
        return _parse_yaml(value)
    return value


def make_command(name: str, function: Callable) -> click.Command:
    summary, helps = _split_doc(function)
    signature = inspect.signature(function)
    parameters = [p for p in signature.parameters.values()
                  if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)]

    def callback(**kwargs):
        arguments = {p.name: _convert(p, kwargs.get(p.name)) for p in parameters}
        result = function(**arguments)
        _print_result(result)

    params = [_click_param(p, helps.get(p.name, "")) for p in parameters]
    short = summary.split("\n")[0] if summary else name
    return click.Command(name, callback=callback, params=params, help=summary, short_help=short)


def _print_result(result: Any) -> None:
    if result is None:
        return
    if isinstance(result, (str, int, float)):
        click.echo(result)
    elif hasattr(result, "to_string"):
        click.echo(result.to_string())
    else:
        click.echo(yaml.safe_dump(_plain(result), sort_keys=False).rstrip())


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# -- the group -------------------------------------------------------------------------------------
# Command groups beside the steps ("module:group"), imported when used: cluster jobs.
GROUPS = {"submit": "posering.cluster.commands:submit", "jobs": "posering.cluster.commands:jobs"}


class _Steps(click.Group):
    """Commands built on demand; ``create-new-project`` is accepted for ``create_new_project``."""

    def list_commands(self, ctx):
        return [*api.ENTRIES, *GROUPS]

    def get_command(self, ctx, cmd_name):
        if cmd_name in GROUPS:
            module_name, group = GROUPS[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), group)
        name = cmd_name.replace("-", "_")
        if name not in api.ENTRIES:
            return None
        return make_command(name, api.resolve(name))


@click.group(cls=_Steps, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug logs).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.version_option(package_name="posering")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: int, quiet: bool) -> None:
    """posering: DeepLabCut-compatible pose estimation that scales out on Ray.

    Each command is one step of the workflow and takes the same arguments as the Python API
    (`import posering as pr; help(pr.<step>)`). Run `posering <step> --help` for its options.
    """
    ctx.obj = {"debug": debug}
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    # Other libraries speak at WARNING unless -vv: botocore's INFO lines ("Found credentials in
    # environment variables.") would otherwise stand before every one-line error.
    logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.WARNING,
                        format="%(message)s", stream=sys.stderr)
    logging.getLogger("posering").setLevel(level)


def _spread_list_options(argv: list[str]) -> list[str]:
    """``--shuffles 1 2 3`` -> ``--shuffles 1 --shuffles 2 --shuffles 3`` for the step's list
    options (click takes one value per flag): values up to the next token starting with '-'."""
    step = next((a for a in argv if not a.startswith("-")), None)
    name = step.replace("-", "_") if step else None
    if name not in api.ENTRIES:
        return argv
    parameters = inspect.signature(api.resolve(name)).parameters.values()
    flags = set()
    for p in parameters:
        if p.default is not inspect.Parameter.empty and _kind(p) in ("list", "intlist"):
            flags.update({f"--{p.name}", f"--{p.name.replace('_', '-')}"})
    out, current = [], None
    for token in argv:
        if token.startswith("-"):
            current = token if token in flags else None
            out.append(token)
        elif current is not None and out[-1] != current:
            out += [current, token]
        else:
            out.append(token)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    argv = _spread_list_options(argv)
    debug = "--debug" in argv
    try:
        cli.main(args=argv, prog_name="posering", standalone_mode=False)
    except PoseringError as exc:
        if debug:
            raise
        if isinstance(exc, VideosFailed):
            _print_result(exc.returned)
        click.secho(f"error: {exc}", fg="red", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
