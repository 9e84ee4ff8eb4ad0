"""The guest side of boot-test: its init script, the QEMU command line, one
boot watched from its console, and the KVM probe.

The guest's root is the host's own root, read-only over virtio-9p (as
virtme-ng does), so the workloads run the host's tools; disks are image
files. QEMU runs with -no-reboot and the init reboots when done, so QEMU
exits; a boot that overruns is stopped from here.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import console, proc, safety

if TYPE_CHECKING:
    from .workloads import WorkloadSpec
    from .workspace import Workspace

HUNG_TASK_SECONDS = 10
WATCHDOG_THRESH = 30
GUEST_BOOT_DIR = "/dev/krefactor"      # the recipe's boot scripts, inside the guest
KVM_PROBE_SECONDS = 20
IDLE_SECONDS = 120      # init's longest step between a workload's end and the next start
# A workload's host-side limit, a backstop for a guest that cannot say it is
# stuck (STUCK_AFTER; its init stuck too, or its clock stopped): twice its timeout, plus the
# clean-up after it (umounts, swapoff, sync) and the gcov counters' copy.
# Twice, since under TCG the guest's clock can fall behind the host's: on a
# gcov kernel dirty-migration's guest saw 350 s go by while the host saw 480.
WORKLOAD_SLACK = 60
# init prints "krefactor: stuck NAME" when workload NAME and the clean-up
# after it (umounts, swapoff, sync) have not ended this many seconds after
# its timeout, by the guest's own clock: `timeout -k 5` sent SIGKILL 5 s after
# the timeout, and the clean-up's sync waits for every page under writeback.
# A kernel that leaves a folio under writeback for good hangs there. The host
# stops QEMU at that mark, before the backstop above.
STUCK_AFTER = 60
Progress = Callable[[str], None]


# The watcher's end, once the workload and its clean-up are over.
WATCH_END = "pkill -P $s; kill $s 2>/dev/null"


def watched_run(stuck_after: int | None = None) -> list[str]:
    """init's lines that run workload $1 (script $4) for at most $2 seconds,
    setting $rc, with a watcher ($s) that prints the stuck mark unless ended
    (WATCH_END) in time. The workload runs in the background: `timeout`
    itself waits for as long as a task it cannot kill does."""
    after = STUCK_AFTER if stuck_after is None else stuck_after
    return ['timeout -k 5 "$2" /bin/sh "$4" </dev/null 2>&1 & t=$!',
            f'(sleep $(($2 + {after})) && echo "krefactor: stuck $1") 2>/dev/null & s=$!',
            "wait $t; rc=$?"]


def init_script(workloads: list[WorkloadSpec], boot_dir: Path, disks: list[str],
                memory: int, hooks: Hooks | None = None) -> str:
    """The guest's init: mount the basics, run each workload between markers,
    printing the vmstat counters it proves with before and after, then reboot
    (QEMU runs with -no-reboot, so it exits)."""
    hooks = hooks or Hooks()
    lines = [
        "#!/bin/sh",
        "# krefactor boot-test init (generated for this boot)",
        "export PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "mount -t proc proc /proc; mount -t sysfs sysfs /sys",
        "mount -t devtmpfs devtmpfs /dev",
        # The recipe may live under the host's /tmp, which the guest's own
        # tmpfs hides: its scripts are copied out of the way first.
        f"mkdir {GUEST_BOOT_DIR} && cp '{boot_dir}'/* {GUEST_BOOT_DIR}/",
        "mount -t tmpfs -o size=64m tmpfs /tmp",
        f"echo {HUNG_TASK_SECONDS} > /proc/sys/kernel/hung_task_timeout_secs",
        # A soft lockup is reported after twice this many seconds without a
        # schedule: 60, not 20. Under TCG (slower still with gcov) a kernel
        # clearing pages for a big allocation went 23 s without one and was
        # taken for stuck; a kernel looping for good is still caught.
        f"echo {WATCHDOG_THRESH} > /proc/sys/kernel/watchdog_thresh",
        "echo 1 > /proc/sys/kernel/panic_on_oops",
        f"export KREFACTOR_DISKS='{' '.join(disks)}' KREFACTOR_BOOT_DIR={GUEST_BOOT_DIR}",
        f"export KREFACTOR_MEM_MB={memory} KREFACTOR_SHARE={SHARE_TAG}",
        f"export KREFACTOR_SHARE2={SHARE_TAG2}",
        'vm() { for k in $1; do grep "^$k " /proc/vmstat | tr " " "="; done | tr "\\n" " "; }',
        "w() {",
        '  echo "krefactor: start $1"',
        '  echo "krefactor: vmstat-before $1 $(vm "$3")"',
        '  mkdir -p "/tmp/w/$1"; cd "/tmp/w/$1"',
        '  before=" $(cut -d" " -f2 /proc/mounts | tr "\\n" " ")"',
        *[f"  {h}" for h in hooks.before_each],
        *[f"  {line}" for line in watched_run()],
        # What a workload left behind goes with it, even when it was killed:
        # its mounts (a tmpfs full of data holds the guest's memory), its
        # swap and its files in /tmp, so that it does not starve the next.
        '  cd /; for m in $(cut -d" " -f2 /proc/mounts | tac); do',
        '    case "$before" in *" $m "*) ;; *) umount -l "$m" 2>/dev/null;; esac',
        "  done",
        '  swapoff -a 2>/dev/null; rm -rf "/tmp/w/$1"; sync',
        f"  {WATCH_END}",
        *[f"  {h}" for h in hooks.after_each],
        '  echo "krefactor: vmstat-after $1 $(vm "$3")"',
        '  echo "krefactor: end $1 rc=$rc"',
        "}",
        'echo "krefactor: boot ok $(uname -r)"',
    ]
    lines += hooks.start
    for w in workloads:
        lines.append(f"w {w.name} {w.timeout} '{' '.join(w.proves)}' "
                     f"{GUEST_BOOT_DIR}/{w.path.name}")
    lines += ['echo "krefactor: done"', "sync", "echo b > /proc/sysrq-trigger", "sleep 10"]
    return "\n".join(lines) + "\n"


SHARE_TAG = "krefactor-share"          # the writable 9p share's mount tag
# The same directory once more: a virtio-9p device takes one mount, and a
# second mount (an inode of its own for each file) can change a file behind
# the first one's page cache.
SHARE_TAG2 = "krefactor-share2"


def qemu_cmd(kernel: Path, init: Path, disks: list[Path], memory: int, accel: str,
             share: Path | None = None) -> list[str]:
    """QEMU's microvm machine without ACPI: qboot hands the kernel an MP table
    for the CPUs, and QEMU names the virtio-mmio devices on the command line,
    so that the kernel needs neither ACPI nor PCI. `share`, a host directory
    of the boot's own, is offered writable over virtio-9p as SHARE_TAG, and
    again as SHARE_TAG2."""
    cmd = ["qemu-system-x86_64", "-M", "microvm,acpi=off", "-m", str(memory), "-smp", "2",
           "-nographic", "-no-reboot", "-kernel", str(kernel / "bzImage"),
           "-fsdev", "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap",
           "-device", "virtio-9p-device,fsdev=root,mount_tag=/dev/root"]
    if share is not None:
        cmd += ["-fsdev", f"local,id=share,path={share},security_model=none",
                "-device", f"virtio-9p-device,fsdev=share,mount_tag={SHARE_TAG}",
                "-fsdev", f"local,id=share2,path={share},security_model=none",
                "-device", f"virtio-9p-device,fsdev=share2,mount_tag={SHARE_TAG2}"]
    cmd += ["-enable-kvm", "-cpu", "host"] if accel == "kvm" else ["-cpu", "max"]
    for i, d in enumerate(disks):
        cmd += ["-drive", f"file={d},format=raw,if=none,id=disk{i}",
                "-device", f"virtio-blk-device,drive=disk{i}"]
    cmd += ["-append", "root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L "
            f"ro init={init} console=ttyS0 panic=-1 oops=panic softlockup_panic=0 "
            "hung_task_panic=0 reboot=t"]
    return cmd


@dataclass(frozen=True)
class Hooks:
    """Shell lines for the init: once after boot, and around each workload
    (whose name is $1)."""
    start: list[str] = field(default_factory=list)
    before_each: list[str] = field(default_factory=list)
    after_each: list[str] = field(default_factory=list)


@dataclass
class Run:
    """One QEMU run: its console text and when each marker line arrived."""
    text: str
    seconds: float
    first_workload_at: float | None
    killed: str = ""            # why krefactor stopped it, if it did
    durations: dict[str, float] = field(default_factory=dict)   # workload -> seconds


def boot_once(cmd: list[str], workloads: list[WorkloadSpec], log: Path,
              boot_deadline: float, progress: Progress) -> Run:
    """Run QEMU until the guest reboots, or stop it when init or a workload
    overruns its time. The console goes to `log` as it comes."""
    child = proc.spawn(cmd, env=None, stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    chunks: list[str] = []
    marks: list[tuple[float, str]] = []
    started = time.monotonic()

    def reader() -> None:
        assert child.stdout is not None
        with open(log, "a") as f:
            for raw in child.stdout:
                line = raw.decode("utf-8", "replace")
                chunks.append(line)
                f.write(line)
                f.flush()       # readable while the boot runs (tail -f)
                stripped = console.strip(line)
                if stripped.startswith(console.MARK):
                    marks.append((time.monotonic(), stripped))

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    limits = {w.name: 2 * w.timeout + WORKLOAD_SLACK for w in workloads}
    killed = ""
    try:
        while child.poll() is None:
            time.sleep(0.2)
            now = time.monotonic()
            # A hung-task, soft-lockup or RCU-stall report does not stop the
            # boot: those detectors time the guest by the host's clock, and
            # under TCG a slow kernel can pass their thresholds and go on. A
            # kernel that is really stuck overruns its workload's time.
            if not marks:
                if now - started > boot_deadline:
                    killed = f"no init output within {boot_deadline:.0f}s of QEMU's start"
                    break
                continue
            # Where init is: the last start, end or done mark (the vmstat
            # lines inside a workload's run do not move it).
            if marks[-1][1].startswith(f"{console.MARK} stuck "):
                name = (marks[-1][1].split() + ["?"])[2]
                killed = (f"workload {name} still running {STUCK_AFTER}s after its timeout, "
                          "by the guest's clock: it or the sync after it never ended")
                break
            at, last, words = next(((when, m, w) for when, m in reversed(marks)
                                    if (w := m[len(console.MARK):].split() + [""])[0]
                                    in ("start", "end", "done")),
                                   (*marks[0], ["boot", ""]))
            if words[0] == "start":
                if now - at > limits.get(words[1], 120):
                    killed = f"workload {words[1]} still running after {now - at:.0f}s"
                    break
            elif words[0] == "done":
                if now - at > 20:
                    killed = "the guest did not reboot after its last workload"
                    break
            elif now - at > IDLE_SECONDS:
                killed = f"nothing from init for {now - at:.0f}s after '{last}'"
                break
    finally:
        if child.poll() is None:
            proc.kill(child)
        child.wait()
        proc.LIVE.discard(child)
        t.join(timeout=5)
    if killed:
        progress(f"  stopped QEMU: {killed}")
    first = next((at - started for at, m in marks if m.split()[1:2] == ["start"]), None)
    return Run("".join(chunks), time.monotonic() - started, first, killed, durations(marks))


def durations(marks: list[tuple[float, str]]) -> dict[str, float]:
    """Each workload's wall time, from its start mark to its end mark."""
    began: dict[str, float] = {}
    took: dict[str, float] = {}
    for at, mark in marks:
        words = mark[len(console.MARK):].split()
        if len(words) >= 2 and words[0] == "start":
            began[words[1]] = at
        elif len(words) >= 2 and words[0] == "end" and words[1] in began:
            took[words[1]] = at - began[words[1]]
    return took


