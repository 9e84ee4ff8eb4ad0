"""The kernel tree as a git repository, used without touching its checkout.

A full checkout of the kernel costs more than all the spatch runs of a
series together, and the user's checkout may hold unfinished work. So
krefactor reads blobs with `git cat-file --batch`, writes new ones with
`hash-object`, and builds commits with a temporary index, `write-tree`,
`commit-tree` and `update-ref`. HEAD, the index and the working files are
never written. GitPython is confined to this module.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import tarfile
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import NewType

import git
import gitdb
from git.objects.fun import tree_entries_from_data, tree_to_stream
from gitdb import IStream

from . import proc, safety
from .errors import KrefactorError

Sha = NewType("Sha", str)
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SPLIT = "drivers"       # a whole-tree git grep searches this apart, on a core of its own


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class Tree:
    """A git repository holding a kernel tree."""
    path: Path
    git_dir: Path
    # The GitPython repository for writing objects, opened on first use; a
    # list, so that a frozen Tree can still carry it.
    _repo: list = field(default_factory=list, compare=False, repr=False)
    # commit -> whether the checkout holds it unchanged (see checked_out).
    _checked_out: dict = field(default_factory=dict, compare=False, repr=False)

    def git(self, *args: str, input: bytes | None = None,
            env: dict[str, str] | None = None, check: bool = True) -> bytes:
        return proc.run(["git", "-C", str(self.path), *args], input=input,
                        env=env, check=check).stdout

    def rev(self, ref: str) -> Sha | None:
        out = proc.run(["git", "-C", str(self.path), "rev-parse", "--verify", "-q",
                        f"{ref}^{{commit}}"], check=False)
        return Sha(out.stdout.decode().strip()) if out.returncode == 0 else None

    def tree_of(self, commit: Sha) -> str:
        """The id of `commit`'s tree."""
        return self.git("rev-parse", f"{commit}^{{tree}}").decode().strip()

    def read(self, commit: Sha, paths: list[str], missing_ok: bool = False) -> dict[str, bytes]:
        """Read files at `commit` in one `git cat-file --batch` (leaving out
        those that do not exist there, with `missing_ok`)."""
        if not paths:
            return {}
        out = self.git("cat-file", "--batch",
                       input="".join(f"{commit}:{p}\n" for p in paths).encode())
        files: dict[str, bytes] = {}
        pos = 0
        for p in paths:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].decode()
            if header.endswith(" missing"):
                if missing_ok:
                    pos = nl + 1
                    continue
                raise KrefactorError(f"{p} does not exist at {commit[:12]}")
            size = int(header.split()[2])
            files[p] = out[nl + 1:nl + 1 + size]
            pos = nl + 1 + size + 1
        return files

    def exists(self, commit: Sha, path: str) -> bool:
        return proc.run(["git", "-C", str(self.path), "cat-file", "-e",
                         f"{commit}:{path}"], check=False).returncode == 0

    def grep(self, commit: Sha, patterns: tuple[str, ...], paths: tuple[str, ...],
             *, fixed: bool = False, raw: bool = False,
             globs: tuple[str, ...] = ("*.c", "*.h"),
             excludes: tuple[str, ...] = ()) -> list[str]:
        """Files at `commit` under `paths` (matching `globs`) that mention a pattern.

        Patterns are identifiers matched as words, fixed strings with `fixed`,
        or extended regexps used as they are with `raw`.
        """
        res = self._grep(["-l", *self._pattern_args(patterns, fixed, raw)], commit, paths, globs,
                         excludes)
        prefix = f"{commit}:"
        return sorted({line[len(prefix):] for line in res.splitlines()
                       if line.startswith(prefix)})

    def files(self, commit: Sha, paths: tuple[str, ...],
              globs: tuple[str, ...] = ("*.c", "*.h")) -> list[str]:
        """Every file at `commit` under `paths` matching `globs`."""
        specs = [p for p in paths if p not in (".", "")]
        out = self.git("ls-tree", "-r", "--name-only", "-z", commit, "--", *specs).decode()
        return sorted(n for n in out.split("\0") if n and any(fnmatch(n, g) for g in globs))

    def grep_words(self, commit: Sha, words: tuple[str, ...], paths: tuple[str, ...],
                   globs: tuple[str, ...] = ("*.c", "*.h")) -> dict[str, set[str]]:
        """For each identifier of `words`, the files at `commit` that mention it."""
        found: dict[str, set[str]] = {w: set() for w in words}
        if not words:
            return found
        res = self._grep(["-o", *self._pattern_args(words, False, False)], commit, paths, globs)
        prefix = f"{commit}:"
        for line in res.splitlines():
            if line.startswith(prefix):
                path, _, word = line[len(prefix):].rpartition(":")
                if word in found:
                    found[word].add(path)
        return found

    @staticmethod
    def _pattern_args(patterns: tuple[str, ...], fixed: bool, raw: bool) -> list[str]:
        # Identifiers go as fixed words: several times faster than \b regexps.
        words = not fixed and not raw and all(IDENT.fullmatch(p) for p in patterns)
        args = ["-F", "-w"] if words else ["-F" if fixed else "-E"]
        for pat in patterns:
            args += ["-e", pat if fixed or raw or words else rf"\b{pat}\b"]
        return args

    def _grep(self, args: list[str], commit: Sha, paths: tuple[str, ...],
              globs: tuple[str, ...], excludes: tuple[str, ...] = ()) -> str:
        """git grep at `commit`. git greps a commit's objects on one core; a
        whole-tree search is split in two, drivers/ (about half of the
        kernel's C files) and the rest, each its own git grep, side by side."""
        specs = [f":(exclude,glob){e.rstrip('/')}/**" for e in excludes]
        for p in paths:
            if p.endswith((".c", ".h")):
                specs.append(p)
            else:
                base = "" if p in (".", "") else p.rstrip("/") + "/"
                specs += [f":(glob){base}**/{g}" for g in globs]
        parts = [specs]
        if paths and all(p in (".", "") for p in paths) and (os.cpu_count() or 1) > 1:
            parts = [[*specs[:len(excludes)], *(f":(glob){SPLIT}/**/{g}" for g in globs)],
                     [*specs, f":(exclude,glob){SPLIT}/**"]]

        files = self.checked_out(commit)

        def one(part: list[str]) -> str:
            # The working files, when they are the commit's, read faster
            # than its objects (0.5 s against 1.6 s for a whole-tree search).
            res = proc.run(["git", "-C", str(self.path), "grep", *args,
                            *(() if files else (commit,)), "--", *part], check=False)
            if res.returncode not in (0, 1):
                raise KrefactorError(f"git grep failed: {proc.tail(res.stderr)}")
            out = res.stdout.decode(errors="replace")
            if files:
                out = "".join(f"{commit}:{line}" for line in out.splitlines(keepends=True))
            return out
        if len(parts) == 1:
            return one(parts[0])
        return "".join(proc.pmap(one, parts, len(parts)))

    def checked_out(self, commit: Sha) -> bool:
        """Whether the checkout holds `commit` as it is: HEAD is `commit`, no
        tracked file differs from it, and no sparse checkout leaves files
        out. Only read (git grep); asked once per commit and run."""
        if commit not in self._checked_out:
            top = proc.run(["git", "-C", str(self.path), "rev-parse", "--is-bare-repository",
                            "HEAD"], check=False).stdout.decode().split()
            sparse = proc.run(["git", "-C", str(self.path), "config", "--bool",
                               "core.sparseCheckout"], check=False).stdout.strip() == b"true"
            self._checked_out[commit] = (
                top == ["false", commit] and not sparse and
                proc.run(["git", "-C", str(self.path), "diff-index", "--quiet", "HEAD", "--"],
                         check=False).returncode == 0)
        return bool(self._checked_out[commit])

    def identity(self) -> Identity:
        reader = git.Repo(self.path).config_reader()
        try:
            return Identity(str(reader.get_value("user", "name")),
                            str(reader.get_value("user", "email")))
        except Exception as e:  # configparser raises several types
            raise KrefactorError(
                "git user.name and user.email are not set: commits need an author "
                "and Signed-off-by (git config --global user.name ...)") from e

    def commit(self, parent: Sha, changes: dict[str, bytes], message: str,
               author: Identity, date: str | None = None) -> Sha:
        """Write a commit on top of `parent` with `changes` applied; touch nothing
        else. Blobs and trees are written in this process (gitdb, through the
        repository's object store), only the trees on the changed paths, so a
        commit costs one `git commit-tree` and no index of the whole tree."""
        for path in changes:
            check_inside(path)
        odb = self._odb()
        top = self.tree_of(parent)
        tree = self._write_tree(odb, bytes.fromhex(top), changes)
        env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
               "GIT_COMMITTER_NAME": author.name, "GIT_COMMITTER_EMAIL": author.email}
        if date:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
        sha = self.git("commit-tree", tree.hex(), "-p", parent, "-F", "-",
                       input=message.encode(), env=env).decode().strip()
        return Sha(sha)

    def _odb(self) -> gitdb.db.base.ObjectDBW:
        if not self._repo:
            self._repo.append(git.Repo(self.path))
        return self._repo[0].odb

    def _write_tree(self, odb: gitdb.db.base.ObjectDBW, tree: bytes | None,
                    changes: dict[str, bytes]) -> bytes:
        """`tree` (None: a new directory) with `changes` (paths relative to it)
        written in; returns the new tree's binary sha."""
        entries: dict[str, tuple[bytes, int]] = {}
        if tree is not None:
            data = odb.stream(tree).read()
            entries = {name: (sha, mode) for sha, mode, name in tree_entries_from_data(data)}
        below: dict[str, dict[str, bytes]] = {}
        for path, content in changes.items():
            head, _, rest = path.partition("/")
            if rest:
                below.setdefault(head, {})[rest] = content
            else:
                mode = entries[head][1] if head in entries else 0o100644
                blob = odb.store(IStream(b"blob", len(content), io.BytesIO(content))).binsha
                entries[head] = (blob, mode)
        for name, sub in below.items():
            old = entries.get(name)
            inner = old[0] if old is not None and old[1] == 0o40000 else None
            entries[name] = (self._write_tree(odb, inner, sub), 0o40000)
        # git's order: by name, a directory's name compared as if it ended in '/'.
        ordered = sorted(((sha, mode, name) for name, (sha, mode) in entries.items()),
                         key=lambda e: e[2].encode() + (b"/" if e[1] == 0o40000 else b""))
        buf = io.BytesIO()
        tree_to_stream(ordered, buf.write)
        data = buf.getvalue()
        return odb.store(IStream(b"tree", len(data), io.BytesIO(data))).binsha

    def update_branch(self, branch: str, new: Sha, old: Sha | None) -> None:
        ref = f"refs/heads/{branch}"
        args = ["update-ref", "-m", "krefactor series", ref, new]
        if old is not None:
            args.append(old)
        else:
            args.append("0" * 40)
        self.git(*args)

    def log_fields(self, fields: list[str], *args: str) -> list[list[str]]:
        """`git log ARGS` with each commit's `fields` (%H, %B, ...), the one parser
        of git log's output: the last field is the message, as git gives it."""
        out = self.git("log", "--format=" + "%x00".join(fields) + "%x01", *args).decode()
        # git log puts a newline between commits: a record starts after it.
        return [rec.removeprefix("\n").split("\x00", len(fields) - 1)
                for rec in out.split("\x01") if rec.strip()]

    def log(self, base: Sha, tip: Sha) -> list[tuple[Sha, str]]:
        """Commits in base..tip, oldest first, with their full messages (the
        trailing newline dropped)."""
        return [(Sha(sha), msg.rstrip("\n")) for sha, msg in
                self.log_fields(["%H", "%B"], "--reverse", f"{base}..{tip}")]

    def is_ancestor(self, a: Sha, b: Sha) -> bool:
        return proc.run(["git", "-C", str(self.path), "merge-base", "--is-ancestor", a, b],
                        check=False).returncode == 0

    def kernel_version(self, commit: Sha) -> str:
        """'6.1.192' from the top Makefile; fails when this is not a kernel tree."""
        if not (self.exists(commit, "Makefile") and self.exists(commit, "Kbuild")):
            raise KrefactorError(
                f"{self.path} is not a Linux kernel tree (no top-level Makefile and Kbuild)")
        top = self.read(commit, ["Makefile"])["Makefile"]
        return makefile_version(top.decode("utf-8", "replace"))


