"""boot-test's pure parts: workload headers, the recipe's [boot] table, the init script,
the QEMU command line, judging a workload."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from refactor import bisect, bootrec, console, guest, qemu, recipe, report, workloads
from refactor.errors import KrefactorError

BOOT_DIR = Path(__file__).resolve().parent.parent / "semantic_patches" / "writeback-void" / "boot"


def test_dirty_py_writes_through_a_mapping_and_checks_every_byte(tmp_path):
    """The workloads' helper that leaves pages dirty in a shared mapping, run
    here on the host's own filesystem: its check passes on what it wrote and
    names the first byte that differs."""
    f = tmp_path / "m"
    run = lambda *a: subprocess.run(["python3", str(BOOT_DIR / "dirty.py"), *a],
                                    capture_output=True, text=True)
    assert run(str(f), "10000", "3").returncode == 0 and f.stat().st_size == 10000
    assert run("--check", str(f), "10000", "3").returncode == 0
    data = bytearray(f.read_bytes())
    data[4321] ^= 0xff
    f.write_bytes(bytes(data))
    bad = run("--check", str(f), "10000", "3")
    assert bad.returncode == 1 and "at byte 4321" in bad.stdout
    assert run("--check", str(f), "10000", "4").returncode == 1


def test_truncrace_races_and_leaves_what_it_checks(tmp_path):
    """The reiserfs workload's fsync/truncate racer, run here for a second:
    it truncates and fsyncs, leaves the seed's content and its check fails on
    anything else."""
    f = tmp_path / "raced"
    run = lambda *a: subprocess.run(["python3", str(BOOT_DIR / "truncrace.py"), *a],
                                    capture_output=True, text=True)
    res = run(str(f), "1", "7")
    assert res.returncode == 0, res.stdout + res.stderr
    cuts, fsyncs, _ = [int(w) for w in res.stdout.split() if w.isdigit()]
    assert cuts > 0 and fsyncs > 0
    assert f.stat().st_size == 1 << 20 and run("--check", str(f), "7").returncode == 0
    assert run("--check", str(f), "8").returncode == 1


def test_pageout_py_pages_a_mapping_out_and_reads_it_back(tmp_path):
    """shmem-pageout's helper, run here on the host's filesystem (MADV_PAGEOUT
    takes file pages too): the data survives, and the line counts swap writes."""
    f = tmp_path / "p"
    res = subprocess.run(["python3", str(BOOT_DIR / "pageout.py"), str(f), "2", "9"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith(f"{f}: 2 MiB paged out by madvise, ") and "verified" in res.stdout
    assert f.stat().st_size == 2 << 20


def test_writeback_void_ships_every_workload_of_the_issue():
    rec = recipe.load("writeback-void")
    assert rec.boot is not None and rec.boot.disks == (512, 512) and rec.boot.memory == 256
    ws = {w.name: w for w in workloads.load_workloads(rec)}
    assert set(ws) == {"bdev", "ext2", "ext4", "xfs", "btrfs", "vfat", "reclaim", "migration",
                       "fault-storm", "ext4-journal", "ext4-nodelalloc", "f2fs", "jfs",
                       "reiserfs", "nilfs2", "udf", "gfs2", "exfat", "fuse",
                       "swap-edge", "9p", "shutdown", "dirty-migration-nilfs2",
                       "dirty-migration-gfs2", "dirty-migration-fuse", "fs-pageout",
                       "ecryptfs", "nfs", "ubifs", "f2fs-shutdown",
                       "f2fs-reclaim", "f2fs-shutdown-reclaim", "shmem-pageout",
                       "ext2-dirsync"}
    # Every filesystem workload needs its filesystem, and the helper script is none.
    assert "GFS2_FS" in ws["gfs2"].needs and "FUSE_FS" in ws["fuse"].needs
    assert {"MTD_NAND_NANDSIM", "MTD_UBI", "UBIFS_FS"} <= set(ws["ubifs"].needs)
    assert not {"mmapx", "lib", "migrate", "dirty", "squeeze", "truncrace", "pageout"} & set(ws)
    # Each filesystem's migration has its own time: one slow phase does not
    # keep the next filesystem from running.
    assert [ws[f"dirty-migration-{f}"].timeout for f in ("nilfs2", "gfs2", "fuse")] == [420, 300,
                                                                                     300]
    assert "FUSE_FS" in ws["dirty-migration-fuse"].needs
    assert ws["bdev"].proves == ("nr_written",) and ws["bdev"].needs == ()
    assert ws["reclaim"].proves == ("pswpout", "nr_vmscan_write") and "SWAP" in ws["reclaim"].needs
    assert "XFS_FS" in ws["xfs"].needs and ws["ext2"].timeout == 120
    assert [w.name for w in workloads.load_workloads(rec, ("ext2", "bdev"))] == ["ext2", "bdev"]
    with pytest.raises(KrefactorError, match="no workload 'nope'"):
        workloads.load_workloads(rec, ("nope",))


@pytest.mark.parametrize("text, message", [
    ("#!/bin/sh\n# proves: nr_written\ntrue\n", "no '# workload: what it does'"),
    ("#!/bin/sh\n# workload: x\ntrue\n", "no '# proves: COUNTER"),
    ("#!/bin/sh\n# workload: x\n# proves: a\n# timeout: soon\n", "must be seconds"),
])
def test_workload_header_errors(text, message):
    with pytest.raises(KrefactorError, match=message):
        workloads.parse_workload(Path("w.sh"), text)


def test_header_stops_at_the_first_command():
    w = workloads.parse_workload(Path("w.sh"), "#!/bin/sh\n# workload: x\n# proves: a b\n"
                            "echo hi\n# needs: NOT_A_HEADER\n")
    assert w.proves == ("a", "b") and w.needs == () and w.timeout == 120


def test_boot_table_errors(tmp_path):
    (tmp_path / "a.cocci").write_text("virtual patch\n")
    base = ('name = "n"\nsummary = "s"\ndescription = "d"\n[[steps]]\ncocci = "a.cocci"\n'
            'grep = ["x"]\nsubject = "x: y"\nbody = "z"\n')
    for extra, message in (('[boot]\nworkloads = "nowhere"\n', "no directory"),
                           ('[boot]\ndisks = [0]\n', "sizes in MiB"),
                           ('[boot]\nmemory = 16\n', "64 to 8192")):
        (tmp_path / "boot").mkdir(exist_ok=True)
        (tmp_path / "recipe.toml").write_text(base + extra)
        with pytest.raises(KrefactorError, match=message):
            recipe.load(str(tmp_path))
    (tmp_path / "recipe.toml").write_text(base)
    assert recipe.load(str(tmp_path)).boot is None
    with pytest.raises(KrefactorError, match="has no \\[boot\\] table"):
        workloads.load_workloads(recipe.load(str(tmp_path)))


def test_init_script_runs_each_workload_between_markers():
    rec = recipe.load("writeback-void")
    ws = workloads.load_workloads(rec, ("bdev", "reclaim"))
    text = qemu.init_script(ws, BOOT_DIR, ["/dev/vda", "/dev/vdb"], 256)
    assert text.startswith("#!/bin/sh\n")
    assert "w bdev 90 'nr_written' /dev/krefactor/bdev.sh" in text
    assert "w reclaim 240 'pswpout nr_vmscan_write' /dev/krefactor/reclaim.sh" in text
    # The scripts are copied before the guest's tmpfs hides a recipe under /tmp.
    assert text.index(f"cp '{BOOT_DIR}'/* /dev/krefactor/") \
        < text.index("mount -t tmpfs -o size=64m tmpfs /tmp")
    assert text.index("w bdev") < text.index("w reclaim") < text.index('"krefactor: done"')
    assert "KREFACTOR_DISKS='/dev/vda /dev/vdb'" in text
    assert "panic_on_oops" in text and "hung_task_timeout_secs" in text
    assert f"echo {qemu.WATCHDOG_THRESH} > /proc/sys/kernel/watchdog_thresh" in text


def test_qemu_command_never_writes_the_host_root(tmp_path):
    cmd = qemu.qemu_cmd(tmp_path, tmp_path / "init", [tmp_path / "vda.img"], 256, "tcg")
    fsdev = cmd[cmd.index("-fsdev") + 1]
    assert "path=/," in fsdev and "readonly=on" in fsdev
    assert "-enable-kvm" not in cmd and cmd[cmd.index("-cpu") + 1] == "max"
    # microvm without ACPI: the disk on virtio-mmio, named to the kernel by QEMU.
    assert cmd[cmd.index("-M") + 1] == "microvm,acpi=off"
    assert f"file={tmp_path / 'vda.img'},format=raw,if=none,id=disk0" in cmd
    assert "virtio-blk-device,drive=disk0" in cmd
    assert "reboot=t" in cmd[cmd.index("-append") + 1].split()
    kvm = qemu.qemu_cmd(tmp_path, tmp_path / "init", [], 256, "kvm")
    assert "-enable-kvm" in kvm and "-no-reboot" in kvm
    assert cmd.count("-fsdev") == 1
    # The only writable share is the boot's own directory.
    shared = qemu.qemu_cmd(tmp_path, tmp_path / "init", [], 256, "tcg", tmp_path / "share")
    devs = [shared[i + 1] for i, a in enumerate(shared) if a == "-fsdev"]
    assert devs[0].endswith("readonly=on,multidevs=remap")
    assert devs[1] == f"local,id=share,path={tmp_path / 'share'},security_model=none"
    assert f"virtio-9p-device,fsdev=share,mount_tag={qemu.SHARE_TAG}" in shared
    assert f"virtio-9p-device,fsdev=share2,mount_tag={qemu.SHARE_TAG2}" in shared


def judged(log: str, proves=("nr_written",)) -> bootrec.WorkloadResult:
    spec = workloads.WorkloadSpec("w", Path("w.sh"), "x", proves, 60, ())
    res = bootrec.WorkloadResult("w")
    con = console.parse(log)
    ws = SimpleNamespace(src=Path("/nonexistent"))      # no decode_stacktrace.sh
    guest.judge(res, spec, con, qemu.Run(log, 1.0, 0.5), Path("/nonexistent"), ws)
    return res


def test_a_workload_that_did_nothing_fails():
    log = ("krefactor: boot ok\nkrefactor: start w\nkrefactor: vmstat-before w nr_written=5\n"
           "krefactor: vmstat-after w nr_written=5\nkrefactor: end w rc=0\n")
    res = judged(log)
    assert res.status == "FAIL" and res.why == ["did nothing: nr_written +0"]
    assert judged(log.replace("after w nr_written=5", "after w nr_written=9")).status == "PASS"
    missing = judged(log, proves=("pswpout",))
    assert missing.why == ["cannot prove it ran: /proc/vmstat has no pswpout"]


def test_a_workload_that_timed_out_or_printed_fail_fails():
    log = ("krefactor: boot ok\nkrefactor: start w\nkrefactor: vmstat-before w nr_written=5\n"
           "FAIL: checksum mismatch on ext2 after remount\n"
           "krefactor: vmstat-after w nr_written=9\nkrefactor: end w rc=1\n")
    assert judged(log).why == ["exit status 1", "checksum mismatch on ext2 after remount"]
    assert judged(log.replace("rc=1", "rc=124").replace("FAIL: c", "c")).why == \
        ["timed out after 60s"]


HUNG = ("INFO: task kworker/u4:1:31 blocked for more than 10 seconds.\n"
        "      Not tainted 6.1.192 #1\n"
        "Call Trace:\n <TASK>\n __schedule+0x2f0/0x8a0\n </TASK>\n")


def test_a_stall_report_after_which_the_workload_finished_and_verified_is_a_note():
    log = ("krefactor: boot ok\nkrefactor: start w\nkrefactor: vmstat-before w nr_written=5\n"
           + HUNG + "krefactor: vmstat-after w nr_written=9\nkrefactor: end w rc=0\n")
    res = judged(log)
    assert res.status == "PASS", res.why
    assert res.why == ["note: the kernel reported: INFO: task kworker/u4:1:31 blocked for "
                       "more than 10 seconds.; the workload went on, finished and passed "
                       "its checks"]
    assert res.splat[0].startswith("INFO: task kworker")      # kept for the reader
    # It must still prove that it ran,
    assert judged(log.replace("w nr_written=9", "w nr_written=5")).why[0] == \
        "did nothing: nr_written +0"
    # and a stall in a workload that then failed its checks, or never ended, fails.
    failed = judged(log.replace("rc=0", "rc=1"))
    assert failed.status == "FAIL" and failed.why[0].startswith("INFO: task kworker")
    cut = log.split("krefactor: vmstat-after")[0]
    hung = judged(cut)
    assert hung.status == "FAIL" and hung.why[1] == "the kernel died during it"
    # Any other splat, beside a stall, fails the workload as before.
    oops = judged(log.replace("krefactor: vmstat-after",
                              "kernel BUG at fs/buffer.c:1786!\nkrefactor: vmstat-after"))
    assert oops.status == "FAIL" and oops.why[0].startswith("INFO: task")


def fake_qemu(tmp_path, script: str) -> list[str]:
    """A command that prints `script`'s console lines, with `sleep N` lines obeyed."""
    prog = tmp_path / "fake.py"
    prog.write_text("import sys, time\n"
                    f"for line in {script.splitlines()!r}:\n"
                    "    if line.startswith('sleep '):\n"
                    "        time.sleep(float(line.split()[1]))\n"
                    "    else:\n"
                    "        print(line, flush=True)\n")
    return [sys.executable, str(prog)]