def host_cache() -> Path:
    """$XDG_CACHE_HOME/krefactor (~/.cache/krefactor): facts about this machine."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "krefactor"


def probe_accel(ws: Workspace, kernel: Path, progress: Progress) -> tuple[str, str]:
    """KVM when a real boot under it reaches init within KVM_PROBE_SECONDS, else TCG.
    The verdict is kept per QEMU and host kernel, since a probe that fails costs
    its timeout. It is the host's, not the tree's: it lives in the user's cache
    directory, and outlives `krefactor clean`."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg", "no usable /dev/kvm"
    qemu = proc.run(["qemu-system-x86_64", "--version"]).stdout.decode().splitlines()[0]
    key = f"{qemu} {os.uname().release}"
    cache = host_cache() / "accel.json"
    if cache.exists():
        saved = json.loads(cache.read_text())
        if saved.get("key") == key:
            return saved["accel"], saved["note"] + " (probed earlier)"
    with safety.scratch(ws.tree.git_dir, "kvm-probe") as tmp:
        init = tmp / "init"
        init.write_text('#!/bin/sh\necho "krefactor: boot ok"\necho b > /proc/sysrq-trigger\n'
                        "sleep 10\n")
        init.chmod(0o755)
        run = boot_once(qemu_cmd(kernel, init, [], 256, "kvm"), [], tmp / "console.log",
                        KVM_PROBE_SECONDS, lambda m: None)
    if "krefactor: boot ok" in run.text:
        accel, note = "kvm", f"KVM: a probe boot reached init in {run.seconds:.1f}s"
    else:
        accel, note = "tcg", (f"KVM probe: no console line from init within "
                              f"{KVM_PROBE_SECONDS}s (nested virtualization?); TCG used")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"key": key, "accel": accel, "note": note}))
    progress(note)
    return accel, note
