"""Run spatch on chosen files, in parallel, one process per file.

Files are chosen by the caller (git grep on the step's symbols): spatch time
follows the number of files it is given. One process per file gives each
file its own timeout and keeps each file's output apart; spatch given
several files at once treats them as one group and parses them together.
The files are written to a scratch directory and rewritten there with
--in-place: nothing runs in the user's tree.
"""
from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from . import proc, safety
from .errors import KrefactorError
from .respace import respace
from .tree import check_inside

SITE_TAG = "krefactor-site:"


@dataclass(frozen=True)
class Site:
    """A place a semantic patch reported on: changed or left, and why."""
    file: str
    line: int
    column: int
    verdict: str       # "removed", "left", ...
    function: str
    reason: str
    # The semantic patch's own category, after a slash in its verdict
    # (`left/unreached`): what krefactor acts on, never the reason's words.
    kind: str = ""


@dataclass(frozen=True)
class FileResult:
    path: str
    before: bytes
    after: bytes
    sites: tuple[Site, ...]
    error: str | None   # timeout or spatch failure, for review
    stdout: str = ""

    @property
    def changed(self) -> bool:
        return self.before != self.after


def site_fn(s: Site) -> str:
    """` name()` for a site in a function, nothing outside one."""
    return f" {s.function}()" if s.function else ""


def parse_sites(text: str) -> list[Site]:
    """Read the `krefactor-site:` lines a semantic patch prints."""
    sites = []
    for line in text.splitlines():
        if not line.startswith(SITE_TAG):
            continue
        parts = line[len(SITE_TAG):].split(":", 5)
        if len(parts) != 6:
            continue
        file, ln, col, verdict, fn, why = parts
        verdict, _, kind = verdict.partition("/")
        # spatch's current_element outside any function is "something_else".
        sites.append(Site(file, int(ln), int(col), verdict,
                          "" if fn == "something_else" else fn, why, kind))
    return sites


def mode_args(mode: str | None) -> list[str]:
    """`-D mode`, or nothing for a semantic patch that declares no virtual modes."""
    return ["-D", mode] if mode else []


def check_syntax(cocci: Path, mode: str | None = "patch") -> str:
    """Fail early, with spatch's own message, on a semantic patch that does not
    parse; return what spatch --parse-cocci printed (its grep query among it)."""
    proc.require("spatch", "install Coccinelle (apt-get install coccinelle, or scripts/setup.sh)")
    res = proc.run(["spatch", "--parse-cocci", *mode_args(mode), "--sp-file", str(cocci)],
                   check=False)
    if res.returncode != 0:
        msg = [l for l in res.stderr.decode(errors="replace").splitlines() if l.strip()]
        raise KrefactorError(f"{cocci.name} does not parse: {' | '.join(msg[:4])}")
    return res.stdout.decode(errors="replace")


@contextlib.contextmanager
def scratch(files: dict[str, bytes], git_dir: Path) -> Iterator[str]:
    """A scratch directory of the tree at `git_dir` holding `files` at their
    paths; removed afterwards (see safety.scratch)."""
    with safety.scratch(git_dir, "spatch", remove_behind=True) as tmp:
        for path, data in files.items():
            check_inside(path)
            dest = Path(tmp, path)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        yield str(tmp)


PARSE_ERROR = re.compile(r'parse error\s*\n\s*= File "([^"]+)", line (\d+)')


def unparsed(files: dict[str, bytes], *, git_dir: Path,
             jobs: int = os.cpu_count() or 1) -> list[str]:
    """Code spatch cannot parse in `files`, as `file:line: first line of it`."""
    with scratch(files, git_dir) as tmp:

        def one(path: str) -> list[str]:
            res = proc.run(["spatch", "--parse-c", "--no-includes", path], cwd=tmp, check=False)
            out = res.stdout.decode(errors="replace") + res.stderr.decode(errors="replace")
            src = files[path].decode(errors="replace").splitlines()
            return [f"{path}:{n}: {src[n - 1].strip() if n <= len(src) else ''}"
                    for n in (int(m.group(2)) for m in PARSE_ERROR.finditer(out))]

        return sorted({line for found in proc.pmap(one, list(files), jobs) for line in found})


