"""Runs that cannot corrupt each other, leave nothing behind, and delete only their own.

- One krefactor run per tree at a time: an flock on `<git dir>/krefactor/lock`.
  The second run refuses at once and names the holder.
- SIGTERM is handled like SIGINT: spatch and make children are killed, the
  `finally` blocks remove temporary directories, and no ref is written (refs
  are only updated once a whole series exists).

The deletion rule, written once here; every deletion in krefactor goes
through `remove()` or `clean()`:

1. krefactor deletes only inside `<git dir>/krefactor/` of the tree it works
   on. Nothing in `$TMPDIR`, the checkout, the output directory or a branch.
   (The one exception is `import_tree` undoing its own half-made import,
   see `undo_import`.)
2. Scratch directories live in `<git dir>/krefactor/tmp/`, and each holds an
   owner record: the git directory it was made for, the pid that made it and
   that process's start time (so that a recycled pid does not pass for the
   owner). A run removes its own; `clean` removes one only when the record
   names this tree and its process is gone. A directory without a valid
   record is never removed, whatever its name.
3. Build state (`<git dir>/krefactor/build/`), the code index
   (`<git dir>/krefactor/index/`), spatch's kept results
   (`<git dir>/krefactor/spatch/`) and the call graph's
   (`<git dir>/krefactor/cache/`) are removed by `clean` under
   the tree's lock, so no compile-test or boot-test is using it.
4. Never removed: the series records (`<git dir>/krefactor/series/`, from
   which `coverage` reads why a site was left), the lock file, branches.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from . import proc
from .errors import KrefactorError


class Tree(Protocol):
    """What safety needs of a tree (tree.Tree is one): no import of tree.py,
    which uses safety."""
    @property
    def path(self) -> Path: ...
    @property
    def git_dir(self) -> Path: ...

OWNER_FILE = "krefactor-owner.json"
KEEP = ("lock", "series")      # entries of <git dir>/krefactor/ that clean never removes
# Removed whole by clean, under the lock: build state, code index, spatch's
# results, the call graph's answers.
STATE = ("build", "index", "spatch", "cache")


class Interrupted(KrefactorError):
    """The run was stopped by a signal."""


def state_dir(git_dir: Path) -> Path:
    """krefactor's own directory inside a tree's git directory."""
    return git_dir / "krefactor"


@contextlib.contextmanager
def exclusive(tree: Tree) -> Iterator[None]:
    state = state_dir(tree.git_dir)
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


def process_start(pid: int) -> str | None:
    """The start time of `pid` in clock ticks since boot, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after it.
    return stat.rpartition(")")[2].split()[19]


@contextlib.contextmanager
def scratch(git_dir: Path, purpose: str, *, remove_behind: bool = False) -> Iterator[Path]:
    """A temporary directory of this run, for this tree, with its owner record.
    With `remove_behind`, it is removed by a thread of its own while the run
    goes on (deleting is slow where the filesystem discards what it frees);
    Python waits for that thread before the process exits, and a directory a
    killed run left behind still has its owner record, for `clean`."""
    root = state_dir(git_dir) / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    path = None
    try:
        # A signal that landed between making the directory and naming it
        # `path` would leave it behind: SIGINT and SIGTERM wait until then.
        with signals_held():
            made = Path(tempfile.mkdtemp(prefix=f"{purpose}-", dir=root))
            try:
                pid = os.getpid()
                (made / OWNER_FILE).write_text(json.dumps(
                    {"git_dir": str(git_dir.resolve()), "pid": pid,
                     "start": process_start(pid)}))
            except BaseException:
                shutil.rmtree(made, ignore_errors=True)
                raise
            path = made
        yield path
    finally:
        if path is not None:
            remove(path, git_dir, behind=remove_behind)


signals_held = proc.signals_held     # one place holds SIGINT and SIGTERM back


def owner(path: Path) -> dict | None:
    """The owner record of a scratch directory, or None when it has no valid one."""
    try:
        rec = json.loads((path / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or not isinstance(rec.get("pid"), int) \
            or not isinstance(rec.get("git_dir"), str):
        return None
    return rec


def owner_alive(rec: dict) -> bool:
    start = process_start(rec["pid"])
    return start is not None and start == rec.get("start")


def not_ours(path: Path, git_dir: Path) -> str | None:
    """Why `path` is not provably krefactor's own for the tree at `git_dir` (None if it is)."""
    state = state_dir(git_dir).resolve()
    try:
        rel = path.resolve().relative_to(state)
    except ValueError:
        return f"outside {state}"
    if not rel.parts:
        return "it is krefactor's state directory itself"
    if rel.parts[0] in KEEP:
        return f"{rel.parts[0]} is kept"
    if rel.parts[0] == "tmp" and len(rel.parts) >= 2:
        rec = owner(state / "tmp" / rel.parts[1])
        if rec is None:
            return "no owner record"
        if Path(rec["git_dir"]) != git_dir.resolve():
            return f"made for another tree ({rec['git_dir']})"
    return None


def remove(path: Path, git_dir: Path, *, behind: bool = False) -> None:
    """Delete a file or directory, only if it is provably krefactor's own (see
    the module doc); with `behind`, a directory is deleted by a thread of its
    own while the caller goes on."""
    why = not_ours(path, git_dir)
    if why is not None:
        raise KrefactorError(f"refusing to delete {path}: {why}")
    if path.is_dir() and not path.is_symlink() and behind:
        threading.Thread(target=shutil.rmtree, args=(path,), kwargs={"ignore_errors": True},
                         name=f"remove {path.name}").start()
    elif path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def undo_import(dest: Path, created: bool) -> None:
    """Undo a failed `krefactor import` into `dest`, which it found missing or empty:
    remove `dest` if the import created it, else only what the import put in it."""
    if created:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for child in dest.iterdir():
        shutil.rmtree(child, ignore_errors=True) if child.is_dir() and not child.is_symlink() \
            else child.unlink(missing_ok=True)


def clean(tree: Tree) -> tuple[list[str], list[str]]:
    """Remove krefactor's build state and the scratch directories of dead runs of this
    tree. Returns what was removed and what was kept, with why."""
    removed, kept = [], []
    state = state_dir(tree.git_dir)
    with exclusive(tree):
        for child in sorted(state.iterdir()):
            if child.name in KEEP:
                continue
            if child.name in STATE:
                remove(child, tree.git_dir)
                removed.append(str(child))
                continue
            if child.name != "tmp" or not child.is_dir():
                kept.append(f"{child} (not krefactor's: unknown name)")
                continue
            for scratch_dir in sorted(child.iterdir()):
                rec = owner(scratch_dir)
                why = not_ours(scratch_dir, tree.git_dir)
                if why is None and rec is not None and owner_alive(rec):
                    why = f"in use by pid {rec['pid']}"
                if why is not None:
                    kept.append(f"{scratch_dir} ({why})")
                    continue
                remove(scratch_dir, tree.git_dir)
                removed.append(str(scratch_dir))
    return removed, kept
