"""The console parser on logs captured from real boots of 6.1.192 under QEMU TCG
(tests/data/console: the base passing every workload; the writeback-void tip
hitting the bdev BUG, and the xfs WARNING)."""
from __future__ import annotations

from pathlib import Path

from refactor import console

DATA = Path(__file__).parent / "data" / "console"


def load(name: str) -> console.Console:
    return console.parse((DATA / name).read_text(errors="replace"))


def test_base_boot_has_every_workload_and_no_splat():
    con = load("base-all-pass.log")
    assert con.booted and con.done and con.splats == []
    assert list(con.workloads) == ["bdev", "btrfs", "ext2", "ext4", "fault-storm", "migration",
                                   "reclaim", "vfat", "xfs"]
    assert all(w.started and w.ended and w.rc == 0 for w in con.workloads.values())
    assert con.workloads["bdev"].delta("nr_written") == 2052
    assert con.workloads["reclaim"].delta("pswpout") > 0
    assert con.workloads["reclaim"].delta("nr_vmscan_write") > 0
    assert con.workloads["migration"].notes[0].startswith("pages written during compaction")


def test_tip_bdev_bug_is_attributed_to_bdev_and_ends_the_boot():
    con = load("tip-bdev-bug.log")
    assert con.booted and not con.done
    bdev = con.workloads["bdev"]
    assert bdev.started and not bdev.ended and con.current == "bdev"
    first = con.splats[0]
    assert (first.kind, first.where, first.workload) == ("BUG", "fs/buffer.c:1786", "bdev")
    assert first.title == "kernel BUG at fs/buffer.c:1786!"
    assert first.lines[-1].startswith("---[ end trace")
    assert any("generic_writepages" in l for l in first.lines)
    assert first.signature == "bdev:BUG:fs/buffer.c:1786"
    # The panic that follows is its own report, after the first one.
    assert [s.kind for s in con.splats] == ["BUG", "panic"]


def test_tip_xfs_warning_names_its_place_and_the_workload_goes_on():
    con = load("tip-xfs-warning.log")
    [warn] = [s for s in con.splats if s.kind == "WARNING"]
    assert warn.where == "fs/iomap/buffered-io.c:1642" and warn.workload == "xfs"
    assert con.workloads["xfs"].ended and con.workloads["xfs"].rc == 0 and con.done


def test_splat_kinds_and_markers_from_literals():
    text = "\n".join([
        "[    1.0] Linux version 6.1.192",
        "krefactor: boot ok 6.1.192",
        "krefactor: start w",
        "[   30.1] INFO: task dd:41 blocked for more than 10 seconds.",
        "[   30.2]       Not tainted 6.1.192 #2",
        "krefactor: start v",
        "[   31.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [sh:1]",
        "[   32.0] rcu: INFO: rcu_sched self-detected stall on CPU",
        "FAIL: checksum mismatch",
    ])
    con = console.parse(text)
    assert [(s.kind, s.workload) for s in con.splats] == [
        ("hung task", "w"), ("soft lockup", "v"), ("RCU stall", "v")]
    assert con.workloads["v"].failures == ["checksum mismatch"]
    assert console.splat_start("general protection fault, probably for non-canonical address")
    assert console.splat_start("Oops: 0000 [#1] SMP")[0] == "Oops"
    assert console.splat_start("random: crng init done") is None
    oom = console.splat_start("dd invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|"
                              "__GFP_COMP|__GFP_ZERO), order=0, oom_score_adj=0")
    assert oom is not None and oom[0] == "out of memory"
    assert console.splat_start("Out of memory: Killed process 51 (dd)") is None


def test_tip_ext4_data_journal_hang_is_a_hung_task_in_fsync():
    """The 30-commit tip before the prepare step knew a callee from the call graph:
    __ext4_journalled_writepage() left the folio under writeback."""
    con = load("tip-ext4-journal-hang.log")
    [hung] = con.splats
    assert (hung.kind, hung.workload) == ("hung task", "ext4-journal")
    assert hung.title.startswith("INFO: task python3:79 blocked for more than 10 seconds")
    assert any("folio_wait_writeback" in l for l in hung.lines)
    assert any("ext4_sync_file" in l for l in hung.lines)
    assert not con.workloads["ext4-journal"].ended


def test_tip_swap_edge_oom_kills_and_names_its_workload():
    con = load("tip-swap-edge-oom.log")
    first = con.splats[0]
    assert (first.kind, first.workload) == ("out of memory", "swap-edge")
    assert first.title.startswith("dd invoked oom-killer:")
    assert any("8191 pages in swap cache" in l for l in first.lines)
    # Every process the OOM killer picks is its own report; the panic that ends
    # the boot belongs to the last, init's.
    assert [s.title.split()[0] for s in con.splats] == ["dd", "sh", "timeout", "init"]
    assert any("System is deadlocked on memory" in l for l in con.splats[-1].lines)
    assert not con.workloads["swap-edge"].ended