def fake_boot(tmp_path, script: str, timeout: int = 60) -> qemu.Run:
    """boot_once on fake_qemu(script), with one workload w of `timeout` s."""
    spec = workloads.WorkloadSpec("w", Path("w.sh"), "x", ("nr_written",), timeout, ())
    return qemu.boot_once(fake_qemu(tmp_path, script), [spec], tmp_path / "log", 30,
                          lambda m: None)


def test_a_stall_report_does_not_stop_the_boot(tmp_path):
    run = fake_boot(tmp_path, "krefactor: boot ok\nkrefactor: start w\n" + HUNG
                    + "sleep 6.5\nkrefactor: end w rc=0\nkrefactor: done\n")
    assert run.killed == "" and "krefactor: end w rc=0" in run.text


def test_an_init_that_goes_quiet_between_workloads_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(qemu, "IDLE_SECONDS", 1)
    run = fake_boot(tmp_path, "krefactor: boot ok\nkrefactor: start w\n"
                    "krefactor: end w rc=0\nsleep 60\n")
    assert run.killed.startswith("nothing from init for ") and run.seconds < 30
    assert run.killed.endswith("after 'krefactor: end w rc=0'")


def test_a_workload_that_overruns_is_stopped_whatever_it_printed(tmp_path, monkeypatch):
    """The vmstat lines a workload's run prints are marks too: they must not
    hide that the workload is still running."""
    monkeypatch.setattr(qemu, "WORKLOAD_SLACK", 0)
    run = fake_boot(tmp_path, "krefactor: boot ok\nkrefactor: start w\n"
                    "krefactor: vmstat-before w nr_written=5\nsleep 60\n", timeout=1)
    assert run.killed.startswith("workload w still running after ") and run.seconds < 30