def makefile_version(text: str) -> str:
    vals = {}
    for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION"):
        m = re.search(rf"^{key}\s*=\s*(\S*)\s*$", text, re.M)
        vals[key] = m.group(1) if m else ""
    if not vals["VERSION"]:
        raise KrefactorError("the top Makefile has no VERSION: not a kernel tree")
    version = vals["VERSION"] + "." + (vals["PATCHLEVEL"] or "0")
    if vals["SUBLEVEL"] not in ("", "0"):
        version += "." + vals["SUBLEVEL"]
    return version + vals["EXTRAVERSION"]


def check_inside(path: str) -> None:
    """A path from a diff or a tool must stay inside the tree."""
    p = Path(path)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise KrefactorError(f"refusing to write {path!r}: outside the tree")


def open_tree(path: str | os.PathLike[str]) -> Tree:
    p = Path(path)
    if not p.exists():
        raise KrefactorError(f"{p}: no such directory")
    res = proc.run(["git", "-C", str(p), "rev-parse", "--show-toplevel", "--absolute-git-dir"],
                   check=False)
    if res.returncode != 0:
        raise KrefactorError(
            f"{p} is not a git repository; make one with: krefactor import {p} --to DIR")
    top, gitdir = res.stdout.decode().splitlines()[:2]
    return Tree(Path(top), Path(gitdir))


