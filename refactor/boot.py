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

import filecmp
import hashlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from . import console, gcov, kconfig, passes, proc, qemu, safety
from .errors import KrefactorError
from .recipe import Recipe
from .tree import Sha, Tree
from .workloads import WorkloadSpec, load_workloads
from .workspace import Workspace, default_cc

# What our init needs: a 64-bit kernel with a serial console, the host root
# over virtio-9p, virtio disks, tmpfs, and the syscalls of the host's tools.
ENGINE_OPTIONS = (
    "64BIT", "PRINTK", "PRINTK_TIME", "BUG", "TTY", "SERIAL_8250", "SERIAL_8250_CONSOLE",
    "PROC_FS", "SYSFS", "DEVTMPFS", "BINFMT_ELF", "BINFMT_SCRIPT", "BLOCK", "BLK_DEV",
    "VIRTIO_MENU", "VIRTIO", "VIRTIO_MMIO", "VIRTIO_MMIO_CMDLINE_DEVICES", "VIRTIO_BLK",
    "X86_MPPARSE", "NET", "NET_9P",
    "NET_9P_VIRTIO", "9P_FS", "TMPFS", "SHMEM", "MULTIUSER", "FILE_LOCKING", "FUTEX",
    "EPOLL", "SIGNALFD", "TIMERFD", "EVENTFD", "AIO", "POSIX_TIMERS", "UNIX", "INET",
    "MAGIC_SYSRQ", "VM_EVENT_COUNTERS", "KALLSYMS", "SMP")
# The guest is QEMU's microvm without ACPI (qemu.qemu_cmd): virtio over MMIO,
# named on the kernel's command line, and the CPUs from qboot's MP table. On
# the pc machine the CPUs need ACPI (SeaBIOS's MP table lists only the boot
# CPU under TCG) and the disks PCI; without both, a cold 6.1 boot kernel built
# in 135 s instead of 164 s.
# Choice members tinyconfig picks that would shadow ours (frame pointers), and
# what olddefconfig turns on by default that no workload uses (on 6.1: 41
# objects in net/ipv6, 26 in net/ethtool, 20 in drivers/input). INET stays:
# 9P_FS depends on it.
UNWANTED = ("UNWINDER_GUESS", "ACPI", "PCI", "IPV6", "WIRELESS", "ETHTOOL_NETLINK", "VT",
            "INPUT", "HID", "THERMAL")
# Options that report a hang or a lockup, and debug info to decode a splat;
# a recipe's [boot] config adds the checks of the code it changes.
DEBUG_OPTIONS = (
    "DEBUG_KERNEL", "DETECT_HUNG_TASK", "SOFTLOCKUP_DETECTOR",
    "DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT", "DEBUG_INFO_REDUCED", "UNWINDER_FRAME_POINTER")
BOOT_SECONDS = 60          # from QEMU's start to init's first line, under TCG


@dataclass
class WorkloadResult:
    name: str
    status: str = "NOT RUN"               # PASS, FAIL, NOT RUN
    why: list[str] = field(default_factory=list)
    proof: dict[str, int] = field(default_factory=dict)
    splat: list[str] = field(default_factory=list)        # the first splat's lines
    decoded: list[str] = field(default_factory=list)      # its stack decoded to file:line
    signature: str = ""
    also_at_base: bool = False
    seconds: float = 0.0
    carried_from: int | None = None       # not run here: the result of that commit


@dataclass
class CommitBoot:
    """The boot-test of one commit (index 0 is the base)."""
    sha: str
    subject: str
    index: int
    status: str = "pass"                  # pass, fail, build failed
    build_seconds: float = 0.0
    boot_seconds: float = 0.0
    boots: int = 0
    boot_to_first_workload: float | None = None
    workloads: list[WorkloadResult] = field(default_factory=list)
    error: str = ""
    logs: str = ""                        # the directory of its console logs, one per boot
    same_kernel_as: int | None = None     # index of the commit whose kernel is byte-identical

    @property
    def new_failures(self) -> list[WorkloadResult]:
        return [w for w in self.workloads if w.status == "FAIL" and not w.also_at_base]