@pytest.mark.parametrize("cleanup, stuck", [("sleep 0", False), ("sleep 8", True)])
def test_init_says_stuck_when_a_workload_and_its_clean_up_outlast_its_timeout(
        tmp_path, cleanup, stuck):
    """init's own lines, run by dash: a workload that overruns its 1 s timeout
    is killed (rc 124); if the clean-up after it (the sync, in a real guest)
    then hangs, the watcher prints the stuck mark 2 s after the timeout."""
    script = tmp_path / "w.sh"
    script.write_text("sleep 30\n")
    body = "\n".join(["w() {", *qemu.watched_run(stuck_after=2), cleanup, qemu.WATCH_END,
                      'echo "end $1 rc=$rc"', "}", f"w slow 1 '' {script}", "sleep 3"])
    res = subprocess.run(["dash", "-c", body], capture_output=True, text=True, timeout=30)
    assert ("krefactor: stuck slow" in res.stdout) == stuck, res.stdout + res.stderr
    assert "end slow rc=124" in res.stdout


def test_the_stuck_mark_stops_the_boot_before_the_backstop(tmp_path):
    run = fake_boot(tmp_path, "krefactor: boot ok\nkrefactor: start w\n" + HUNG
                    + "krefactor: stuck w\nsleep 60\n")
    assert run.killed.startswith("workload w still running 60s after its timeout")
    assert run.seconds < 30


