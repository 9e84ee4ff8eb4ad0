"""boot-test end to end on the real 6.1 tree: QEMU boots of small kernels built from
the series krefactor makes, with the bdev and ext2 workloads (the rest run by hand
through the bench)."""
from __future__ import annotations

import json

import pytest
from conftest import git, krefactor, unprepared_recipe

from refactor import tree as tree_mod

pytestmark = pytest.mark.real
WORKLOADS = ("--workload", "bdev", "--workload", "ext2")
VFS_COMMIT = "mm: start writeback before handing a folio to ->writepage()"


def test_the_series_passes_at_its_tip_and_gcov_shows_what_ran(real_series, tmp_path):
    """From "mm: add folio_wait_start_writeback()" on, the last commit that
    changes include/: the tip's kernel then builds incrementally from the
    first one's, and the gcov kernel from the tip's, so CI pays for one cold
    kernel, not three (1503 s in a clean-clone CI run on master). The series
    from the 6.1 base is booted by hand (the bench) and bisected below."""
    repo, _, _ = real_series
    [start] = git(repo, "log", "--format=%H", "--fixed-strings",
                  "--grep=mm: add folio_wait_start_writeback()",
                  "master..krefactor/writeback-void").split()
    assert not git(repo, "diff", "--name-only", start, "krefactor/writeback-void",
                   "--", "include").strip()
    out = tmp_path / "boot.json"
    res = krefactor("boot-test", "--recipe", "writeback-void", "--tree", str(repo),
                    "--range", f"{start}..krefactor/writeback-void", *WORKLOADS, "--gcov",
                    "--json", str(out))
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    data = json.loads(out.read_text())
    assert [c["index"] for c in data["commits"]] == [0, data["commit_count"]]
    for c in data["commits"]:
        assert [(w["name"], w["status"]) for w in c["workloads"]] == [("bdev", "PASS"),
                                                                      ("ext2", "PASS")]
        assert all(w["proof"]["nr_written"] > 0 for w in c["workloads"])
    # The tip's gcov kernel: its counters came out of the guest, and the
    # changed lines of mm/page-writeback.c that every writeback runs (the
    # VFS's start in write_cache_pages()) executed; fs/ceph is not built.
    g = data["gcov"]
    assert not g["error"] and g["gcda"] > 0 and g["workloads"] == {"bdev": "PASS",
                                                                   "ext2": "PASS"}
    files = {f["path"]: f for f in g["files"]}
    wb = files["mm/page-writeback.c"]
    assert wb["code"] > 0 and wb["executed"] > 0 and set(wb["ran_by"]) <= {"bdev", "ext2"}
    assert files["fs/ceph/addr.c"]["why"] == "not built in the boot kernel's config"
    assert sum(f["executed"] for f in g["files"]) <= sum(f["code"] for f in g["files"])
    assert "mm/page-writeback.c" in g["ran_files"]["ext2"]
    areas = {a["path"]: a for a in data["areas"]}
    assert areas["fs/ceph"]["reason"] and areas["mm"]["ran_by"]
    assert "changed code lines executed" in res.stdout
    # Each commit's verdicts were kept as it was tested, for the mails (results.py).
    for c in data["commits"]:
        kept = json.loads((repo / ".git" / "krefactor" / "results" / "boot" /
                           f"{c['sha']}.json").read_text())
        assert {n: kept[n]["status"] for n in ("bdev", "ext2")} == {"bdev": "PASS",
                                                                    "ext2": "PASS"}


def test_ext4_data_journal_with_mmap_and_msync_passes_at_the_tip(real_series, tmp_path):
    """The tip hung here (fsync waiting on a folio that __ext4_journalled_writepage()
    left under writeback) until the prepare step learnt from the call graph that
    ext4_journalled_write_inline_data() starts no writeback."""
    repo, _, _ = real_series
    out = tmp_path / "boot.json"
    # The last two commits, both after the VFS commit: the second is the first
    # one's build plus one filesystem this config leaves out, so CI pays for
    # one cold kernel, not two (the base runs ext4-journal in the bench).
    tip = "krefactor/writeback-void"
    res = krefactor("boot-test", "--recipe", "writeback-void",
                    "--tree", str(repo), "--workload", "ext4-journal",
                    "--range", f"{tip}~1..{tip}", "--json", str(out))
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    data = json.loads(out.read_text())
    assert len(data["commits"]) == 2
    for c in data["commits"]:
        [w] = c["workloads"]
        assert (w["name"], w["status"]) == ("ext4-journal", "PASS"), (c["index"], w["why"])
        assert w["proof"]["nr_written"] > 0


