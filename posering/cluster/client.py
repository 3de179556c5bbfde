"""Reaching a Ray cluster's job server: its address, its token, and errors in one line.

Everything goes through Ray's own :class:`ray.job_submission.JobSubmissionClient` (the REST API
of the dashboard on the head, port 8265 by default); posering adds only three things:

* the address: ``--address``, else ``RAY_API_SERVER_ADDRESS``, else ``RAY_ADDRESS`` (Ray's own
  variables). Unlike Ray's client, an address given on the command line wins over the variables.
* the token: Ray 2.60 turns on token authentication for clusters it starts. Ray's client sends
  the token only when this machine sets ``RAY_AUTH_MODE=token``; posering sends it whenever this
  machine has one, found where Ray looks (``RAY_AUTH_TOKEN``, the file named by
  ``RAY_AUTH_TOKEN_PATH``, ``~/.ray/auth_token``), unless ``RAY_AUTH_MODE=disabled``.
* errors a user can act on (unreachable head, missing or wrong token, unknown job) as one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from typing import Iterator

from posering.errors import PoseringError

ADDRESS_VARIABLES = ("RAY_API_SERVER_ADDRESS", "RAY_ADDRESS")
ADDRESS_HELP = ("the Ray cluster's job server, http://<head>:8265 (default: RAY_API_SERVER_ADDRESS, "
                "else RAY_ADDRESS)")
TOKEN_HINT = ("set RAY_AUTH_TOKEN to the cluster's token (print it on the head with "
              "`ray get-auth-token`), or RAY_AUTH_TOKEN_PATH to a file that holds it")
# Never uploaded with a working directory: object-store credentials come from the environment
# or the nodes' instance roles, not from files that travel with the job.
UPLOAD_EXCLUDES = [".git", ".aws", ".env", "*.pem", "credentials", "*.egg-info", "__pycache__"]
FINAL_STATES = ("SUCCEEDED", "FAILED", "STOPPED")


def cluster_address(address: str | None) -> str:
    for candidate in (address, *(os.environ.get(name) for name in ADDRESS_VARIABLES)):
        if candidate:
            return candidate
    raise PoseringError("no Ray cluster given: pass --address http://<head>:8265 or set "
                        "RAY_API_SERVER_ADDRESS")


def auth_headers() -> dict[str, str]:
    """``Authorization: Bearer <token>`` when this machine has a Ray token, else nothing."""
    if os.environ.get("RAY_AUTH_MODE", "").lower() == "disabled":
        return {}
    try:  # Ray's own loader, so the token is found exactly where Ray looks for it
        from ray._raylet import AuthenticationTokenLoader
    except ImportError:
        return {}
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if path and not os.environ.get("RAY_AUTH_TOKEN") and not os.path.isfile(path):
        raise PoseringError(f"RAY_AUTH_TOKEN_PATH={path}: no such file; {TOKEN_HINT}")
    loader = AuthenticationTokenLoader.instance()
    loader.reset_cache()
    try:
        if not loader.has_token(ignore_auth_mode=True):
            return {}
        return {"Authorization": f"Bearer {loader.get_raw_token(ignore_auth_mode=True)}"}
    finally:
        # Ray's loader is one per process and caches what it read: a Ray instance started here
        # later (its own token, under other variables) must not get this cluster's token.
        loader.reset_cache()


@contextlib.contextmanager
def explained(address: str) -> Iterator[None]:
    """Ray's connection, authentication and job errors as one-line PoseringErrors."""
    from ray.exceptions import AuthenticationError

    try:
        yield
    except PoseringError:
        raise
    except AuthenticationError as exc:
        problem = "refused this machine's token" if "Authentication failed" in str(exc) else "needs its token"
        raise PoseringError(f"the Ray cluster at {address} {problem}: {TOKEN_HINT}") from None
    except ConnectionError as exc:
        raise PoseringError(f"cannot reach the Ray job server at {address} ({_first_line(exc)}): "
                            "is the head running, and is its dashboard port forwarded here?") from None
    except RuntimeError as exc:
        text = str(exc)
        if "Authentication required" in text or "status code 401" in text:
            raise PoseringError(f"the Ray cluster at {address} needs its token: {TOKEN_HINT}") from None
        if "Authentication failed" in text or "status code 403" in text:
            raise PoseringError(f"the Ray cluster at {address} refused this machine's token: "
                                f"{TOKEN_HINT}") from None
        raise PoseringError(f"Ray job server at {address}: {_first_line(exc)}") from None


def job_client(address: str):
    """A :class:`~ray.job_submission.JobSubmissionClient` for the cluster at ``address`` (see
    :func:`cluster_address`), token included."""
    from ray.job_submission import JobSubmissionClient

    saved = {name: os.environ.pop(name) for name in ADDRESS_VARIABLES if name in os.environ}
    try:  # Ray's client lets these variables override its argument; ours wins
        with explained(address):
            client = JobSubmissionClient(address, headers=auth_headers())
    finally:
        os.environ.update(saved)
    return client


def runtime_env(env: list[str] | tuple[str, ...] = (), working_dir: str | None = None) -> dict:
    """The job's runtime environment: ``NAME=VALUE`` or ``NAME`` (its value here) for each
    variable, and a working directory to upload (a checkout of posering, say)."""
    variables: dict[str, str] = {}
    for item in env:
        name, has_value, value = item.partition("=")
        if not has_value:
            if name not in os.environ:
                raise PoseringError(f"--env {name}: not set here; give {name}=VALUE or export it")
            value = os.environ[name]
        variables[name] = value
    result: dict = {"env_vars": variables} if variables else {}
    if working_dir:
        if not os.path.isdir(working_dir):
            raise PoseringError(f"--working-dir {working_dir}: not a folder")
        result.update(working_dir=os.path.abspath(working_dir), excludes=UPLOAD_EXCLUDES)
    return result


def follow_logs(client, address: str, job_id: str, out=None) -> str:
    """Print the job's logs as they come until it ends; returns its final status."""
    out = out or sys.stdout

    async def tail() -> None:
        async for lines in client.tail_job_logs(job_id):
            out.write(lines)
            out.flush()

    with explained(address):
        asyncio.run(tail())
        return str(client.get_job_status(job_id).value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