def test_same_kernel_is_byte_for_byte(tmp_path):
    class WS:
        root = tmp_path
    k = guest.Kernels(WS(), "c" * 64, lambda m: None)
    for sha, data in (("a" * 40, b"kernel"), ("b" * 40, b"kernel"), ("c" * 40, b"kernel2")):
        k.dir(sha).mkdir(parents=True)
        (k.dir(sha) / "bzImage").write_bytes(data)
    assert k.same("a" * 40, "b" * 40)
    assert not k.same("a" * 40, "c" * 40)
    assert not k.same("a" * 40, "d" * 40)          # not built


def test_each_workload_is_timed_from_its_start_mark_to_its_end_mark():
    from refactor import console, qemu
    m = console.MARK
    marks = [(10.0, f"{m}boot ok 6.1.192"), (12.0, f"{m}start bdev"),
             (20.5, f"{m}end bdev rc=0"), (21.0, f"{m}start ext2"), (30.0, f"{m}done")]
    assert qemu.durations(marks) == {"bdev": 8.5}


def test_the_kvm_verdict_is_the_hosts_and_outlives_a_tree(monkeypatch, tmp_path):
    import json
    import os
    import subprocess

    from refactor import qemu
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(qemu.os, "access", lambda path, mode: True)
    monkeypatch.setattr(qemu.proc, "run", lambda cmd, **kw: subprocess.CompletedProcess(
        cmd, 0, b"QEMU emulator version 7.2.0\n", b""))
    key = f"QEMU emulator version 7.2.0 {os.uname().release}"
    (tmp_path / "krefactor").mkdir()
    (tmp_path / "krefactor" / "accel.json").write_text(json.dumps(
        {"key": key, "accel": "tcg", "note": "KVM probe: no console line"}))

    def no_boot(*a, **kw):
        raise AssertionError("probed again")
    monkeypatch.setattr(qemu, "boot_once", no_boot)
    assert qemu.probe_accel(None, tmp_path, lambda m: None) == \
        ("tcg", "KVM probe: no console line (probed earlier)")