def run(cocci: Path, files: dict[str, bytes], *, git_dir: Path,
        jobs: int = os.cpu_count() or 1, timeout: float = 120,
        mode: str | None = "patch", defines: dict[str, str] | None = None,
        options: tuple[str, ...] | None = None,
        headers: dict[str, bytes] | None = None, batch: bool = False) -> list[FileResult]:
    """Apply `cocci` to each of `files` (path -> content), in a scratch directory
    of the tree at `git_dir`; return the results in order. `defines` become
    `-D name=value`, read by the semantic patch as `virtual.name`.

    `options` replace krefactor's own `--no-includes` with a semantic patch's
    own spatch options (its `// Options:` line); `headers` are files put in
    the scratch directory beside `files` for spatch's local includes, and not
    patched themselves.

    `batch`: the semantic patch keys what its Python rules keep by file, so
    one spatch may go through many files (see batched()); the results are
    those of one spatch per file."""
    check_syntax(cocci, mode)
    extra = [a for k, v in sorted((defines or {}).items()) for a in ("-D", f"{k}={v}")]
    opts, timeout = with_timeout(options if options is not None else ("--no-includes",),
                                 timeout)
    cache = Cache(git_dir, cocci, [*opts, *mode_args(mode), *extra], headers or {})
    known = {path: got for path in files if (got := cache.get(path, files[path])) is not None}
    todo = [path for path in files if path not in known]
    if batch and len(todo) > 1 and not headers:
        args = [*opts, "--no-show-diff", *mode_args(mode), *extra]
        for path, got in batched(cocci, {p: files[p] for p in todo}, args, git_dir=git_dir,
                                 jobs=jobs, timeout=timeout).items():
            cache.put(path, files[path], *got)
            known[path] = got
        todo = [path for path in files if path not in known]
    with scratch({**(headers or {}), **{p: files[p] for p in todo}}, git_dir) as tmp:

        def one(path: str) -> FileResult:
            if path in known:
                raw, out = known[path]
                return FileResult(path, files[path], respace(files[path], raw),
                                  tuple(parse_sites(out)), None, out)
            cmd = ["spatch", "--very-quiet", *opts, "--no-show-diff",
                   *mode_args(mode), *extra, "--sp-file", str(cocci),
                   "--in-place", path]
            error = None
            try:
                # spatch's own --timeout covers matching, not Python rules: a
                # backstop kills the process a little later.
                res = proc.run(cmd, cwd=tmp, timeout=timeout + 5, check=False)
                out = res.stdout.decode(errors="replace")
                err = res.stderr.decode(errors="replace")
                if failed(res.returncode, err):
                    error = f"spatch failed on {path}: {proc.tail(res.stderr)}"
            except subprocess.TimeoutExpired:
                out, error = "", f"spatch timed out after {timeout:.0f}s on {path}"
            raw = Path(tmp, path).read_bytes()
            if error is None:
                cache.put(path, files[path], raw, out)
            return FileResult(path, files[path], respace(files[path], raw),
                              tuple(parse_sites(out)), error, out)

        return proc.pmap(one, list(files), jobs)


def failed(returncode: int, err: str) -> bool:
    """Did a spatch run fail, or give up on a file (its own --timeout)?"""
    return returncode != 0 or "Timeout" in err or "timeout (we abort)" in err


def chunks(files: dict[str, bytes], n: int) -> list[list[str]]:
    """`files` in `n` groups of about equal bytes (the largest first, each to
    the lightest group): spatch's time follows a file's size."""
    groups: list[list[str]] = [[] for _ in range(max(1, min(n, len(files))))]
    load = [0] * len(groups)
    for path in sorted(files, key=lambda p: (-len(files[p]), p)):
        i = load.index(min(load))
        groups[i].append(path)
        load[i] += len(files[path])
    return [sorted(g) for g in groups if g]


