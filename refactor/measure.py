"""boot-test --gcov: the tip's boot kernel built again with gcov, booted with
every workload, and which changed lines ran; and each directory the range
changes, built into the boot kernel and run, or why not."""
from __future__ import annotations

import filecmp
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from . import gcov, kconfig, passes, proc, safety
from .bootrec import Area, CommitBoot
from .guest import UNWANTED, Progress, boot_commit, make_bzimage
from .recipe import Recipe
from .tree import Sha, Tree
from .workloads import WorkloadSpec
from .workspace import Workspace


def areas(tree: Tree, recipe: Recipe, base: Sha, tip: Sha, out: Path,
          counted: gcov.GcovResult | None,
          linked: frozenset[str] | None = None) -> list[Area]:
    """Each directory the range changes: whether the tip's boot kernel links
    its changed .c files (`linked`, as recorded with the kernel; else the
    last build in `out`), the recipe's reason where no workload can run it,
    and with gcov the workloads that executed its lines."""
    assert recipe.boot is not None
    names = tree.git("diff", "--name-only", "--no-renames", base, tip).decode().split()
    by_dir: dict[str, list[str]] = {}
    for n in names:
        by_dir.setdefault(str(Path(n).parent), []).append(n)
    found = []
    if linked is None:
        linked = kconfig.linked_objects(out)
    for d, files in sorted(by_dir.items()):
        sources = [f for f in files if f.endswith(".c")]
        built = any(kconfig.built_into(out, f, linked) for f in sources)
        reason = next((why for p, why in recipe.boot.cannot_run
                       if d == p or d.startswith(p + "/")), "")
        a = Area(d, len(files), len(sources), built, reason)
        for fl in counted.files if counted else []:
            if str(Path(fl.path).parent) == d:
                a.changed += fl.changed
                a.code += fl.code
                for w, k in fl.ran_by.items():
                    a.ran_by[w] = a.ran_by.get(w, 0) + k
        found.append(a)
    return found


def seed(plain_out: Path, out: Path, git_dir: Path) -> bool:
    """Make the gcov build directory a copy of the plain kernel's (timestamps
    kept) when it does not exist or was configured differently. Both have one
    config (guest.config_options), so Kbuild then rebuilds only the profiled
    objects (their command line changed) and what links them, not the whole
    kernel. False when there is nothing to copy or no need."""
    config = plain_out / ".config"
    if not (plain_out / "vmlinux").is_file() or not config.is_file():
        return False
    if (out / ".config").is_file() and filecmp.cmp(out / ".config", config, shallow=False):
        return False
    tmp = out.with_name(out.name + ".new")
    safety.remove(tmp, git_dir)
    proc.run(["cp", "-a", "--reflink=auto", str(plain_out), str(tmp)])
    safety.remove(out, git_dir)
    tmp.rename(out)
    return True


# The gcov kernel runs reclaim-heavy workloads several times slower than the
# plain one (6.1.192, TCG, after the same workloads in the same boot:
# f2fs-reclaim 71 s plain, 225 s gcov; f2fs-shutdown-reclaim 95 s plain, cut
# at its 400 s limit on gcov). Its boot measures what ran, and a workload cut
# by a limit set for the plain kernel leaves its counters short, so there
# each workload gets this many times its own timeout. Pass and fail are the
# plain kernels'; a workload that fails here still runs at every commit.
GCOV_SLOWER = 3


def gcov_workloads(workloads: list[WorkloadSpec]) -> list[WorkloadSpec]:
    """The workloads as the gcov kernel's boot runs them: GCOV_SLOWER times
    their timeouts."""
    return [replace(w, timeout=w.timeout * GCOV_SLOWER) for w in workloads]


def gcov_identity(tree: Tree, tip: Sha, ws: Workspace) -> bytes:
    """What decides a gcov kernel, kept under in place of its bytes: gcc
    stamps each profiled object with the time it was compiled (gcc 12 here:
    two compiles of one file with -fprofile-arcs differ in three bytes, with
    -frandom-seed or SOURCE_DATE_EPOCH too). A profiled file that the shared
    export rewrote for another commit and back is compiled again, and the
    same sources give another kernel by its bytes. So: the tip's tree, the
    .config, the make variables (which objects are profiled), the compiler
    and gcc's version."""
    version = proc.run(["gcc", "--version"], check=False).stdout
    return b"\0".join([b"gcov-kernel", tree.tree_of(tip).encode(),
                       (ws.out / ".config").read_bytes(), repr(ws.make_vars).encode(),
                       (ws.cc or "").encode(), version])