def _bisect(failing: dict[int, str], n: int) -> tuple[bootrec.BootResult, list[int]]:
    """Bisect a range of n commits where commit i fails with signature failing[i]
    ("build" for a build failure, absent for a pass)."""
    result = bootrec.BootResult("b" * 40, "t" * 40, "bisect", commit_count=n)
    tested: list[int] = []

    def test(i: int, only=None, previous=None) -> bootrec.CommitBoot:
        tested.append(i)
        cb = bootrec.CommitBoot(f"{i:040d}", f"commit {i}", i)
        sig = failing.get(i)
        if sig == "build":
            cb.status, cb.error = "build failed", "make bzImage failed"
        elif sig:
            cb.status = "fail"
            cb.workloads = [bootrec.WorkloadResult("bdev", "FAIL", [sig], signature=sig)]
        else:
            cb.workloads = [bootrec.WorkloadResult("bdev", "PASS")]
        result.commits.append(cb)
        return cb

    base, tip = test(0), test(n)
    bisect.bisect(result, base, tip, [], test)
    return result, tested[2:]


BUG = "bdev:BUG:fs/buffer.c:1786"


def test_bisect_finds_the_first_commit_that_fails_like_the_tip():
    result, tested = _bisect({i: BUG for i in range(6, 14)}, 13)
    assert result.first_bad.index == 6 and result.first_bad.or_before == []
    assert tested == [6, 3, 4, 5]


