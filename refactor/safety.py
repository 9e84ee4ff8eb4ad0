"""Runs that cannot corrupt each other and leave nothing behind.

- One krefactor run per tree at a time: an flock on `<git dir>/krefactor/lock`.
  The second run refuses at once and names the holder.
- SIGTERM is handled like SIGINT: spatch and make children are killed, the
  `finally` blocks remove temporary directories, and no ref is written (refs
  are only updated once a whole series exists).
- `krefactor clean` removes what a crashed run left: krefactor's state in
  the git directory and stray `krefactor-*` temporary directories.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from . import proc
from .errors import KrefactorError
from .tree import Tree


class Interrupted(KrefactorError):
    """The run was stopped by a signal."""


@contextlib.contextmanager
def exclusive(tree: Tree) -> Iterator[None]:
    state = tree.git_dir / "krefactor"
    state.mkdir(exist_ok=True)
    path = state / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise KrefactorError(
                f"another krefactor run (pid {holder}) is working on {tree.path}; "
                f"wait for it, or run `krefactor clean` if it crashed") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def install_signal_handlers() -> None:
    def stop(signum, frame):
        proc.kill_children()
        raise Interrupted(f"interrupted by {signal.Signals(signum).name}; nothing was written")
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def clean(tree: Tree) -> list[str]:
    """Remove krefactor's state in the tree's git directory and stray temporary dirs."""
    removed = []
    with exclusive(tree):
        for child in sorted((tree.git_dir / "krefactor").iterdir()):
            if child.name == "lock":
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()
            removed.append(str(child))
    for tmp in sorted(Path(tempfile.gettempdir()).glob("krefactor-*")):
        if tmp.is_dir() and tmp.stat().st_uid == os.getuid():
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(str(tmp))
    return removed
