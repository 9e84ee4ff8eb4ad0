"""One choke point for external processes.

Every command is logged as `$ cmd` when verbose, none runs through a shell,
and a failure becomes a KrefactorError carrying the command and the tail of
its stderr.
"""
from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from .errors import KrefactorError

log = logging.getLogger("krefactor")


def require(tool: str, hint: str) -> str:
    """Return the path of `tool` or fail with `hint` as the next step."""
    path = shutil.which(tool)
    if path is None:
        raise ToolMissing(f"{tool} not found on PATH; {hint}")
    return path


def run(
    cmd: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    timeout: float | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run `cmd` and return its completed process (stdout and stderr as bytes)."""
    log.debug("$ %s", shlex.join(str(c) for c in cmd))
    full_env = None
    if env is not None:
        full_env = dict(os.environ)
        full_env.update(env)
    try:
        res = subprocess.run(
            [str(c) for c in cmd], cwd=cwd, env=full_env, input=input,
            capture_output=True, timeout=timeout, check=False,
        )
    except FileNotFoundError as e:
        raise ToolMissing(f"{cmd[0]} not found: {e.strerror}") from e
    if check and res.returncode != 0:
        raise KrefactorError(
            f"`{shlex.join(str(c) for c in cmd)}` failed (exit {res.returncode}): "
            f"{tail(res.stderr)}"
        )
    return res


def tail(data: bytes, lines: int = 3) -> str:
    text = data.decode("utf-8", "replace").strip().splitlines()
    return " | ".join(text[-lines:]) if text else "(no output)"




class ToolMissing(KrefactorError):
    """A tool krefactor needs is not installed."""