@dataclass
class Area:
    """A directory the range changes: built into the boot kernel and run, or why not."""
    path: str
    files: int
    sources: int                      # .c files among them
    built: bool
    reason: str = ""                  # the recipe's, when no workload can run it
    ran_by: dict[str, int] = field(default_factory=dict)   # gcov: workload -> lines executed


@dataclass
class BootResult:
    base: str
    tip: str
    mode: str
    accel: str = ""
    accel_note: str = ""
    config: list[str] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    commits: list[CommitBoot] = field(default_factory=list)
    first_bad: dict | None = None
    bisect_note: str = ""
    skipped: list[dict] = field(default_factory=list)   # bisect: commits that fail otherwise
    commit_count: int = 0
    gcov: gcov.GcovResult | None = None
    areas: list[Area] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(c.index > 0 and (c.status == "build failed" or c.new_failures)
                   for c in self.commits)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


Progress = Callable[[str], None]


class Kernels:
    """Bootable kernels per commit, built in the boot workspace and kept by sha,
    so that bisect and a second run reuse them."""

    def __init__(self, ws: Workspace, config_key: str, progress: Progress):
        self.ws, self.progress = ws, progress
        self.root = ws.root / "boot" / "kernels"
        self.key = config_key

    def dir(self, sha: str) -> Path:
        return self.root / f"{sha[:12]}-{self.key[:12]}"

    def linked(self, sha: str) -> frozenset[str] | None:
        """The objects `sha`'s kernel links, as recorded when it was built
        (None for a kernel built before krefactor kept the list)."""
        f = self.dir(sha) / "linked-objects"
        return frozenset(f.read_text().split()) if f.is_file() else None

    def get(self, sha: Sha, label: str) -> tuple[Path | None, float, str]:
        """(directory holding bzImage and vmlinux, build seconds, error)."""
        d = self.dir(sha)
        if (d / "bzImage").is_file() and (d / "vmlinux").is_file():
            return d, 0.0, ""
        started = time.monotonic()
        self.ws.sync(sha)
        self.progress(f"{label}: make bzImage")
        res = make_bzimage(self.ws)
        took = time.monotonic() - started
        if res.returncode != 0:
            return None, took, f"make bzImage failed: {proc.tail(res.stderr, 6)}"
        tmp = d.with_name(d.name + ".new")
        safety.remove(tmp, self.ws.tree.git_dir)
        tmp.mkdir(parents=True)
        shutil.copyfile(self.ws.out / "arch/x86/boot/bzImage", tmp / "bzImage")
        shutil.copyfile(self.ws.out / "vmlinux", tmp / "vmlinux")
        linked = kconfig.linked_objects(self.ws.out)
        if linked is not None:
            (tmp / "linked-objects").write_text("".join(f"{o}\n" for o in sorted(linked)))
        if d.exists():
            safety.remove(d, self.ws.tree.git_dir)
        tmp.rename(d)
        return d, took, ""


    def same(self, previous: Sha, sha: Sha) -> bool:
        """Are the kernels of both commits, already built, the same bytes? Make
        relinks only when an object changed, so a commit whose changes this
        config does not build leaves vmlinux as it was."""
        a, b = self.dir(previous) / "bzImage", self.dir(sha) / "bzImage"
        return a.is_file() and b.is_file() and filecmp.cmp(a, b, shallow=False)


def make_bzimage(ws: Workspace) -> subprocess.CompletedProcess[bytes]:
    """make bzImage, then the compressed kernel once more without ccache.
    piggy.S pulls vmlinux in with .incbin, which ccache's depend mode does
    not see: when piggy.S's text (the sizes) matched an earlier build's,
    ccache gave back that build's piggy.o. Seen on 6.1: the bisect test's tip
    kernel booted the base's image (its banner), while its vmlinux was the tip."""
    res = ws.make("bzImage", keep_going=False)
    if res.returncode != 0:
        return res
    safety.remove(ws.out / "arch/x86/boot/compressed/piggy.o", ws.tree.git_dir)
    return ws.make("bzImage", keep_going=False, no_cache=True)