def import_tree(src: Path, dest: Path) -> tuple[Tree, Sha, str]:
    """Make a one-commit git baseline of a kernel tarball or directory at `dest`."""
    if dest.exists() and any(dest.iterdir()):
        raise KrefactorError(f"{dest} exists and is not empty; choose another --to")
    if not src.exists():
        raise KrefactorError(f"{src}: no such file or directory")
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True, symlinks=True,
                            ignore=shutil.ignore_patterns(".git"))
        elif tarfile.is_tarfile(src):
            # tar(1) is several times faster than tarfile on the 78,000 files.
            proc.run(["tar", "-x", "-f", str(src), "-C", str(dest), "--strip-components=1"])
        else:
            raise KrefactorError(f"{src} is neither a directory nor a tar archive")
        if not (dest / "Makefile").is_file():
            raise KrefactorError(f"{src} holds no top-level Makefile: not a kernel tree")
        version = makefile_version((dest / "Makefile").read_text(errors="replace"))
        env = {"GIT_AUTHOR_NAME": "krefactor import", "GIT_AUTHOR_EMAIL": "krefactor@localhost",
               "GIT_COMMITTER_NAME": "krefactor import",
               "GIT_COMMITTER_EMAIL": "krefactor@localhost"}
        proc.run(["git", "init", "-q", "-b", "master", str(dest)])
        # Debian's tree ignores everything ("/*" in .gitignore): add with -f.
        proc.run(["git", "-C", str(dest), "add", "-f", "-A", "."])
        proc.run(["git", "-C", str(dest), "commit", "-q", "--no-verify", "-m", f"Linux {version}"],
                 env=env)
    except BaseException:
        safety.undo_import(dest, created)
        raise
    tree = open_tree(dest)
    head = tree.rev("HEAD")
    assert head is not None
    return tree, head, version
