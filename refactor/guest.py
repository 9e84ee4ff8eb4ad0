"""A boot kernel per commit and its boots under QEMU: configure (tinyconfig +
what our init and the workloads need + debug options that make silent
damage loud), build (bzImage in the boot workspace, incremental from commit
to commit, kept by sha), boot (a fresh boot after one that died), parse
(console.py) and judge each workload."""
from __future__ import annotations

import filecmp
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from . import console, gcov, kconfig, passes, proc, qemu, safety
from .bootrec import CommitBoot, WorkloadResult, workload_result
from .recipe import Recipe
from .status import Outcome, Verdict, verdict
from .tree import Sha
from .workloads import WorkloadSpec
from .workspace import Workspace

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
    """Every boot kernel's options. gcov's own (CONFIG_GCOV_KERNEL, DEBUG_FS)
    are among them, though nothing is profiled in a plain kernel: the gcov
    kernel then has the plain kernels' config, and its build starts from the
    plain build directory (measure.seed), rebuilding only the profiled
    objects. DEBUG_FS alone reaches nearly every object (822 of 871 in a boot
    kernel of 6.1), so with another config that build was a whole kernel."""
    assert recipe.boot is not None
    wanted = (list(ENGINE_OPTIONS) + list(DEBUG_OPTIONS) + list(gcov.CONFIG)
              + list(recipe.boot.config))
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
        cb.status, cb.error = Verdict.BUILD_FAILED, error
        cb.workloads = [WorkloadResult(w.name, Outcome.NOT_RUN, ["the kernel did not build"])
                        for w in workloads]
        return
    reused: dict[str, WorkloadResult] = {}
    if kept is not None and resume:
        for w in workloads:
            k = kept.get(kdir / "bzImage", w.name)
            if k is not None and k["record"].get("status") == Outcome.PASS:
                old = workload_result(k["record"])
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
    cb.status = verdict(any(w.status != Outcome.PASS for w in cb.workloads))
    if kept is not None:
        for res in cb.workloads:
            if res.name in ran and res.status == Outcome.PASS:
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
                    res.status, res.why = Outcome.FAIL, [f"the kernel did not boot: {why}"]
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
                    res.status = Outcome.FAIL
                    res.why = [run.killed or "the kernel died before it started"]
                    res.signature = f"{w.name}:{res.why[0]}"
                break
    cb.workloads = [results[w.name] for w in workloads]
    cb.status = verdict(any(w.status != Outcome.PASS for w in cb.workloads))


def judge(res: WorkloadResult, spec: WorkloadSpec, con: console.Console, run: qemu.Run,
          kdir: Path, ws: Workspace) -> None:
    w = con.workloads[spec.name]
    res.seconds = round(run.durations.get(spec.name, 0.0), 1)
    splats = con.of(spec.name)
    # A stall report (hung task, soft lockup, RCU stall) after which the
    # workload still finished, exit 0, its checks passed, is a note: the
    # detectors' thresholds are host time, which TCG stretches. A stall that
    # does not end overruns the workload's time, and fails it.
    stalls = [s for s in splats if s.kind in console.STUCK]
    went_on = (w.ended and w.rc == 0 and not w.failures
               and len(stalls) == len(splats) > 0)
    why = []
    if went_on:
        s = stalls[0]
        res.splat = list(s.lines)
        res.decoded = decode(ws, kdir, s.lines)
        w.notes.insert(0, f"the kernel reported: {s.title}"
                       + (f" ({len(stalls) - 1} more)" if len(stalls) > 1 else "")
                       + "; the workload went on, finished and passed its checks")
        splats = []
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
    res.status = Outcome.FAIL if why else Outcome.PASS
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