def config_options(recipe: Recipe, workloads: list[WorkloadSpec]) -> list[str]:
    assert recipe.boot is not None
    wanted = list(ENGINE_OPTIONS) + list(DEBUG_OPTIONS) + list(recipe.boot.config)
    for w in workloads:
        wanted += w.needs
    return list(dict.fromkeys(wanted))


def test_commit(ws: Workspace, kernels: Kernels, cb: CommitBoot, workloads: list[WorkloadSpec],
                recipe: Recipe, accel: str, progress: Progress,
                kept: passes.Store | None = None, resume: bool = False) -> None:
    """Build, boot and judge one commit; fills `cb`. Each pass is kept in
    `kept`; with `resume`, a workload kept as passed on the same kernel bytes
    (and workloads, guest and judge) is not booted again."""
    label = f"[{cb.index}] {cb.sha[:12]} {cb.subject}"
    kdir, cb.build_seconds, error = kernels.get(Sha(cb.sha), label)
    cb.build_seconds = round(cb.build_seconds, 1)
    if kdir is None:
        cb.status, cb.error = "build failed", error
        cb.workloads = [WorkloadResult(w.name, "NOT RUN", ["the kernel did not build"])
                        for w in workloads]
        return
    reused: dict[str, WorkloadResult] = {}
    if kept is not None and resume:
        for w in workloads:
            k = kept.get(kdir / "bzImage", w.name)
            if k is not None and k["record"].get("status") == "PASS":
                old = WorkloadResult(**k["record"])
                reused[w.name] = replace(old, why=[*old.why, (
                    f"note: reused (--resume): passed at {k['sha'][:12]} on {k['when']}, "
                    "the same kernel bytes, workloads, guest and judge")])
    fresh = [w for w in workloads if w.name not in reused]
    if reused:
        progress(f"{label}: reused {len(reused)} kept passes: {', '.join(reused)}")
    if fresh:
        boot_commit(ws, kdir, cb, fresh, recipe, accel, progress)
    ran = {w.name: w for w in cb.workloads}
    cb.workloads = [reused.get(w.name) or ran[w.name] for w in workloads]
    cb.status = "fail" if any(w.status != "PASS" for w in cb.workloads) else "pass"
    if kept is not None:
        for res in cb.workloads:
            if res.name in ran and res.status == "PASS":
                kept.put(kdir / "bzImage", res.name, asdict(res), cb.sha)