def test_bisect_skips_a_commit_that_fails_in_another_way():
    """A hang at commit 3 is not the tip's oops: taking it for the first bad
    commit would blame the wrong patch."""
    failing = {i: BUG for i in range(6, 14)}
    failing[3] = "bdev:INFO:task blocked for more than N seconds"
    result, tested = _bisect(failing, 13)
    assert result.first_bad.index == 6
    assert [s.index for s in result.skipped] == [3]
    assert result.skipped[0].failures == ["bdev: bdev:INFO:task blocked for more than N "
                                             "seconds"]
    assert 3 in tested and tested[-1] == 5
    assert result.failed


def test_bisect_matches_the_tips_failure_at_a_moved_line():
    failing = {i: BUG for i in range(6, 14)}
    failing[6] = failing[7] = "bdev:BUG:fs/buffer.c:1779"
    result, _ = _bisect(failing, 13)
    assert result.first_bad.index == 6


def test_bisect_names_every_candidate_when_skips_hide_the_first_bad_commit():
    failing = {i: BUG for i in range(6, 14)}
    failing[5] = "build"
    result, _ = _bisect(failing, 13)
    assert result.first_bad.index == 6 and result.first_bad.or_before == [5]
    text = report.boot_text(result)
    assert "first bad commit: 6/13" in text
    assert "or one of 5/13, which fail in another way" in text
    assert "skipped by bisect: 5/13" in text and "make bzImage failed" in text


def test_bisect_of_a_build_failure_looks_for_the_first_commit_that_does_not_build():
    result, _ = _bisect({i: "build" for i in range(9, 14)}, 13)
    assert result.first_bad.index == 9


def test_a_workload_leaves_no_mount_swap_or_file_to_the_next(tmp_path):
    """swap-edge, killed for want of memory, left its tmpfs full and mounted,
    and the next two workloads of that boot ran out of memory too."""
    rec = recipe.load("writeback-void")
    text = qemu.init_script(workloads.load_workloads(rec, ("bdev",)), BOOT_DIR, ["/dev/vda"], 256)
    body = text[text.index("w() {"):text.index("\n}\n")]
    run = body.index('timeout -k 5 "$2"')
    assert body.index('before=" $(cut -d" " -f2 /proc/mounts') < run
    assert run < body.index('umount -l "$m"') < body.index("swapoff -a") \
        < body.index('rm -rf "/tmp/w/$1"') < body.index(qemu.WATCH_END) \
        < body.index("vmstat-after")
    # The shell that runs it accepts it, and the mount filter keeps what was there.
    script = tmp_path / "init"
    script.write_text(text)
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0
    mounts0, mounts1 = tmp_path / "m0", tmp_path / "m1"
    mounts0.write_text("r / 9p\np /proc proc\n")
    mounts1.write_text("r / 9p\np /proc proc\nt /tmp/edge tmpfs\nd /tmp/mnt ext4\n")
    loop = body[body.index('  before='):body.index("  done") + 6].replace(
        "/proc/mounts", str(mounts1)).replace('umount -l "$m" 2>/dev/null', 'echo "$m"')
    loop = loop.replace(str(mounts1), str(mounts0), 1)
    for line in qemu.watched_run():
        loop = loop.replace(f"  {line}\n", "")
    out = subprocess.run(["sh", "-c", loop], capture_output=True, text=True).stdout
    assert out.split() == ["/tmp/mnt", "/tmp/edge"]


