"""boot-test: build a small bootable kernel per commit, boot it under QEMU and
run the recipe's workloads, so that a series that builds but oopses is caught.

Stages, in the manner of kunit_tool: configure (tinyconfig + what our init
and the workloads need + debug options that make silent damage loud), build
(bzImage in the workspace shared with compile-test, incremental from commit
to commit), boot (QEMU; KVM where a real boot proves it works, else TCG),
parse (console.py) and judge.

The guest's root is the host's own root, read-only over virtio-9p, as
virtme-ng does: the workloads use the host's mkfs, dd and md5sum, and the
host's filesystems are never written. Disks are image files in the
workspace. When a workload kills the kernel, the remaining ones run on a
fresh boot, so that one failure does not hide the others.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from . import gcov, kconfig, passes, proc, qemu
from .bisect import bisect
from .bootrec import BootResult, CommitBoot
from .errors import KrefactorError
from .guest import UNWANTED, Kernels, Progress, config_options, test_commit
from .measure import areas, gcov_run
from .recipe import Recipe
from .status import Outcome, Verdict, verdict
from .tree import Sha, Tree
from .workloads import WorkloadSpec, load_workloads
from .workspace import Workspace, default_cc


def mark_also_at_base(base: CommitBoot, cb: CommitBoot) -> None:
    seen = {w.signature for w in base.workloads if w.status == Outcome.FAIL}
    for w in cb.workloads:
        if w.status == Outcome.FAIL and w.signature in seen:
            w.also_at_base = True


def run(*, tree: Tree, recipe: Recipe, base: Sha, tip: Sha, mode: str = "ends",
        names: tuple[str, ...] = (), jobs: int = 2, cc: str | None = None,
        with_gcov: bool = False, full_config: bool = False, resume: bool = False,
        progress: Progress = lambda m: None,
        tested: Callable[[CommitBoot, str], None] = lambda cb, accel: None) -> BootResult:
    """Boot-test base and tip ("ends"), every commit ("each"), or bisect a failure
    ("bisect"), or only measure at the tip ("gcov"); `with_gcov` then measures
    which changed lines the workloads ran at the tip, on a kernel of its own
    (gcov_run). With `full_config` the
    kernel is configured for every workload of the recipe, not only those
    run, so a run of a few reuses the kernels of a full run. With `resume`,
    passes kept by an earlier run on the same kernel bytes are taken instead of
    booted again (passes.py), and so is the gcov measurement."""
    for tool in ("make", "gcc", "qemu-system-x86_64"):
        proc.require(tool, "install the build tools and QEMU (scripts/setup.sh)")
    workloads = load_workloads(recipe, names)
    commits = tree.log(base, tip)
    if not commits:
        raise KrefactorError(f"{base[:12]}..{tip[:12]} holds no commits")
    result = BootResult(base, tip, mode, commit_count=len(commits))
    ws = Workspace(tree, jobs, cc if cc is not None else default_cc(), out="boot/out")
    ws.sync(base)
    options = config_options(recipe, load_workloads(recipe, ()) if full_config else workloads)
    progress(f"config: tinyconfig + {len(options)} options")
    enabled, result.unmet, _ = kconfig.configure(ws, "tinyconfig", {f"CONFIG_{o}" for o in options},
                                               progress, closure=False,
                                               unwanted=UNWANTED)
    result.config = sorted(f"CONFIG_{o}" for o in options if f"CONFIG_{o}" not in
                           {u.split()[0] for u in result.unmet})
    key = hashlib.sha256((ws.out / ".config").read_bytes()).hexdigest()
    kernels = Kernels(ws, key, progress)
    subjects = [(base, "(base)")] + [(sha, msg.splitlines()[0]) for sha, msg in commits]

    def test(i: int, only: list[WorkloadSpec] | None = None,
             previous: CommitBoot | None = None) -> CommitBoot:
        cb = CommitBoot(subjects[i][0], subjects[i][1], i)
        skip: dict[str, str] = {}
        if previous is not None and result.gcov is not None and result.gcov.ran_files:
            changed = tree.git("diff", "--name-only", "--no-renames", previous.sha,
                               cb.sha).decode().split()
            fns = result.gcov.functions
            touched = {f: gcov.touched_functions(tree, previous.sha, cb.sha, tip, f, fns[f])
                       for f in changed if f in fns} if result.gcov.entered else None
            ran, entered = result.gcov.whole_counts()
            skip = gcov.unaffected(changed, ws.out, set(result.gcov.profiled_sources), ran,
                                   kernels.linked(previous.sha), touched, entered)
            if skip:
                only = [w for w in (only or workloads) if w.name not in skip]
                if not only:
                    carry(cb, previous, skip)
                    progress(f"[{i}] {cb.sha[:12]} {cb.subject}: no workload executes what "
                             "it changes (gcov at the tip): not built or booted")
                    result.commits.append(cb)
                    tested(cb, result.accel)
                    return cb
        took = 0.0
        if previous is not None and previous.status != Verdict.BUILD_FAILED:
            _, took, _ = kernels.get(Sha(cb.sha), f"[{i}] {cb.sha[:12]} {cb.subject}")
        if previous is not None and kernels.same(Sha(previous.sha), Sha(cb.sha)):
            # Its changes are not built in this config: the kernel is the same
            # bytes as the previous commit's, and so are its results.
            cb.same_kernel_as = previous.same_kernel_as if previous.same_kernel_as \
                is not None else previous.index
            cb.status, cb.logs = previous.status, previous.logs
            cb.workloads = [replace(w, why=list(w.why)) for w in previous.workloads]
            progress(f"[{i}] {cb.sha[:12]} {cb.subject}: same kernel as "
                     f"[{cb.same_kernel_as}], not booted again")
        else:
            test_commit(ws, kernels, cb, only or workloads, recipe, result.accel, progress,
                        kept(), resume)
        cb.build_seconds = round(cb.build_seconds + took, 1)
        if skip and previous is not None:
            carry(cb, previous, skip)
        result.commits.append(cb)
        if i > 0 and result.commits[0].index == 0:
            mark_also_at_base(result.commits[0], cb)
        tested(cb, result.accel)
        return cb

    def carry(cb: CommitBoot, previous: CommitBoot, skip: dict[str, str]) -> None:
        """The workloads left out at `cb` keep `previous`'s results, marked."""
        mine = {w.name: w for w in cb.workloads}
        before = {w.name: w for w in previous.workloads}
        cb.workloads = []
        for w in workloads:
            if w.name in mine:
                cb.workloads.append(mine[w.name])
            elif w.name in before:
                old = before[w.name]
                cb.workloads.append(replace(
                    old, why=[*old.why, f"note: not run: {skip.get(w.name, 'not selected')}"],
                    carried_from=old.carried_from if old.carried_from is not None
                    else previous.index))
        cb.status = verdict(any(w.status != Outcome.PASS for w in cb.workloads))

    def accel(kdir: Path) -> str:
        """QEMU's accelerator, probed once, with the first kernel built."""
        if not result.accel:
            result.accel, result.accel_note = qemu.probe_accel(ws, kdir, progress)
        return result.accel

    stores: list[passes.Store] = []

    def kept() -> passes.Store:
        """The run's one store of passes, made once the accelerator is known."""
        assert recipe.boot is not None and result.accel
        if not stores:
            stores.append(passes.Store(ws.root / "boot" / "passes", recipe.boot.workloads,
                                       recipe.boot.memory, list(recipe.boot.disks),
                                       result.accel))
        return stores[0]

    if mode == "gcov":
        # Only the measurement: no pass/fail boots of base and tip.
        result.gcov = gcov_run(tree, recipe, workloads, options, base, tip, subjects[-1][1],
                               len(subjects) - 1, ws, accel, kept, progress, resume)
        result.areas = areas(tree, recipe, base, tip, ws.root / "boot" / "gcov", result.gcov)
        return result
    # The accelerator is probed with the base's kernel, once it is built.
    kdir, took, error = kernels.get(base, "[0] base")
    if kdir is None:
        raise KrefactorError(f"the base {base[:12]} does not build as a boot kernel: {error}")
    accel(kdir)
    base_cb = test(0)
    base_cb.build_seconds = round(took, 1)
    if mode == "each" and with_gcov:
        # Measured first, so that each commit runs only the workloads that
        # execute what it changes.
        result.gcov = gcov_run(tree, recipe, workloads, options, base, tip, subjects[-1][1],
                               len(subjects) - 1, ws, accel, kept, progress, resume)
    if mode == "each":
        previous = base_cb
        for i in range(1, len(subjects)):
            previous = test(i, previous=previous)
    else:
        tip_cb = test(len(subjects) - 1)
        if mode == "bisect":
            bisect(result, base_cb, tip_cb, workloads, test)
    if with_gcov and result.gcov is None:
        result.gcov = gcov_run(tree, recipe, workloads, options, base, tip, subjects[-1][1],
                               len(subjects) - 1, ws, accel, kept, progress, resume)
    result.areas = areas(tree, recipe, base, tip, ws.out, result.gcov, kernels.linked(tip))
    return result


