"""Changed lines executed: the run-time twin of "changed lines compiled".

The boot kernel is built with CONFIG_GCOV_KERNEL, profiling only the objects
whose .c files the range changes (Kbuild's GCOV_PROFILE_<name>.o=y, given on
make's command line). The guest zeroes the counters after boot, runs the
workloads, then copies the .gcda files out of debugfs (read with cat: debugfs
gives them size 0, so tar alone would store them empty) and writes them as a
tar archive onto a disk of their own, which the host reads back. gcov(1) with
the build's .gcno files turns them into line counts, and those are matched
with the lines the range added or changed.
"""
from __future__ import annotations

import json
import os
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from unidiff import PatchSet

from . import kconfig, proc, qemu, safety
from .status import Outcome
from .tree import Sha, Tree

CONFIG = ("DEBUG_FS", "GCOV_KERNEL")
DISK_MB = 64
GUEST_DIR = "/tmp/krefactor-gcov"


def changed_lines(tree: Tree, base: Sha, tip: Sha) -> dict[str, list[int]]:
    """The tip's line numbers of every line the range added or changed, per C file."""
    diff = tree.git("diff", "-U0", "--no-renames", base, tip, "--", "*.c", "*.h")
    out: dict[str, list[int]] = {}
    for pf in PatchSet(diff.decode(errors="replace")):
        lines = [ln.target_line_no for h in pf for ln in h
                 if ln.is_added and ln.target_line_no is not None]
        if lines and not pf.is_removed_file:
            out[pf.path] = sorted(lines)
    return out


def changed_sources(tree: Tree, base: Sha, tip: Sha) -> list[str]:
    """Every .c file the range changes and the tip still has, those it only
    deletes lines from included: a commit that removes a line is run by the
    workloads that execute its file, which only profiling that file can tell."""
    out = tree.git("diff", "--name-only", "--no-renames", "--diff-filter=d", base, tip,
                   "--", "*.c")
    return sorted(out.decode().split())


def profile_vars(src: Path, files: list[str], built: Path) -> tuple[list[str], dict[str, str]]:
    """make variables that profile the objects of the changed .c files, and the
    files left unprofiled with why. Kbuild keys the variable by the object's
    name alone, so it would also profile every object of that name elsewhere:
    a name that a directory excluding itself from gcov (GCOV_PROFILE := n, as
    the early boot code does) builds in this config (an object of that name in
    the plain build directory `built`) is not profiled."""
    stems = sorted({Path(f).stem for f in files if f.endswith(".c")})
    excluded = excluded_names(src, set(stems), built)
    skipped = {f: f"its object name {Path(f).stem}.o is also built in {excluded[Path(f).stem]}, "
               "which must not be profiled" for f in files
               if f.endswith(".c") and Path(f).stem in excluded}
    return [f"GCOV_PROFILE_{s}.o=y" for s in stems if s not in excluded], skipped


def excluded_names(src: Path, stems: set[str], built: Path) -> dict[str, str]:
    """{object name: directory} for the names a no-gcov directory builds."""
    found: dict[str, str] = {}
    res = proc.run(["grep", "-rlE", "--include=Makefile", r"^GCOV_PROFILE\s*:?=\s*n", "."],
                   cwd=src, check=False)
    for mk in res.stdout.decode().split():
        d = (src / mk).parent.relative_to(src)
        for stem in stems:
            if (built / d / f"{stem}.o").is_file():
                found.setdefault(stem, str(d))
    return found


def guest_hooks(disk: str) -> qemu.Hooks:
    """Zero the counters before each workload and keep a copy after it, so
    that each line is known by the workloads that ran it; all copies so far
    go onto `disk` after each workload, so that a boot that dies later keeps
    them."""
    return qemu.Hooks(
        start=["mount -t debugfs debugfs /sys/kernel/debug"],
        before_each=["echo 1 > /sys/kernel/debug/gcov/reset"],
        after_each=["(cd /sys/kernel/debug/gcov && find . -name '*.gcda' | while read -r f; do "
                    f"mkdir -p \"{GUEST_DIR}/$1/$(dirname \"$f\")\"; "
                    f"cat \"$f\" > \"{GUEST_DIR}/$1/$f\"; done)",
                    f"tar -cf {disk} -C {GUEST_DIR} . && "
                    f"echo \"krefactor: gcov $(find {GUEST_DIR} -name '*.gcda' | wc -l) files\""])


