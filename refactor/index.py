"""A code index for the reachability questions: GNU Global (`gtags`) over the
C files of a commit, so that "which files mention NAME" is a look-up, not a
`git grep` over the whole tree.

- The index is made once per tree hash, in `<git dir>/krefactor/index/`:
  `gtags` over the commit's `*.c` files, exported to a scratch directory
  that is removed once the tag files are written (on 6.1.192, 32,005 files).
- A later commit of the same series differs from it in a few files. Those
  are exported and indexed on their own (a small `gtags` run per commit,
  kept beside the index), and their answers replace the big index's.
- A name's files are those where gtags saw it as a token of code: a
  definition (`global -d`), a reference to a defined symbol (`-r`) or to
  another symbol, such as a macro or a function defined in a header (`-s`).
  `git grep -w` also finds a name in comments and strings; gtags does not,
  and a mention in a comment is no call.

`KREFACTOR_INDEX=grep` turns the index off (the `git grep` search), for a
comparison of the two, and a machine without `gtags` uses `git grep` too.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from . import proc, safety
from .errors import KrefactorError
from .tree import Sha, Tree

MAX_CHANGED = 2000          # C files a commit may differ by and still use an index
THREADS = 4                 # global look-ups at a time
IDENT = re.compile(r"[A-Za-z_]\w*")

Progress = Callable[[str], None]
# gtags and global find their database from the directory they run in, and
# parse C with their own parser, whatever the user's settings say.
UNSET = ("GTAGSROOT", "GTAGSDBPATH", "GTAGSCONF", "GTAGSLABEL", "GTAGSFORCECPP")


def enabled() -> bool:
    return os.environ.get("KREFACTOR_INDEX", "gtags") != "grep" and \
        shutil.which("gtags") is not None and shutil.which("global") is not None


def index_root(tree: Tree) -> Path:
    return safety.state_dir(tree.git_dir) / "index"


def export(tree: Tree, commit: Sha, paths: list[str] | None, dest: Path) -> None:
    """The commit's C files (all, or `paths`) written under `dest`."""
    if paths is None:
        archive = dest / "c-files.tar"
        proc.run(["git", "-C", str(tree.path), "archive", "-o", str(archive), commit,
                  "--", "*.c"])
        proc.run(["tar", "-x", "-f", str(archive), "-C", str(dest)])
        archive.unlink()
        return
    for path, data in tree.read(commit, paths, missing_ok=True).items():
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def gtags(src: Path, db: Path) -> None:
    """Index the C files under `src`, the tag files written to `db`: a
    look-up by path needs no sources, so they need not be kept."""
    files = sorted(str(p.relative_to(src)) for p in src.rglob("*.c"))
    proc.run(["gtags", "-f", "-", str(db)], cwd=src, unset=UNSET,
             input="\n".join(files).encode())


def global_paths(db: Path, kind: str, name: str) -> set[str]:
    """`global KIND --result=path NAME` in the index at `db`: an exact name is
    a look-up in gtags' database (a regexp would scan it all), and paths need
    no sources."""
    res = proc.run(["global", kind, "--result=path", name], cwd=db, unset=UNSET)
    if res.stderr:
        raise KrefactorError(f"global {kind} {name} in {db}: {proc.tail(res.stderr)}")
    return {p.removeprefix("./") for p in res.stdout.decode(errors="replace").split()}


def lookup(db: Path, names: list[str]) -> dict[str, set[str]]:
    """For each name, the files of the index at `db` where it is a token of
    code: where it is defined (`global -d`), and its references, which gtags
    keeps as references to a defined symbol (`-r`) or else as other symbols
    (`-s`: macros, and functions defined in headers)."""
    if not (db / "GTAGS").is_file():
        return {n: set() for n in names}

    def one(name: str) -> set[str]:
        defined = global_paths(db, "-d", name)
        return defined | global_paths(db, "-r" if defined else "-s", name)

    return dict(zip(names, proc.pmap(one, names, THREADS)))