def split_output(out: str, paths: list[str]) -> dict[str, str] | None:
    """One spatch's output over several files, line by line to the file it
    names (a site line, or a report's `path:line:`); None when a line names
    none of them."""
    per: dict[str, list[str]] = {p: [] for p in paths}
    for line in out.splitlines(keepends=True):
        path = line.removeprefix(SITE_TAG).split(":", 1)[0]
        if path not in per:
            return None
        per[path].append(line)
    return {p: "".join(lines) for p, lines in per.items()}


def batched(cocci: Path, files: dict[str, bytes], args: list[str], *, git_dir: Path,
            jobs: int, timeout: float) -> dict[str, tuple[bytes, str]]:
    """`cocci` over `files` in `jobs` spatch runs at once, each over its share
    of the files, as (after, output) per file. Each run lists its files in
    `--file-groups`, a group of one file each: spatch takes them one at a
    time, as a run per file does, and names them by the paths given (with
    `--dir` they would be `./path`, and a semantic patch that compares its
    positions' files with `-D` values would see none of them). spatch then
    reads the semantic patch and starts its Python once per run, not once
    per file: 0.3 s of the 0.45 s 06-prepare-writepage.cocci takes on a small
    file. A run that fails, times out on a file, or prints a line that names
    no file of it gives nothing: its files are run one by one as before."""
    def one(group: list[str]) -> dict[str, tuple[bytes, str]]:
        mine = {p: files[p] for p in group}
        with scratch(mine, git_dir) as tmp:
            listing = Path(tmp, ".krefactor-groups")
            listing.write_text("".join(f"{p}\n\n" for p in group))
            cmd = ["spatch", "--very-quiet", *args, "--sp-file", str(cocci),
                   "--in-place", "--file-groups", listing.name]
            try:
                res = proc.run(cmd, cwd=tmp, timeout=timeout * len(group) + 5, check=False)
            except subprocess.TimeoutExpired:
                return {}
            err = res.stderr.decode(errors="replace")
            if failed(res.returncode, err):
                return {}
            outs = split_output(res.stdout.decode(errors="replace"), group)
            if outs is None:
                return {}
            return {p: (Path(tmp, p).read_bytes(), outs[p]) for p in group}

    found: dict[str, tuple[bytes, str]] = {}
    for got in proc.pmap(one, chunks(files, jobs), jobs):
        found.update(got)
    return found


CACHE_DIR = "spatch"        # <git dir>/krefactor/spatch/: spatch's results by their inputs


@functools.cache
def spatch_version() -> str:
    return proc.run(["spatch", "--version"]).stdout.decode(errors="replace").strip()


class Cache:
    """What one spatch run on one file printed and left, kept under the hash
    of all that decides it: spatch's version, the semantic patch, the
    options and -D values (not the timeout: a run that finished is the same
    under any), the local headers, the file's path and its bytes. A
    re-run of a step on files it has seen (a second `series`, a re-roll
    whose base kept them, `coverage` re-running a step) starts no spatch
    for them. Only runs without an error are kept. `clean` removes it."""

    def __init__(self, git_dir: Path, cocci: Path, args: list[str],
                 headers: dict[str, bytes]) -> None:
        self.root = safety.state_dir(git_dir) / CACHE_DIR
        h = hashlib.sha256()
        drop = {i for i, a in enumerate(args) if a == "--timeout"}
        kept = [a for i, a in enumerate(args) if i not in drop and i - 1 not in drop]
        for part in (spatch_version(), cocci.read_bytes(), json.dumps(kept),
                     json.dumps(sorted((p, hashlib.sha256(d).hexdigest())
                                       for p, d in headers.items()))):
            h.update(part if isinstance(part, bytes) else part.encode())
            h.update(b"\0")
        self.run_key = h.hexdigest()

    def path(self, name: str, data: bytes) -> Path:
        key = hashlib.sha256(f"{self.run_key}\0{name}\0".encode() + data).hexdigest()
        return self.root / key[:2] / f"{key}.json"

    def get(self, name: str, data: bytes) -> tuple[bytes, str] | None:
        try:
            rec = json.loads(self.path(name, data).read_text())
            return base64.b64decode(rec["after"]), rec["stdout"]
        except (OSError, ValueError, KeyError):
            return None

    def put(self, name: str, data: bytes, after: bytes, stdout: str) -> None:
        dest = self.path(name, data)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        part.write_text(json.dumps({"after": base64.b64encode(after).decode(),
                                    "stdout": stdout}))
        os.replace(part, dest)