def unpack(image: Path, out: Path, dest: Path) -> dict[str, int]:
    """Extract the guest's .gcda files to dest/WORKLOAD/OBJECT.gcda, the object
    named relative to the build directory `out`. Returns {workload: files}."""
    found: dict[str, int] = {}
    prefix = str(out).lstrip("/") + "/"
    try:
        tf = tarfile.open(image, "r:")
    except tarfile.TarError:
        return found
    with tf:
        for m in tf.getmembers():
            workload, _, name = m.name.removeprefix("./").partition("/")
            name = name.removeprefix("./")
            if not (m.isfile() and name.endswith(".gcda") and name.startswith(prefix)
                    and workload and ".." not in name):
                continue
            f = tf.extractfile(m)
            if f is None:
                continue
            target = dest / workload / name[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.read())
            found[workload] = found.get(workload, 0) + 1
    return found


Span = tuple[int, int, str]          # first line, last line, function name


def line_counts(src: Path, out: Path, gcda_dir: Path, scratch: Path,
                spans: dict[str, set[Span]] | None = None) -> dict[str, dict[int, int]]:
    """{source file relative to src: {line: count}} from gcov over each .gcda;
    the functions gcov names in each file are added to `spans`."""
    counts: dict[str, dict[int, int]] = {}
    for gcda in sorted(gcda_dir.rglob("*.gcda")):
        rel = gcda.relative_to(gcda_dir)
        gcno = (out / rel).with_suffix(".gcno")
        if not gcno.is_file():
            continue
        work = scratch / "obj"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        shutil.copyfile(gcda, work / gcda.name)
        shutil.copyfile(gcno, work / gcno.name)
        res = proc.run(["gcov", "-j", "-t", "-o", str(work), str(work / gcda.name)],
                       cwd=scratch, check=False)
        for doc in res.stdout.decode(errors="replace").splitlines():
            if not doc.startswith("{"):
                continue
            data = json.loads(doc)
            cwd = data.get("current_working_directory", str(out))
            for f in data.get("files", []):
                path = Path(os.path.normpath(os.path.join(cwd, f["file"])))
                try:
                    name = str(path.relative_to(src))
                except ValueError:
                    continue
                per = counts.setdefault(name, {})
                for ln in f.get("lines", []):
                    n = ln["line_number"]
                    per[n] = max(per.get(n, 0), ln["count"])
                if spans is not None:
                    spans.setdefault(name, set()).update(
                        (fn["start_line"], fn["end_line"], fn["name"])
                        for fn in f.get("functions", []) if "start_line" in fn)
    return counts


@dataclass
class GcovRun:
    """The counters of the boots of one profiled kernel, built in `out`."""
    out: Path
    # workload -> source file -> line -> count
    counts: dict[str, dict[str, dict[int, int]]] = field(default_factory=dict)
    gcda: int = 0
    spans: dict[str, set[Span]] = field(default_factory=dict)    # file -> its functions


@dataclass
class FileLines:
    path: str
    changed: int                      # lines the range added or changed
    code: int                         # of those, lines gcov has a count for
    executed: int
    not_executed: list[int] = field(default_factory=list)
    ran_by: dict[str, int] = field(default_factory=dict)   # workload -> lines it executed
    why: str = ""                     # why none is known, when `code` is 0

    @property
    def share(self) -> str:
        return f"{self.executed}/{self.code}" if self.code else "-"


