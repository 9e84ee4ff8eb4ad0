"""gcov: changed lines from git, the profiled objects, the guest's tar of
counters, and real gcc --coverage runs read back with gcov(1)."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile
from pathlib import Path

from conftest import git, make_repo

from refactor import gcov, guest, measure, qemu, recipe, report, safety
from refactor.bootrec import BootResult
from refactor.tree import Sha, open_tree
from refactor.workloads import WorkloadSpec

SRC = """\
int pick(int x)
{
\tif (x > 10)
\t\treturn x - 10;
\tif (x < 0)
\t\treturn -x;
\treturn x;
}
"""
MAIN = ("int pick(int x);\nint main(int argc, char **argv)\n"
        "{\n\treturn pick(argc) == 1 ? 0 : 1;\n}\n")


def changed_repo(path: Path, before: dict[str, str],
                 after: dict[str, str]) -> tuple[Path, str, str]:
    """A repo of `before` and one commit that writes `after`: (repo, base, tip)."""
    repo = make_repo(path, before)
    base = git(repo, "rev-parse", "HEAD").strip()
    for name, text in after.items():
        (repo / name).write_text(text)
    git(repo, "commit", "-qam", "change")
    return repo, base, git(repo, "rev-parse", "HEAD").strip()


def test_changed_lines_are_the_tips_added_lines_per_c_file(tmp_path):
    repo, base, tip = changed_repo(
        tmp_path / "r", {"fs/a.c": "one\ntwo\nthree\n", "fs/b.h": "x\n", "doc.txt": "t\n"},
        {"fs/a.c": "one\nTWO\nthree\nfour\n", "fs/b.h": "x\ny\n", "doc.txt": "u\n"})
    t = open_tree(repo)
    assert gcov.changed_lines(t, Sha(base), Sha(tip)) == {"fs/a.c": [2, 4], "fs/b.h": [2]}


def test_changed_sources_include_files_with_deletions_only(tmp_path):
    repo = make_repo(tmp_path / "r", {"fs/a.c": "one\ntwo\n", "fs/cut.c": "x\ny\n",
                                      "fs/gone.c": "z\n", "fs/b.h": "h\n"})
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "fs/a.c").write_text("one\nTWO\n")
    (repo / "fs/cut.c").write_text("x\n")
    (repo / "fs/b.h").write_text("")
    git(repo, "rm", "-q", "fs/gone.c")
    git(repo, "commit", "-qam", "change")
    tip = git(repo, "rev-parse", "HEAD").strip()
    t = open_tree(repo)
    assert gcov.changed_sources(t, Sha(base), Sha(tip)) == ["fs/a.c", "fs/cut.c"]
    assert "fs/cut.c" not in gcov.changed_lines(t, Sha(base), Sha(tip))


def test_a_name_built_where_gcov_is_off_is_not_profiled(tmp_path):
    src, built = tmp_path / "src", tmp_path / "out"
    for f in ("fs/x/inode.c", "fs/x/misc.c", "fs/x/file.c", "arch/boot/misc.c",
              "drivers/efi/file.c", "mm/vmscan.c"):
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        (src / f).write_text("\n")
    (src / "arch/boot/Makefile").write_text("obj-y += misc.o\nGCOV_PROFILE := n\n")
    (src / "drivers/efi/Makefile").write_text("GCOV_PROFILE\t:= n\nobj-y += file.o\n")
    (src / "fs/x/Makefile").write_text("obj-y += inode.o misc.o file.o\n")
    # The config builds arch/boot/misc.o, not drivers/efi/file.o.
    (built / "arch/boot").mkdir(parents=True)
    (built / "arch/boot/misc.o").write_text("")
    made, skipped = gcov.profile_vars(src, ["fs/x/inode.c", "fs/x/misc.c", "fs/x/file.c",
                                            "mm/vmscan.c", "include/linux/x.h"], built)
    assert made == ["GCOV_PROFILE_file.o=y", "GCOV_PROFILE_inode.o=y",
                    "GCOV_PROFILE_vmscan.o=y"]
    assert list(skipped) == ["fs/x/misc.c"] and "arch/boot" in skipped["fs/x/misc.c"]


def test_the_init_keeps_each_workloads_counters_and_writes_them_to_their_disk():
    """A boot that ran 17 workloads and then ran out of memory lost all their
    counters when the archive was written only at the end."""
    w = WorkloadSpec("ext2", Path("/r/boot/ext2.sh"), "s", ("nr_written",), 60, ())
    text = qemu.init_script([w], Path("/r/boot"), ["/dev/vda"], 256,
                            gcov.guest_hooks("/dev/vdb"))
    lines = [ln.strip() for ln in text.splitlines()]
    mount = lines.index("mount -t debugfs debugfs /sys/kernel/debug")
    reset = lines.index("echo 1 > /sys/kernel/debug/gcov/reset")
    workload = next(i for i, ln in enumerate(lines) if ln.startswith("timeout -k 5"))
    # debugfs says the files are empty: they are read with cat, not archived in place.
    keep = next(i for i, ln in enumerate(lines) if "cat \"$f\"" in ln)
    define_end = lines.index("}")
    run = next(i for i, ln in enumerate(lines) if ln.startswith("w ext2 "))
    tar = next(i for i, ln in enumerate(lines) if "tar -cf /dev/vdb" in ln)
    done = lines.index('echo "krefactor: done"')
    # The archive is rewritten after each workload: a boot that dies later keeps it.
    assert reset < workload < keep < tar < define_end < mount < run < done
    assert "/tmp/krefactor-gcov/$1/" in lines[keep] and "KREFACTOR_DISKS='/dev/vda'" in text


def test_the_gcov_boot_gives_each_workload_more_time_than_the_plain_one():
    """The gcov kernel ran f2fs-reclaim three times slower than the plain one;
    a limit set for the plain kernel cut its measurement short."""
    w = WorkloadSpec("f2fs-reclaim", Path("/r/boot/f2fs-reclaim.sh"), "s", ("nr_written",),
                     400, ())
    slow = measure.gcov_workloads([w])
    assert [s.timeout for s in slow] == [400 * measure.GCOV_SLOWER] and w.timeout == 400
    assert measure.GCOV_SLOWER > 1
    text = qemu.init_script(slow, Path("/r/boot"), ["/dev/vda"], 256,
                            gcov.guest_hooks("/dev/vdb"))
    assert f"w f2fs-reclaim {400 * measure.GCOV_SLOWER} " in text


def compile_and_run(tmp_path: Path, args: list[str]) -> tuple[Path, Path, Path]:
    """A Kbuild-like layout: sources in src/, objects in out/ (the compiler's
    working directory), and the run's .gcda moved out as the guest's tar has them."""
    src, out = tmp_path / "src", tmp_path / "out"
    (src / "lib").mkdir(parents=True)
    (out / "lib").mkdir(parents=True)
    (src / "lib/pick.c").write_text(SRC)
    (src / "main.c").write_text(MAIN)
    for name in ("lib/pick", "main"):
        subprocess.run(["gcc", "-O2", "--coverage", "-c", f"{src}/{name}.c", "-o",
                        f"{name}.o"], cwd=out, check=True)
    subprocess.run(["gcc", "--coverage", "lib/pick.o", "main.o", "-o", "prog"], cwd=out,
                   check=True)
    subprocess.run(["./prog", *args], cwd=out)
    gcda = tmp_path / "gcda"
    (gcda / "lib").mkdir(parents=True)
    (out / "lib/pick.gcda").rename(gcda / "lib/pick.gcda")
    (out / "main.gcda").unlink()
    return src, out, gcda


def test_gcov_counts_say_which_changed_lines_ran(tmp_path):
    src, out, gcda = compile_and_run(tmp_path, [])      # argc == 1: neither branch taken
    (tmp_path / "s").mkdir()
    counts = gcov.line_counts(src, out, gcda, tmp_path / "s")
    assert set(counts) == {"lib/pick.c"}
    pick = counts["lib/pick.c"]
    assert pick[4] == 0 and pick[6] == 0 and pick[3] >= 1
    # Lines 4 and 6 are the two early returns, line 3 the first test; line 8
    # is a brace, no code.
    files = gcov.judge({"lib/pick.c": [3, 4, 6, 8], "lib/gone.c": [3], "lib/x.h": [1]},
                       {"w1": counts}, gcov.built_sources(out, ["lib/pick.c", "lib/gone.c"]),
                       {})
    by = {f.path: f for f in files}
    assert (by["lib/pick.c"].code, by["lib/pick.c"].executed) == (3, 1)
    assert by["lib/pick.c"].not_executed == [4, 6] and by["lib/pick.c"].changed == 4
    assert by["lib/pick.c"].ran_by == {"w1": 1}
    assert by["lib/gone.c"].why == "not built in the boot kernel's config"
    assert "no profiled object" in by["lib/x.h"].why


def test_a_line_counts_as_executed_when_any_workload_ran_it(tmp_path):
    _, _, first = compile_and_run(tmp_path / "a", [])
    src, out, second = compile_and_run(tmp_path / "b", [str(n) for n in range(11)])
    (tmp_path / "s").mkdir()
    counts = {"none": gcov.line_counts(src, out, first, tmp_path / "s"),
              "eleven": gcov.line_counts(src, out, second, tmp_path / "s")}
    [f] = gcov.judge({"lib/pick.c": [4, 6]}, counts, {"lib/pick.c"}, {})
    # argc 12 takes the first early return (line 4), never the second.
    assert (f.code, f.executed, f.not_executed, f.ran_by) == (2, 1, [6], {"eleven": 1})


def test_the_guests_tar_is_read_back_by_object(tmp_path):
    out = tmp_path / "build" / "out"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in ((f"./ext2/.{out}/fs/ext2/inode.gcda", b"gcda1"),
                           (f"./ext2/.{out}/mm/vmscan.gcda", b"gcda2"),
                           (f"./f2fs/.{out}/mm/vmscan.gcda", b"gcda3"),
                           ("./ext2/./elsewhere/x.gcda", b"no")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    image = tmp_path / "gcov.img"
    # The disk is bigger than the archive: zeros follow it.
    image.write_bytes(buf.getvalue() + bytes(1 << 16))
    found = gcov.unpack(image, out, tmp_path / "got")
    assert found == {"ext2": 2, "f2fs": 1}
    assert (tmp_path / "got/ext2/fs/ext2/inode.gcda").read_bytes() == b"gcda1"
    assert (tmp_path / "got/f2fs/mm/vmscan.gcda").read_bytes() == b"gcda3"
    empty = tmp_path / "empty.img"
    empty.write_bytes(bytes(1 << 16))
    assert gcov.unpack(empty, out, tmp_path / "none") == {}


def test_report_gives_the_share_and_the_lines_not_executed():
    g = gcov.GcovResult("a" * 40, {"ext2": "PASS", "f2fs": "PASS"}, boots=1, gcda=3)
    g.files = [gcov.FileLines("fs/buffer.c", 5, 4, 3, [120], {"ext2": 3, "f2fs": 1}),
               gcov.FileLines("fs/afs/write.c", 3, 0, 0, why="not built in the boot "
                              "kernel's config")]
    r = BootResult("b" * 40, "a" * 40, "ends", gcov=g)
    text = report.boot_text(r)
    assert "3 of 4 changed code lines executed (75%)" in text
    assert re.search(r"fs/buffer.c +3/4  ran by: ext2 3, f2fs 1", text)
    assert "not executed: lines 120" in text
    assert "fs/afs/write.c" in text and "not built in the boot kernel's config" in text
    assert "workloads: ext2 PASS, f2fs PASS" in text
    assert text.endswith("PASS: the range brings no failure")
    # --gcov-only boots no base: it gives no verdict on the range, and names
    # what failed on the gcov kernel.
    g.workloads["f2fs"] = "FAIL"
    text = report.boot_text(BootResult("b" * 40, "a" * 40, "gcov", gcov=g))
    assert "PASS: the range" not in text and "gcov at the tip only" in text
    assert text.endswith("gcov only: no pass/fail verdict on the range (the base was not "
                         "booted); failed on the gcov kernel: f2fs")


def test_a_built_directory_with_no_line_run_says_whether_it_had_any(tmp_path):
    """jfs in the writeback series: its two commits only delete lines, so
    "none of its changed lines executed" would blame the workloads for
    lines that do not exist."""
    repo, base, tip = changed_repo(
        tmp_path / "r",
        {"fs/jfs/metapage.c": "a\nb\n", "fs/gfs2/aops.c": "c\n", "fs/udf/file.c": "d\n"},
        {"fs/jfs/metapage.c": "a\n", "fs/gfs2/aops.c": "changed\n",
         "fs/udf/file.c": "changed\n"})
    out = tmp_path / "out"
    for o in ("fs/jfs/metapage.o", "fs/gfs2/aops.o", "fs/udf/file.o"):
        (out / o).parent.mkdir(parents=True, exist_ok=True)
        (out / o).write_text("")
    # What gcov.judge gives: a line per added or changed line, none for a
    # deleted one; udf's changed line has no code in this build.
    counted = gcov.GcovResult(tip, files=[gcov.FileLines("fs/gfs2/aops.c", 1, 1, 0, [1]),
                                          gcov.FileLines("fs/udf/file.c", 1, 0, 0)])
    found = measure.areas(open_tree(repo), recipe.load("writeback-void"), Sha(base),
                          Sha(tip), out, counted)
    assert all(a.built and not a.ran_by for a in found)
    text = "\n".join(report.area_lines(BootResult(base, tip, "ends", gcov=counted,
                                                  areas=found)))
    assert re.search(r"fs/gfs2 +built in the boot kernel; none of its 1 changed code lines "
                     r"executed", text)
    assert re.search(r"fs/jfs +built in the boot kernel; the range only deletes lines here",
                     text)
    assert re.search(r"fs/udf +built in the boot kernel; no code generated for its changed "
                     r"lines", text)
    # Without gcov nothing is said about lines.
    text = "\n".join(report.area_lines(BootResult(base, tip, "ends", areas=found)))
    assert re.search(r"fs/jfs +built in the boot kernel$", text, re.M)


def test_each_changed_directory_is_run_or_says_why_not(tmp_path):
    files = {"fs/afs/write.c": "a\n", "fs/ext2/inode.c": "b\n", "fs/nfs/write.c": "c\n",
             "fs/jfs/inode.c": "d\n", "include/linux/x.h": "e\n"}
    repo, base, tip = changed_repo(tmp_path / "r", files, {n: "changed\n" for n in files})
    out = tmp_path / "out"
    for o in ("fs/ext2/inode.o", "fs/jfs/inode.o"):
        (out / o).parent.mkdir(parents=True, exist_ok=True)
        (out / o).write_text("")
    rec = recipe.load("writeback-void")
    counted = gcov.GcovResult(tip, files=[gcov.FileLines("fs/ext2/inode.c", 1, 1, 1, [],
                                                         {"ext2": 1}),
                                          gcov.FileLines("fs/jfs/inode.c", 1, 1, 0, [1])])
    found = {a.path: a for a in measure.areas(open_tree(repo), rec, Sha(base), Sha(tip), out,
                                           counted)}
    assert found["fs/ext2"].ran_by == {"ext2": 1} and found["fs/ext2"].built
    assert "AFS cell" in found["fs/afs"].reason and not found["fs/afs"].built
    assert found["fs/jfs"].built and not found["fs/jfs"].ran_by
    text = "\n".join(report.area_lines(BootResult(base, tip, "ends", gcov=counted,
                                                  areas=list(found.values()))))
    assert re.search(r"fs/ext2 +ran by ext2 \(1 lines\)", text)
    assert re.search(r"fs/afs +cannot run here: needs an AFS cell", text)
    assert re.search(r"fs/jfs +built in the boot kernel; none of its 1 changed code lines "
                     r"executed", text)
    assert re.search(r"fs/nfs +not built in the boot kernel, and the recipe gives no reason",
                     text)
    # What the tip's kernel linked, recorded when it was built, outranks an
    # object file an earlier config left in `out`.
    found = {a.path: a for a in measure.areas(open_tree(repo), rec, Sha(base), Sha(tip), out,
                                           counted, frozenset({"fs/ext2/inode.o"}))}
    assert found["fs/ext2"].built and not found["fs/jfs"].built
    assert re.search(r"include/linux +no \.c file", text)


def test_a_commit_skips_only_the_workloads_that_never_ran_what_it_changes(tmp_path):
    built = tmp_path / "out"
    for o in ("fs/f2fs/data.o", "mm/vmscan.o", "fs/ext4/inode.o", "fs/jfs/other.o"):
        (built / o).parent.mkdir(parents=True, exist_ok=True)
        (built / o).write_text("")
    profiled = {"fs/f2fs/data.c", "mm/vmscan.c", "fs/ext4/inode.c"}
    ran = {"f2fs": ["fs/f2fs/data.c", "mm/vmscan.c"], "ext4": ["fs/ext4/inode.c", "mm/vmscan.c"],
           "bdev": []}
    skip = gcov.unaffected(["fs/f2fs/data.c", "fs/ceph/addr.c"], built, profiled, ran)
    # fs/ceph is not in the kernel; only f2fs ran fs/f2fs/data.c.
    assert sorted(skip) == ["bdev", "ext4"]
    assert skip["ext4"] == ("its changes (fs/f2fs/data.c) are code this workload did not "
                            "execute at the tip (gcov)")
    assert sorted(gcov.unaffected(["mm/vmscan.c"], built, profiled, ran)) == ["bdev"]
    # A header, or a built file nobody profiled, may reach anything: all run.
    assert gcov.unaffected(["fs/f2fs/data.c", "include/linux/pagemap.h"], built, profiled,
                           ran) == {}
    assert gcov.unaffected(["fs/jfs/other.c"], built, profiled, ran) == {}
    # Nothing in the kernel changed: left to the same-kernel rule.
    assert gcov.unaffected(["fs/ceph/addr.c"], built, profiled, ran) == {}


def test_executed_files_are_those_with_any_line_run():
    counts = {"w": {"a.c": {1: 0, 2: 3}, "b.c": {1: 0}}, "v": {}}
    assert gcov.executed_files(counts) == {"w": ["a.c"], "v": []}


def test_the_report_groups_the_workloads_a_commit_did_not_run():
    from refactor.bootrec import CommitBoot, WorkloadResult
    c = CommitBoot("c" * 40, "f2fs: prepare", 3, workloads=[
        WorkloadResult("f2fs", "PASS", seconds=20.0),
        WorkloadResult("ext4", "PASS", ["note: not run: its changes (fs/f2fs/data.c) are "
                                        "code this workload did not execute at the tip (gcov)"],
                       carried_from=2),
        WorkloadResult("bdev", "PASS", ["note: not run: x"], carried_from=0)])
    text = report.boot_text(BootResult("b" * 40, "c" * 40, "each", commits=[c], commit_count=3))
    assert "not run, results as at 2, base: ext4, bdev" in text
    assert "its changes (fs/f2fs/data.c) are code this workload did not execute" in text
    assert "f2fs" in text and "ext4         PASS" not in text


def test_a_kept_gcov_result_comes_back_whole():
    from dataclasses import asdict
    res = gcov.GcovResult("a" * 40, {"ext4": "PASS"}, ["GCOV_PROFILE_inode.o=y"],
                          [gcov.FileLines("fs/ext4/inode.c", 3, 2, 1, [7], {"ext4": 1})],
                          ran_files={"ext4": ["fs/ext4/inode.c"]})
    back = gcov.GcovResult.from_dict(json.loads(json.dumps(asdict(res))))
    assert back == res and back.executed == 1 and back.files[0].share == "1/2"


def test_a_commit_is_mapped_to_the_tips_functions_through_later_commits(tmp_path):
    body = ["int a(void)", "{", "\treturn 1;", "}", "", "int b(void)", "{", "\tint x = 2;",
            "\treturn x;", "}", ""]
    repo = make_repo(tmp_path / "r", {"f.c": "\n".join(body)})
    base = git(repo, "rev-parse", "HEAD").strip()
    one = body[:8] + ["\tx++;"] + body[8:]           # b() gets a line
    (repo / "f.c").write_text("\n".join(one))
    git(repo, "commit", "-qam", "one")
    first = git(repo, "rev-parse", "HEAD").strip()
    two = ["/* head */", "/* more */"] + one         # later: everything moves down by 2
    two = two[:4] + two[5:]                          # and a() loses its first line... of body
    (repo / "f.c").write_text("\n".join(two))
    git(repo, "commit", "-qam", "two")
    tip = git(repo, "rev-parse", "HEAD").strip()
    t = open_tree(repo)
    at_tip = gcov.tip_lines(t, first, tip, "f.c")
    assert at_tip(9) == 10 and at_tip(1) == 3 and at_tip(10) == 11
    # The tip: a() lines 3-5, b() lines 7-11 (as gcov would name them).
    spans = [[3, 5, "a"], [7, 11, "b"]]
    assert gcov.touched_functions(t, base, first, tip, "f.c", spans) == {"b"}
    # A change outside every function is not placed: None, and nothing is skipped.
    assert gcov.touched_functions(t, first, tip, tip, "f.c", spans) is None


def test_a_workload_that_never_entered_the_changed_function_is_left_out(tmp_path):
    built = tmp_path / "out"
    (built / "fs/9p").mkdir(parents=True)
    (built / "fs/9p/vfs_addr.o").write_text("")
    profiled = {"fs/9p/vfs_addr.c"}
    ran = {"9p": ["fs/9p/vfs_addr.c"], "ext4": ["fs/9p/vfs_addr.c"], "bdev": []}
    entered = {"9p": {"fs/9p/vfs_addr.c": ["v9fs_read", "v9fs_writepage"]},
               "ext4": {"fs/9p/vfs_addr.c": ["v9fs_read"]}, "bdev": {}}
    skip = gcov.unaffected(["fs/9p/vfs_addr.c"], built, profiled, ran, None,
                           {"fs/9p/vfs_addr.c": {"v9fs_writepage"}}, entered)
    assert sorted(skip) == ["bdev", "ext4"]
    assert skip["ext4"] == ("its changes (fs/9p/vfs_addr.c: v9fs_writepage) are in functions "
                            "this workload did not enter at the tip (gcov)")
    # Where a change could not be placed in a function, only the file counts.
    assert sorted(gcov.unaffected(["fs/9p/vfs_addr.c"], built, profiled, ran, None,
                                  {"fs/9p/vfs_addr.c": None}, entered)) == ["bdev"]
    counts = {"w": {"a.c": {3: 1, 8: 0}}}
    assert gcov.entered_functions(counts, {"a.c": {(1, 4, "f"), (6, 9, "g")}}) == \
        {"w": {"a.c": ["f"]}}


def test_only_workloads_that_passed_on_the_gcov_kernel_can_be_left_out():
    res = gcov.GcovResult("a" * 40, {"ext2": "PASS", "nilfs2": "FAIL"},
                          ran_files={"ext2": ["fs/buffer.c"], "nilfs2": []},
                          entered={"ext2": {"fs/buffer.c": ["f"]}, "nilfs2": {}})
    ran, entered = res.whole_counts()
    assert ran == {"ext2": ["fs/buffer.c"]} and entered == {"ext2": {"fs/buffer.c": ["f"]}}


def test_the_gcov_build_directory_starts_as_a_copy_of_the_plain_one(tmp_path):
    """So that Kbuild rebuilds only what profiling reaches: copied when the
    gcov directory is missing or configured otherwise, never over one of the
    same config (its profiled objects are built already)."""
    git_dir = tmp_path / ".git"
    boot = safety.state_dir(git_dir) / "build" / "boot"
    plain = boot / "out"
    (plain / "mm").mkdir(parents=True)
    (plain / ".config").write_text("CONFIG_GCOV_KERNEL=y\n")
    (plain / "vmlinux").write_bytes(b"plain")
    (plain / "mm" / "page-writeback.o").write_bytes(b"obj")
    os.utime(plain / "mm" / "page-writeback.o", (1000, 1000))
    assert not measure.seed(boot / "none", boot / "other", git_dir)
    assert not (boot / "other").exists()
    out = boot / "gcov"
    assert measure.seed(plain, out, git_dir)
    # Timestamps kept: make takes the copied objects as up to date.
    assert (out / "mm" / "page-writeback.o").stat().st_mtime == 1000
    assert (out / "vmlinux").read_bytes() == b"plain"
    (out / "vmlinux").write_bytes(b"gcov")
    assert not measure.seed(plain, out, git_dir)
    assert (out / "vmlinux").read_bytes() == b"gcov"
    # The plain kernels' config changed: the copy is made again.
    (plain / ".config").write_text("CONFIG_GCOV_KERNEL=y\nCONFIG_EXT2_FS=y\n")
    assert measure.seed(plain, out, git_dir)
    assert (out / "vmlinux").read_bytes() == b"plain"
    assert (plain / "vmlinux").read_bytes() == b"plain"
    assert not (boot / "gcov.new").exists()


def test_every_boot_kernel_has_the_gcov_kernels_options():
    """The gcov kernel's config is then the plain kernels' (nothing is
    profiled in those), which seed() relies on."""
    rec = recipe.load("writeback-void")
    assert set(gcov.CONFIG) <= set(guest.config_options(rec, []))


def test_a_gcov_measurement_is_kept_under_its_sources_not_its_bytes(tmp_path):
    """gcc stamps a profiled object with its compile time, so a rebuilt gcov
    kernel of the same sources differs by its bytes: the measurement is
    kept under the tip's tree, the config, the profiled objects and the
    compiler, and under the scripts of the workloads it ran."""
    from refactor import passes, workspace
    repo = make_repo(tmp_path / "r", {"f.c": "int a;\n"})
    tip = Sha(git(repo, "rev-parse", "HEAD").strip())
    tree = open_tree(repo)
    ws = workspace.Workspace(tree, 1, "gcc", out="boot/gcov",
                             make_vars=("GCOV_PROFILE_f.o=y",))
    ws.out.mkdir(parents=True)
    (ws.out / ".config").write_text("CONFIG_GCOV_KERNEL=y\n")
    one = measure.gcov_identity(tree, tip, ws)
    assert measure.gcov_identity(tree, tip, ws) == one
    bootdir = tmp_path / "boot"
    bootdir.mkdir()
    (bootdir / "a.sh").write_text("#!/bin/sh\n# workload: a\n")
    store = passes.Store(tmp_path / "passes", bootdir, 256, [512], "tcg")
    what = f"gcov:x{measure.GCOV_SLOWER}:a,b"
    store.put(one, what, {"executed": 3}, tip)
    assert store.get(measure.gcov_identity(tree, tip, ws), what)["record"] == {"executed": 3}
    (ws.out / ".config").write_text("CONFIG_GCOV_KERNEL=y\nCONFIG_X=y\n")
    assert store.get(measure.gcov_identity(tree, tip, ws), what) is None
    (ws.out / ".config").write_text("CONFIG_GCOV_KERNEL=y\n")
    other = workspace.Workspace(tree, 1, "gcc", out="boot/gcov",
                                make_vars=("GCOV_PROFILE_g.o=y",))
    assert measure.gcov_identity(tree, tip, other) != one
    # A workload's own script is part of the key, after the factor too.
    (bootdir / "a.sh").write_text("#!/bin/sh\n# workload: a, changed\n")
    assert store.get(one, what) is None