class CodeIndex:
    """The index of one commit, and the small indexes of the commits near it."""

    def __init__(self, tree: Tree, base: Sha, root: Path):
        self.tree, self.base, self.root = tree, base, root
        self.changed: dict[Sha, list[str]] = {}
        self.build_seconds = 0.0
        self.queries = 0
        self.query_seconds = 0.0

    @classmethod
    def open(cls, tree: Tree, commit: Sha, progress: Progress | None = None) -> CodeIndex:
        """An index that serves `commit`: one made for a tree near it, or a new one."""
        best: tuple[list[str], Path, Sha] | None = None
        root = index_root(tree)
        if root.is_dir():
            for d in sorted(root.iterdir()):
                made = d / "commit"
                if not (d / "db" / "GTAGS").is_file() or not made.is_file():
                    continue
                base = tree.rev(made.read_text().strip())
                if base is None:                # its commit is gone from the repository
                    continue
                changed = changed_files(tree, base, commit)
                if len(changed) <= MAX_CHANGED and (best is None or len(changed) < len(best[0])):
                    best = (changed, d, base)
        if best is not None:
            index = cls(tree, best[2], best[1])
            index.changed[commit] = best[0]
            return index
        started = time.monotonic()
        top = tree.tree_of(commit)
        root.mkdir(parents=True, exist_ok=True)
        with safety.scratch(tree.git_dir, "index", remove_behind=True) as tmp:
            src, made = tmp / "src", tmp / "made"
            src.mkdir()
            (made / "db").mkdir(parents=True)
            export(tree, commit, None, src)
            gtags(src, made / "db")
            (made / "commit").write_text(commit + "\n")
            if (root / top).exists():          # a half-made one of a killed run
                safety.remove(root / top, tree.git_dir)
            os.rename(made, root / top)
        index = cls(tree, commit, root / top)
        index.build_seconds = time.monotonic() - started
        if progress:
            progress(f"  code index: gtags over the C files of {commit[:12]} in "
                     f"{index.build_seconds:.1f}s")
        return index

    def overlay(self, commit: Sha) -> tuple[list[str], Path | None]:
        """The C files `commit` changed against the index, and their own small index."""
        if commit not in self.changed:
            self.changed[commit] = changed_files(self.tree, self.base, commit)
        paths = self.changed[commit]
        if not paths:
            return paths, None
        where = self.root / "over" / self.tree.tree_of(commit)
        # Made whole, then renamed: its db is there once it is complete. It has
        # no tag files when the commit only deleted C files (lookup() finds
        # nothing there).
        if not (where / "db").is_dir():
            with safety.scratch(self.tree.git_dir, "index-over") as tmp:
                src, db = tmp / "src", tmp / "db"
                src.mkdir()
                db.mkdir()
                export(self.tree, commit, paths, src)
                if any(src.rglob("*.c")):
                    gtags(src, db)
                where.mkdir(parents=True, exist_ok=True)
                os.rename(db, where / "db")
        return paths, where / "db"

    def mentions(self, commit: Sha, names: Iterable[str]) -> dict[str, set[str]]:
        """For each identifier, the C files at `commit` where it is a token of code."""
        wanted = sorted({n for n in names if IDENT.fullmatch(n)})
        started = time.monotonic()
        found = lookup(self.root / "db", wanted)
        paths, over = self.overlay(commit)
        if over is not None:
            gone = set(paths)
            fresh = lookup(over, wanted)
            for n in wanted:
                found[n] = (found[n] - gone) | fresh[n]
        self.queries += len(wanted)
        self.query_seconds += time.monotonic() - started
        return found


def changed_files(tree: Tree, a: Sha, b: Sha) -> list[str]:
    """The C files that differ between two commits (added, changed or deleted)."""
    if a == b:
        return []
    out = tree.git("diff", "--name-only", "--no-renames", a, b, "--", "*.c")
    return sorted(out.decode(errors="replace").split())


_open: dict[tuple[str, str], CodeIndex] = {}


def for_commit(tree: Tree, commit: Sha, progress: Progress | None = None) -> CodeIndex | None:
    """The index this process uses for `commit` (one per tree), or None without gtags."""
    if not enabled():
        return None
    key = (str(tree.git_dir), commit)
    if key not in _open:
        # Each index once, though it serves several commits.
        ours = {id(i): i for (g, _), i in _open.items() if g == str(tree.git_dir)}
        for index in ours.values():
            changed = changed_files(tree, index.base, commit)
            if len(changed) <= MAX_CHANGED:
                index.changed[commit] = changed       # overlay() needs it too
                _open[key] = index
                break
        else:
            _open[key] = CodeIndex.open(tree, commit, progress)
    return _open[key]