@dataclass
class GcovResult:
    sha: str
    workloads: dict[str, Outcome] = field(default_factory=dict)
    profiled: list[str] = field(default_factory=list)     # make variables
    files: list[FileLines] = field(default_factory=list)
    boots: int = 0
    gcda: int = 0
    build_seconds: float = 0.0
    boot_seconds: float = 0.0
    error: str = ""
    profiled_sources: list[str] = field(default_factory=list)  # changed .c files with counts
    ran_files: dict[str, list[str]] = field(default_factory=dict)  # workload -> those it ran
    # Per profiled file, the tip's functions ([first line, last line, name]),
    # and per workload and file the functions it entered (ran any line of).
    functions: dict[str, list[list]] = field(default_factory=dict)
    entered: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def code(self) -> int:
        return sum(f.code for f in self.files)

    def whole_counts(self) -> tuple[dict[str, list[str]], dict[str, dict[str, list[str]]]]:
        """ran_files and entered of the workloads that passed on the gcov
        kernel: one that failed there (or died with its boot) may have left
        counts of half a run, or none, which prove nothing it did not run."""
        passed = {w for w, st in self.workloads.items() if st == Outcome.PASS}
        return ({w: fs for w, fs in self.ran_files.items() if w in passed},
                {w: fs for w, fs in self.entered.items() if w in passed})

    @classmethod
    def from_dict(cls, d: dict) -> GcovResult:
        """A result kept as JSON (dataclasses.asdict) back as a GcovResult."""
        return cls(**{**d, "files": [FileLines(**f) for f in d.get("files", [])],
                      "workloads": {w: Outcome(st) for w, st in d.get("workloads", {}).items()}})

    @property
    def executed(self) -> int:
        return sum(f.executed for f in self.files)


def judge(changed: dict[str, list[int]], counts: dict[str, dict[str, dict[int, int]]],
          built: set[str], skipped: dict[str, str]) -> list[FileLines]:
    """Each changed file's lines against each workload's counts. `built` holds
    the .c files whose objects were in the kernel (a .gcno exists)."""
    files = []
    for path, lines in sorted(changed.items()):
        code = sorted({n for per in counts.values() for n in lines if n in per.get(path, {})})
        ran_by = {w: sum(1 for n in code if per.get(path, {}).get(n, 0) > 0)
                  for w, per in counts.items()}
        ran = {n for n in code if any(per.get(path, {}).get(n, 0) > 0
                                      for per in counts.values())}
        fl = FileLines(path, len(lines), len(code), len(ran),
                       [n for n in code if n not in ran],
                       {w: k for w, k in ran_by.items() if k})
        if not code:
            if path in skipped:
                fl.why = f"not profiled: {skipped[path]}"
            elif path.endswith(".c") and path not in built:
                fl.why = "not built in the boot kernel's config"
            elif path.endswith(".h"):
                fl.why = "no profiled object has code from these lines"
            else:
                fl.why = ("no code generated for the changed lines in this build "
                          "(declarations, or code the config compiles out)")
        files.append(fl)
    return files


def executed_files(counts: dict[str, dict[str, dict[int, int]]]) -> dict[str, list[str]]:
    """{workload: the profiled source files it executed any line of}."""
    return {w: sorted(f for f, per in files.items() if any(c > 0 for c in per.values()))
            for w, files in counts.items()}


def entered_functions(counts: dict[str, dict[str, dict[int, int]]],
                      spans: dict[str, set[Span]]) -> dict[str, dict[str, list[str]]]:
    """{workload: {file: the functions of which it ran any line}}. A line, not
    the function's own entry count: an inlined copy counts too."""
    return {w: {f: sorted({name for a, b, name in spans.get(f, ()) if any(
                c > 0 and a <= n <= b for n, c in per.items())})
                for f, per in files.items()}
            for w, files in counts.items()}


