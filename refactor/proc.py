"""One choke point for external processes.

Every command is logged as `$ cmd` when verbose, none runs through a shell,
and a failure becomes a KrefactorError carrying the command and the tail of
its stderr.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .errors import KrefactorError

log = logging.getLogger("krefactor")
T = TypeVar("T")
R = TypeVar("R")


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
    unset: Sequence[str] = (),
) -> subprocess.CompletedProcess[bytes]:
    """Run `cmd` and return its completed process (stdout and stderr as bytes);
    `env` goes on top of ours, without the variables named in `unset`."""
    child = spawn(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE if input is not None
                  else subprocess.DEVNULL, stderr=subprocess.PIPE, unset=unset)
    try:
        out, err = child.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(child)
        child.communicate()
        raise
    finally:
        LIVE.discard(child)
    res = subprocess.CompletedProcess(child.args, child.returncode, out, err)
    if check and res.returncode != 0:
        raise KrefactorError(
            f"`{shlex.join(str(c) for c in cmd)}` failed (exit {res.returncode}): "
            f"{tail(res.stderr)}"
        )
    return res


def stream(
    cmd: Sequence[str],
    on_line: Callable[[str], None],
    *,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run `cmd` with stderr merged into stdout, passing each line to `on_line` as it comes.

    Merging keeps a compiler's messages next to the make line that ran it.
    """
    child = spawn(cmd, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    chunks = []
    try:
        assert child.stdout is not None
        for raw in child.stdout:
            chunks.append(raw)
            on_line(raw.decode("utf-8", "replace").rstrip("\n"))
        child.wait()
    finally:
        LIVE.discard(child)
    return subprocess.CompletedProcess(child.args, child.returncode, b"".join(chunks), b"")


def spawn(cmd: Sequence[str], *, env: Mapping[str, str] | None, stdin: int, stderr: int,
          cwd: str | os.PathLike[str] | None = None,
          unset: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """Start `cmd` (logged, stdout piped, `env` on top of ours) in a session of
    its own, as one of LIVE: the caller discards it from LIVE once it is done."""
    log.debug("$ %s", shlex.join(str(c) for c in cmd))
    full_env = None
    if env is not None or unset:
        full_env = {k: v for k, v in os.environ.items() if k not in unset}
        full_env.update(env or {})
    # Started and made known to kill_children() at once: a child that a
    # worker thread starts while the main thread stops is killed too, or not
    # started at all.
    with STARTING:
        if STOPPED.is_set():
            raise Stopped(f"not started after an interruption: {cmd[0]}")
        try:
            child = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=full_env, stdin=stdin,
                                     stdout=subprocess.PIPE, stderr=stderr,
                                     start_new_session=True)
        except FileNotFoundError as e:
            raise ToolMissing(f"{cmd[0]} not found: {e.strerror}") from e
        LIVE.add(child)
        return child


# Children run in their own session, so that a signal krefactor handles is
# not delivered to them too, and they are killed as a group (make's
# children included) when krefactor stops.
LIVE: set[subprocess.Popen[bytes]] = set()
STOPPED = threading.Event()
STARTING = threading.RLock()     # re-entrant: the signal handler runs in the main thread


def kill(child: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_children() -> None:
    """Kill every live child; from now on no new one starts (a worker thread
    still going through its queue gets Stopped instead)."""
    with STARTING:
        STOPPED.set()
        for child in list(LIVE):
            kill(child)


def tail(data: bytes, lines: int = 3) -> str:
    text = data.decode("utf-8", "replace").strip().splitlines()
    return " | ".join(text[-lines:]) if text else "(no output)"




class Stopped(KrefactorError):
    """A command was not started because krefactor is stopping."""


class ToolMissing(KrefactorError):
    """A tool krefactor needs is not installed."""


HELD = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back (in the main thread) until the block ends;
    one that came meanwhile is then handled as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def pmap(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """`fn` over `items` on `workers` threads, results in order. The threads
    start with SIGINT and SIGTERM held: krefactor's handler raises, and an
    exception raised inside Thread.start() leaves the new thread to die
    with a traceback on stderr (`del _limbo[self]`). A signal that comes
    meanwhile is handled once every thread has started; the workers (and
    what they start) then run with both unblocked."""
    submitted = threading.Event()

    def unhold() -> None:
        # Not before: a worker that could take the signal would have the
        # main thread handle it, inside the next Thread.start().
        submitted.wait()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)

    with ThreadPoolExecutor(max_workers=max(1, workers), initializer=unhold) as pool:
        try:
            with signals_held():
                futures = [pool.submit(fn, x) for x in items]
        finally:
            submitted.set()
        return [f.result() for f in futures]