def test_bisect_names_the_vfs_commit_and_decodes_the_bug(real_series, tmp_path):
    """The series without its prepare step oopses in fs/buffer.c from the VFS commit on.
    The range starts after the commits that change include/linux/ (return void,
    add the wait), so every kernel bisect builds shares the tip's headers and
    builds incrementally (from master, the test took 658 s in a clean-clone
    CI run; from here, 147 s)."""
    repo, _, _ = real_series
    made = krefactor("series", "--tree", str(repo), "--recipe",
                     str(unprepared_recipe(tmp_path / "no-prepare")), "--branch", "unprepared")
    assert made.returncode == 0, made.stderr
    [start] = git(repo, "log", "--format=%H", "--fixed-strings",
                  "--grep=mm: add folio_wait_start_writeback()", "master..unprepared").split()
    assert not git(repo, "diff", "--name-only", start, "unprepared", "--", "include").strip()
    out = tmp_path / "boot.json"
    res = krefactor("boot-test", "--recipe", "writeback-void",
                    "--tree", str(repo), "--bisect", *WORKLOADS,
                    "--range", f"{start}..unprepared", "--json", str(out))
    assert res.returncode == 1, res.stdout + res.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["accel"] in ("kvm", "tcg") and data["accel_note"]
    assert "CONFIG_DEBUG_VM" in data["config"] and "CONFIG_EXT2_FS" in data["config"]
    # Every option asked for survived olddefconfig (frame pointers over tinyconfig's
    # guess unwinder, MP tables so that the guest sees its 2 CPUs).
    assert data["unmet"] == []
    by_index = {c["index"]: c for c in data["commits"]}
    base = by_index[0]
    assert [(w["name"], w["status"]) for w in base["workloads"]] == [("bdev", "PASS"),
                                                                     ("ext2", "PASS")]
    assert all(w["proof"]["nr_written"] > 0 for w in base["workloads"])
    tip = by_index[data["commit_count"]]
    bdev = next(w for w in tip["workloads"] if w["name"] == "bdev")
    assert bdev["status"] == "FAIL" and not bdev["also_at_base"]
    assert bdev["why"][0] == "kernel BUG at fs/buffer.c:1786!"
    assert any("fs/buffer.c:" in line for line in bdev["decoded"]), bdev["decoded"]
    first = data["first_bad"]
    seen = [(c["index"], c["subject"], [(w["name"], w["why"]) for w in c["workloads"]
                                        if w["status"] != "PASS"]) for c in data["commits"]]
    assert first["subject"] == VFS_COMMIT, seen
    assert first["failures"][0] == "bdev: kernel BUG at fs/buffer.c:1786!"
    # Bisect tested about log2(n) commits between base and tip, each built once.
    # A commit that failed in another way was skipped, and one more tested.
    assert len(data["commits"]) <= 2 + 4 + 2 * len(data["skipped"])
    assert f"first bad commit: {first['index']}/{data['commit_count']}" in res.stdout


def test_a_series_that_drops_end_page_writeback_is_caught(real_series, tmp_path):
    """bdev alone: on this kernel every later workload blocks too (mkfs.ext2
    waits on the block device's writeback), so a second one would only cost
    a second boot that runs out its time."""
    repo, _, _ = real_series
    # On top of the series' tip, whose kernel the first test built.
    t = tree_mod.open_tree(repo)
    base = t.rev("krefactor/writeback-void")
    path = "fs/buffer.c"
    text = t.read(base, [path])[path].decode()
    tail = "\tend_page_writeback(page);\n\treturn;\n\nstill_busy:"
    assert text.count(tail) == 1
    text = text.replace(tail, "\treturn;\n\nstill_busy:")
    sha = t.commit(base, {path: text.encode()},
                   "fs: drop the end of writeback on async write completion\n", t.identity())
    t.update_branch("broken-writeback", sha, None)
    out = tmp_path / "broken.json"
    res = krefactor("boot-test", "--recipe", "writeback-void",
                    "--tree", str(repo), "--range", "krefactor/writeback-void..broken-writeback",
                    "--workload", "bdev", "--json", str(out))
    assert res.returncode == 1, res.stdout + res.stderr[-3000:]
    data = json.loads(out.read_text())
    tip = next(c for c in data["commits"] if c["index"] == 1)
    bdev = next(w for w in tip["workloads"] if w["name"] == "bdev")
    assert bdev["status"] == "FAIL"
    assert any("blocked for more than" in why or "timed out" in why or "still running" in why
               for why in bdev["why"]), bdev["why"]