def boot_commit(ws: Workspace, kdir: Path, cb: CommitBoot, workloads: list[WorkloadSpec],
                recipe: Recipe, accel: str, progress: Progress,
                counters: gcov.GcovRun | None = None) -> None:
    """Boot the kernel in `kdir` until every workload has run (a fresh boot
    after one that died) and judge each; with `counters`, also collect the
    guest's gcov counters after each boot."""
    assert recipe.boot is not None
    label = f"[{cb.index}] {cb.sha[:12]} {cb.subject}"
    results = {w.name: WorkloadResult(w.name) for w in workloads}
    remaining = list(workloads)
    # The gcov kernel's boots of the tip keep their own logs, not the tip's.
    logs = ws.root / "boot" / "logs" / (cb.sha[:12] + ("-gcov" if counters else ""))
    if logs.exists():
        safety.remove(logs, ws.tree.git_dir)
    logs.mkdir(parents=True)
    cb.logs = str(logs)
    with safety.scratch(ws.tree.git_dir, "boot") as tmp:
        while remaining:
            log = logs / f"boot-{cb.boots + 1}.log"
            names = [f"vd{chr(ord('a') + i)}" for i in range(len(recipe.boot.disks))]
            sizes = list(recipe.boot.disks)
            hooks = None
            if counters is not None:
                # The counters' disk comes last, after the workloads' own.
                names.append(f"vd{chr(ord('a') + len(names))}")
                sizes.append(gcov.DISK_MB)
                hooks = gcov.guest_hooks(f"/dev/{names[-1]}")
            disks = [tmp / f"{n}.img" for n in names]
            for img, size in zip(disks, sizes):
                with open(img, "wb") as f:         # fresh, sparse, every boot
                    f.truncate(size * 1024 * 1024)
            share = tmp / "share"          # fresh every boot, like the disks
            safety.remove(share, ws.tree.git_dir)
            share.mkdir()
            init = tmp / "init"
            init.write_text(qemu.init_script(remaining, recipe.boot.workloads,
                                             [f"/dev/{n}" for n in names[:len(recipe.boot.disks)]],
                                             recipe.boot.memory, hooks))
            init.chmod(0o755)
            progress(f"{label}: boot ({accel.upper()}): {', '.join(w.name for w in remaining)}")
            run = qemu.boot_once(qemu.qemu_cmd(kdir, init, disks, recipe.boot.memory, accel,
                                               share),
                                 remaining, log, BOOT_SECONDS, progress)
            cb.boots += 1
            cb.boot_seconds = round(cb.boot_seconds + run.seconds, 1)
            if counters is not None:
                counters.gcda += gcov.read_image(disks[-1], counters.out, ws.tree.git_dir,
                                                 counters.counts, ws.src, counters.spans)
            if cb.boot_to_first_workload is None and run.first_workload_at is not None:
                cb.boot_to_first_workload = round(run.first_workload_at, 1)
            con = console.parse(run.text)
            if not con.booted:
                # A kernel that does not boot fails every workload left.
                why = con.splats[0].title if con.splats else \
                    (run.killed or "QEMU exited before init ran")
                for w in remaining:
                    res = results[w.name]
                    res.status, res.why = "FAIL", [f"the kernel did not boot: {why}"]
                    res.signature = f"boot:{why}"
                    res.splat = list(con.splats[0].lines) if con.splats else []
                break
            ran = [w for w in remaining if w.name in con.workloads
                   and con.workloads[w.name].started]
            for w in ran:
                judge(results[w.name], w, con, run, kdir, ws)
            progress("  " + ", ".join(f"{w.name} {results[w.name].status}" for w in ran))
            remaining = [w for w in remaining if w not in ran]
            if not ran:
                for w in remaining:
                    res = results[w.name]
                    res.status = "FAIL"
                    res.why = [run.killed or "the kernel died before it started"]
                    res.signature = f"{w.name}:{res.why[0]}"
                break
    cb.workloads = [results[w.name] for w in workloads]
    cb.status = "fail" if any(w.status != "PASS" for w in cb.workloads) else "pass"


def judge(res: WorkloadResult, spec: WorkloadSpec, con: console.Console, run: qemu.Run,
          kdir: Path, ws: Workspace) -> None:
    w = con.workloads[spec.name]
    res.seconds = round(run.durations.get(spec.name, 0.0), 1)
    splats = con.of(spec.name)
    why = []
    if splats:
        s = splats[0]
        # The panic that follows an oops (panic_on_oops) is not another failure.
        more = len([x for x in splats[1:] if x.kind != "panic"])
        why.append(s.title + (f" ({more} more)" if more else ""))
        res.splat = list(s.lines)
        res.signature = s.signature
        res.decoded = decode(ws, kdir, s.lines)
    if not w.ended:
        why.append(run.killed if run.killed and con.current == spec.name
                   else "the kernel died during it")
    elif w.rc == 124 or w.rc == 137:
        why.append(f"timed out after {spec.timeout}s")
    elif w.rc != 0:
        why.append(f"exit status {w.rc}")
    why += w.failures
    for key in spec.proves:
        d = w.delta(key)
        if d is not None:
            res.proof[key] = d
        if w.ended and not splats and w.rc == 0:
            if d is None:
                why.append(f"cannot prove it ran: /proc/vmstat has no {key}")
            elif d <= 0:
                why.append(f"did nothing: {key} +{d}")
    res.status = "FAIL" if why else "PASS"
    res.why = why + [f"note: {n}" for n in w.notes]
    if why and not res.signature:
        res.signature = f"{spec.name}:{why[0]}"


def decode(ws: Workspace, kdir: Path, lines: tuple[str, ...]) -> list[str]:
    """The splat's stack with file:line, by the tree's own decode_stacktrace.sh."""
    script = ws.src / "scripts" / "decode_stacktrace.sh"
    if not script.is_file():
        return []
    res = proc.run(["bash", str(script), str(kdir / "vmlinux"), str(ws.src)],
                   input="\n".join(lines).encode(), check=False, timeout=120)
    out = res.stdout.decode(errors="replace").splitlines()
    # Keep the frames that decoded to a source line.
    return [l.strip() for l in out if re.search(r"\s\S+\.[chS]:\d+", l)][:25]