def with_timeout(options: tuple[str, ...], timeout: float) -> tuple[list[str], float]:
    """spatch's options with a per-file `--timeout`: the semantic patch's
    own (`// Options:` or .cocciconfig) when it gives one, else `timeout`."""
    opts = list(options)
    if "--timeout" in opts[:-1]:
        return opts, float(opts[opts.index("--timeout") + 1])
    return opts + ["--timeout", str(max(1, int(timeout)))], timeout


@contextlib.contextmanager
def over_dir(cocci: Path, files: dict[str, bytes], args: list[str], *, git_dir: Path,
             jobs: int, headers: dict[str, bytes] | None
             ) -> Iterator[tuple[subprocess.CompletedProcess[bytes], str]]:
    """One spatch over a scratch directory holding `files` (and `headers`
    for its local includes), as `make coccicheck` runs it: `--dir`, with
    `--jobs --chunksize 1` when there is more than one job. Yields spatch's
    result and the directory, which holds the files as spatch left them."""
    with scratch({**(headers or {}), **files}, git_dir) as tmp:
        cmd = ["spatch", "--very-quiet", *args, "--sp-file", str(cocci), "--dir", "."]
        if jobs > 1:
            cmd += ["--jobs", str(jobs), "--chunksize", "1", "--tmp-dir",
                    str(Path(tmp, ".spatch-par"))]
        yield proc.run(cmd, cwd=tmp, check=False), tmp


def run_dir(cocci: Path, files: dict[str, bytes], *, git_dir: Path,
            jobs: int = os.cpu_count() or 1, mode: str | None = "patch",
            options: tuple[str, ...] = (), headers: dict[str, bytes] | None = None,
            timeout: float = 120, checked: bool = False) -> list[FileResult]:
    """Apply `cocci` to `files` the way `make coccicheck` does, in one spatch
    over a scratch directory holding them (`--dir`, `--jobs`, `--chunksize
    1`), rather than a process per file: for plain semantic patches, whose
    output krefactor does not read per file, this saves a start of spatch
    (and a parse of the semantic patch) per file. `checked`: the caller has
    parsed the semantic patch already."""
    if not checked:
        check_syntax(cocci, mode)
    opts, _ = with_timeout(options, timeout)
    with over_dir(cocci, files, [*opts, "--no-show-diff", *mode_args(mode), "--in-place"],
                  git_dir=git_dir, jobs=jobs, headers=headers) as (res, tmp):
        out = res.stdout.decode(errors="replace")
        err = res.stderr.decode(errors="replace")
        error = None if res.returncode == 0 else f"spatch failed: {proc.tail(res.stderr)}"
        sites = parse_sites(out)
        found = []
        for path in files:
            after = respace(files[path], Path(tmp, path).read_bytes())
            # A file spatch gave up on names itself in the message.
            mine = error if error and path in err else None
            found.append(FileResult(path, files[path], after,
                                    tuple(s for s in sites if s.file == path), mine, ""))
        if error and found and not any(r.error for r in found):
            found[0] = replace(found[0], error=error)   # shown once, not per file
        return found


def report_dir(cocci: Path, files: dict[str, bytes], *, git_dir: Path, mode: str,
               jobs: int = os.cpu_count() or 1, options: tuple[str, ...] = (),
               headers: dict[str, bytes] | None = None) -> str:
    """What `cocci` prints over `files` in a report or context mode (one
    spatch over a scratch directory holding them; nothing is changed)."""
    check_syntax(cocci, mode)
    with over_dir(cocci, files, [*options, "-D", mode], git_dir=git_dir, jobs=jobs,
                  headers=headers) as (res, _):
        if res.returncode != 0:
            raise KrefactorError(f"{cocci.name} -D {mode} failed: {proc.tail(res.stderr)}")
        return res.stdout.decode(errors="replace")