def tip_lines(tree: Tree, sha: str, tip: str, path: str) -> Callable[[int], int]:
    """Map a line number of `path` at `sha` to the tip's: shifted by the hunks
    before it, or to the start of the tip's hunk that replaced it."""
    diff = tree.git("diff", "-U0", "--no-renames", sha, tip, "--", path)
    hunks = [(h.source_start, h.source_length, h.target_start, h.target_length)
             for pf in PatchSet(diff.decode(errors="replace")) for h in pf]

    def at_tip(line: int) -> int:
        delta = 0
        for ss, sl, ts, tl in hunks:
            # -U0: a pure insertion comes after source line ss; a pure
            # deletion leaves target line ts before the gap.
            if line < (ss if sl else ss + 1):
                break
            if sl and line < ss + sl:
                return ts
            delta = (ts + tl if tl else ts + 1) - (ss + sl if sl else ss + 1)
        return line + delta
    return at_tip


def touched_functions(tree: Tree, previous: str, sha: str, tip: str, path: str,
                      functions: list[list]) -> set[str] | None:
    """The tip's functions holding what `previous..sha` changes in `path`,
    or None when a change falls outside every function the tip has (a
    declaration, a macro, a function gone by the tip)."""
    diff = tree.git("diff", "-U0", "--no-renames", previous, sha, "--", path)
    at_tip = tip_lines(tree, sha, tip, path)
    found: set[str] = set()
    for pf in PatchSet(diff.decode(errors="replace")):
        for h in pf:
            lines = range(h.target_start, h.target_start + h.target_length) \
                if h.target_length else [h.target_start]
            for n in lines:
                t = at_tip(n)
                names = {name for a, b, name in functions if a <= t <= b}
                if not names:
                    return None
                found |= names
    return found


def unaffected(changed: list[str], built: Path, profiled: set[str],
               executed: dict[str, list[str]],
               linked: frozenset[str] | None = None,
               touched: dict[str, set[str] | None] | None = None,
               entered: dict[str, dict[str, list[str]]] | None = None) -> dict[str, str]:
    """{workload: why} for the workloads a commit's changes cannot reach: the
    commit changes only .c files that are either not built into the boot
    kernel (no object in `built`) or profiled and never executed by the
    workload at the tip, or, with `touched` ({file: the tip's functions the
    commit changes}) and `entered`, whose changed functions the workload never
    entered at the tip. Anything else (a header, a Makefile, a built file
    that was not profiled) may reach every workload: then none is left out."""
    counted = []
    if linked is None:
        linked = kconfig.linked_objects(built)
    for f in changed:
        if f.endswith(".c") and not kconfig.built_into(built, f, linked):
            continue
        if f not in profiled:
            return {}
        counted.append(f)
    if not counted:
        return {}       # the kernel is the same: the same-kernel rule decides
    names = ", ".join(counted)
    skip = {w: f"its changes ({names}) are code this workload did not execute at the tip (gcov)"
            for w, files in executed.items() if not set(counted) & set(files)}
    if touched is None or entered is None or any(touched.get(f) is None for f in counted):
        return skip
    where = "; ".join(f"{f}: {', '.join(sorted(touched[f] or ()))}" for f in counted)
    for w, files in entered.items():
        if w not in skip and not any(set(touched[f] or ()) & set(files.get(f, ()))
                                     for f in counted):
            skip[w] = (f"its changes ({where}) are in functions this workload did not enter "
                       "at the tip (gcov)")
    return skip


def built_sources(out: Path, files: list[str]) -> set[str]:
    """The .c files of `files` that the gcov build in `out` compiled with
    profiling and linked (a .gcno of an earlier config may linger)."""
    linked = kconfig.linked_objects(out)
    return {f for f in files if f.endswith(".c") and (out / f).with_suffix(".gcno").is_file()
            and kconfig.built_into(out, f, linked)}


def read_image(image: Path, out: Path, git_dir: Path,
               into: dict[str, dict[str, dict[int, int]]], src: Path,
               spans: dict[str, set[Span]] | None = None) -> int:
    """One boot's counters, per workload, added to `into` (and the files'
    functions to `spans`); returns the number of .gcda files."""
    with safety.scratch(git_dir, "gcov") as tmp:
        found = unpack(image, out, tmp / "gcda")
        for workload in found:
            into[workload] = line_counts(src, out, tmp / "gcda" / workload, tmp, spans)
    return sum(found.values())