def mark_also_at_base(base: CommitBoot, cb: CommitBoot) -> None:
    seen = {w.signature for w in base.workloads if w.status == "FAIL"}
    for w in cb.workloads:
        if w.status == "FAIL" and w.signature in seen:
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
        if previous is not None and previous.status != "build failed":
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
        cb.status = "fail" if any(w.status != "PASS" for w in cb.workloads) else "pass"

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
                for w, k in fl.ran_by.items():
                    a.ran_by[w] = a.ran_by.get(w, 0) + k
        found.append(a)
    return found


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
    what = "gcov:" + ",".join(sorted(w.name for w in workloads))
    k = store.get(kdir / "bzImage", what) if resume else None
    if k is not None:
        progress(f"gcov: reused (--resume) the measurement of {k['when']}: same kernel bytes, "
                 "workloads, guest and judge")
        return gcov.GcovResult.from_dict(k["record"])
    counters = gcov.GcovRun(ws.out.resolve())
    cb = CommitBoot(tip, subject + " (gcov)", index)
    boot_commit(ws, kdir, cb, workloads, recipe, accel(kdir), progress, counters)
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
        store.put(kdir / "bzImage", what, asdict(res), tip)
    progress(f"gcov: {res.executed} of {res.code} changed code lines executed")
    return res


def loose(signature: str) -> str:
    """A failure's signature without line numbers: the commits before the tip
    may have moved the line that the tip's kernel names."""
    return re.sub(r":\d+", "", signature)


def brings(cb: CommitBoot, tip: CommitBoot) -> bool:
    """Does `cb` fail the way the tip does?"""
    if tip.status == "build failed":
        return cb.status == "build failed"
    wanted = {(w.name, loose(w.signature)) for w in tip.new_failures}
    return any((w.name, loose(w.signature)) in wanted for w in cb.new_failures)


def bisect(result: BootResult, base_cb: CommitBoot, tip_cb: CommitBoot,
           workloads: list[WorkloadSpec], test: Callable[..., CommitBoot]) -> None:
    """Find the first commit that brings the tip's failure, in about log2(n) boots,
    running only the workloads that failed at the tip. A commit that fails in
    another way (or does not build) says nothing about the tip's failure: it is
    skipped, as `git bisect skip` does, and the next one nearest the middle is
    tested instead."""
    if not tip_cb.new_failures and tip_cb.status != "build failed":
        result.bisect_note = "nothing to bisect: the tip brings no failure"
        return
    if base_cb.status == "build failed":
        result.bisect_note = "cannot bisect: the base does not build"
        return
    names = {w.name for w in tip_cb.new_failures}
    only = [w for w in workloads if w.name in names] or workloads
    good, bad = 0, tip_cb.index
    tested = {tip_cb.index: tip_cb}
    skipped: set[int] = set()
    while True:
        left = [i for i in range(good + 1, bad) if i not in skipped]
        if not left:
            break
        mid = min(left, key=lambda i: (abs(2 * i - good - bad), i))
        cb = tested[mid] = test(mid, only)
        if brings(cb, tip_cb):
            bad = mid
        elif cb.status == "build failed" or cb.new_failures:
            skipped.add(mid)
        else:
            good = mid
    first = tested[bad]
    result.first_bad = {"index": bad, "sha": first.sha, "subject": first.subject,
                        "failures": failures(first),
                        "or_before": sorted(i for i in skipped if good < i < bad)}
    result.skipped = [{"index": i, "sha": tested[i].sha, "subject": tested[i].subject,
                       "failures": failures(tested[i])} for i in sorted(skipped)]


def failures(cb: CommitBoot) -> list[str]:
    """What a failing commit showed, a line per workload (or its build error)."""
    return [f"{w.name}: {w.why[0] if w.why else 'FAIL'}" for w in cb.new_failures] or \
        [cb.error or "build failed"]