def test_the_compressed_kernel_is_rebuilt_without_ccache(tmp_path):
    """piggy.S takes vmlinux in by .incbin, which ccache's depend mode does not
    hash: the boot image is made once more, piggy.o removed, with ccache off."""
    calls = []
    git_dir = tmp_path / ".git"
    out = git_dir / "krefactor" / "build" / "boot" / "out"
    piggy = out / "arch/x86/boot/compressed/piggy.o"
    piggy.parent.mkdir(parents=True)

    class Tree:
        pass

    class Ws:
        def make(self, *targets, keep_going=True, no_cache=False):
            calls.append((targets, no_cache, piggy.exists()))
            piggy.write_text("obj")
            return subprocess.CompletedProcess([], 0)

    ws = Ws()
    ws.out, ws.tree = out, Tree()
    ws.tree.git_dir = git_dir
    assert guest.make_bzimage(ws).returncode == 0
    assert calls == [(("bzImage",), False, False), (("bzImage",), True, False)]


def test_resume_takes_kept_passes_and_boots_only_the_rest(monkeypatch, tmp_path):
    from refactor import passes
    kdir = tmp_path / "kernel"
    kdir.mkdir()
    (kdir / "bzImage").write_bytes(b"kernel one")
    bootdir = tmp_path / "boot"
    bootdir.mkdir()
    (bootdir / "lib.sh").write_text("x=1\n")

    class Kernels:
        def get(self, sha, label):
            return kdir, 0.0, ""

    booted: list[list[str]] = []

    def fake_boot(ws, kd, cb, workloads, rec, accel, progress, counters=None):
        booted.append([w.name for w in workloads])
        cb.workloads = [bootrec.WorkloadResult(w.name, "FAIL" if w.name == "b" else "PASS",
                                            proof={"nr_written": 3}) for w in workloads]

    monkeypatch.setattr(guest, "boot_commit", fake_boot)
    specs = [workloads.WorkloadSpec(n, bootdir / f"{n}.sh", n, ("nr_written",), 60, ())
             for n in "abc"]

    def once(resume: bool) -> bootrec.CommitBoot:
        store = passes.Store(tmp_path / "passes", bootdir, 256, [512], "tcg")
        cb = bootrec.CommitBoot("1" * 40, "subject", 1)
        guest.test_commit(None, Kernels(), cb, specs, None, "tcg", lambda m: None, store, resume)
        return cb

    once(False)
    assert booted == [["a", "b", "c"]]
    cb = once(True)                      # a and c passed: only b, which failed, boots again
    assert booted[-1] == ["b"]
    assert [w.status for w in cb.workloads] == ["PASS", "FAIL", "PASS"] and cb.status == "fail"
    assert "reused (--resume)" in cb.workloads[0].why[-1] and cb.workloads[0].proof
    once(False)                          # without --resume everything boots
    assert booted[-1] == ["a", "b", "c"]
    (kdir / "bzImage").write_bytes(b"kernel two")
    once(True)
    assert booted[-1] == ["a", "b", "c"]
    once(True)
    assert booted[-1] == ["b"]
    (bootdir / "lib.sh").write_text("x=2\n")   # a helper changed: nothing kept holds
    once(True)
    assert booted[-1] == ["a", "b", "c"]
    (bootdir / "a.sh").write_text("#!/bin/sh\n# workload: a, changed\n")
    once(True)                           # a's own script changed: a alone boots again
    assert booted[-1] == ["a", "b"]