def gcov_run(tree: Tree, recipe: Recipe, workloads: list[WorkloadSpec], options: list[str],
             base: Sha, tip: Sha, subject: str, index: int, plain: Workspace,
             accel: Callable[[Path], str], kept: Callable[[], passes.Store],
             progress: Progress, resume: bool = False) -> gcov.GcovResult:
    """Build the tip's boot kernel with gcov, in a directory of its own (boot/gcov),
    profiling the objects the range changes; boot it with every workload and
    match the counts with the range's added lines. `plain` is the boot
    kernel's own workspace: its build directory tells what the config builds."""
    changed = gcov.changed_lines(tree, base, tip)
    sources = gcov.changed_sources(tree, base, tip)
    res = gcov.GcovResult(tip)
    plain.sync(tip)
    res.profiled, skipped = gcov.profile_vars(plain.src, sources, plain.out)
    ws = Workspace(tree, plain.jobs, plain.cc, out="boot/gcov", make_vars=tuple(res.profiled))
    if seed(plain.out, ws.out, tree.git_dir):
        progress("gcov: build directory copied from the plain kernel's (same config)")
    _, unmet, _ = kconfig.configure(ws, "tinyconfig",
                                  {f"CONFIG_{o}" for o in [*options, *gcov.CONFIG]},
                                  progress, closure=False, unwanted=UNWANTED)
    missing = [u for u in unmet if u.split()[0] in {f"CONFIG_{o}" for o in gcov.CONFIG}]
    if missing:
        res.error = f"cannot build a gcov kernel: could not enable {missing[0]}"
        return res
    progress(f"gcov: make bzImage at the tip, profiling {len(res.profiled)} object names")
    started = time.monotonic()
    made = make_bzimage(ws)
    if made.returncode != 0:
        res.error = f"make bzImage (gcov) failed: {proc.tail(made.stderr, 6)}"
        return res
    res.build_seconds = round(time.monotonic() - started, 1)
    kdir = ws.root / "boot" / "gcov-kernel"
    safety.remove(kdir, tree.git_dir)
    kdir.mkdir(parents=True)
    shutil.copyfile(ws.out / "arch/x86/boot/bzImage", kdir / "bzImage")
    shutil.copyfile(ws.out / "vmlinux", kdir / "vmlinux")
    accel(kdir)
    store = kept()
    what = f"gcov:x{GCOV_SLOWER}:" + ",".join(sorted(w.name for w in workloads))
    identity = gcov_identity(tree, tip, ws)
    k = store.get(identity, what) if resume else None
    if k is not None:
        progress(f"gcov: reused (--resume) the measurement of {k['when']}: same tip tree, "
                 "config, profiled objects and compiler, workloads, guest and judge")
        return gcov.GcovResult.from_dict(k["record"])
    counters = gcov.GcovRun(ws.out.resolve())
    cb = CommitBoot(tip, subject + " (gcov)", index)
    boot_commit(ws, kdir, cb, gcov_workloads(workloads), recipe, accel(kdir), progress,
                counters)
    res.workloads = {w.name: w.status for w in cb.workloads}
    res.boots, res.gcda, res.boot_seconds = cb.boots, counters.gcda, cb.boot_seconds
    built = gcov.built_sources(ws.out, sources)
    res.files = gcov.judge(changed, counters.counts, built, skipped)
    res.profiled_sources = sorted(f for f in built if any(f in per for per in
                                                          counters.counts.values()))
    res.ran_files = gcov.executed_files(counters.counts)
    res.functions = {f: sorted([a, b, n] for a, b, n in counters.spans.get(f, ()))
                     for f in res.profiled_sources}
    res.entered = gcov.entered_functions(
        {w: {f: per[f] for f in res.profiled_sources if f in per}
         for w, per in counters.counts.items()}, counters.spans)
    if not counters.gcda:
        res.error = "the guest wrote no gcov counters"
    else:
        # Kept with each workload's status: a resumed --each leaves out only
        # workloads that passed here (GcovResult.whole_counts).
        store.put(identity, what, asdict(res), tip)
    progress(f"gcov: {res.executed} of {res.code} changed code lines executed")
    return res
