"""coverage on the real 6.1 tree after the writeback series."""
from __future__ import annotations

import json
import subprocess

import pytest
from conftest import krefactor

from refactor.maintainers import subsystem_of
from refactor.recipe import load

pytestmark = pytest.mark.real


def test_every_reference_is_accounted_for(real_series, tmp_path):
    repo, _, _ = real_series
    out = tmp_path / "coverage.json"
    res = krefactor("coverage", "--recipe", "writeback-void", "--tree", str(repo), "--range",
                    "master..krefactor/writeback-void", "--json", str(out))
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    syms = load("writeback-void").symbols
    # Every textual reference in .c/.h outside Documentation is a site or a comment.
    grep = subprocess.run(["git", "-C", str(repo), "grep", "-n", "-w", "-E", "|".join(syms),
                           "master", "--", "*.c", "*.h", ":!Documentation", ":!tools"],
                          capture_output=True, text=True).stdout.splitlines()
    sites = {(s["file"], s["line"]) for s in data["sites"]}
    text_refs = {(l.split(":")[1], int(l.split(":")[2])) for l in grep}
    assert len(text_refs - sites) == data["comments"]
    assert len(text_refs) >= 55
    # Exactly AFS and NFS use the return value, outside the API's own wrappers.
    users = {subsystem_of(s["file"]).key for s in data["sites"]
             if s["kind"] == "call-value-used" and s["function"] not in syms}
    assert users == {"fs/afs", "fs/nfs"}
    assert all(s["disposition"] in ("changed", "prepared", "unaffected", "left",
                                    "NEEDS REVIEW") for s in data["sites"])
    assert all(s["reason"] or s["commit"] for s in data["sites"])
    review = [s for s in data["sites"] if s["disposition"] == "NEEDS REVIEW"
              and s["kind"] != "handoff-impl"]
    assert {(s["file"], s["kind"]) for s in review} == {
        ("fs/btrfs/subpage.c", "macro-argument")}
    # Every ->writepage method and write_cache_pages() callback has a disposition.
    impl = {(s["file"], s["function"]): s for s in data["sites"] if s["kind"] == "handoff-impl"}
    initializers = subprocess.run(
        ["git", "-C", str(repo), "grep", "-h", "-E", r"^\s*\.writepage\s*=\s*\w+", "master",
         "--", "*.c", ":!tools"], capture_output=True, text=True).stdout.split("\n")
    # (fs/affs/file.c has one commented out: //.writepage = affs_writepage_ofs)
    named = {line.split("=")[1].strip(" ,\t") for line in initializers if "=" in line}
    assert named <= {fn for _, fn in impl}
    by_name = {fn: s for (_, fn), s in impl.items()}
    for fn in ("shmem_writepage", "ext4_writepage", "iomap_do_writepage", "__mpage_writepage",
               "ext4_journalled_writepage_callback"):
        assert by_name[fn]["disposition"] == "prepared", by_name[fn]
        assert "prepare ->writepage()" in by_name[fn]["commit"]
    assert by_name["blkdev_writepage"]["disposition"] == "unaffected"
    # Defined in another file than its initializer's, and still listed.
    assert by_name["swap_writepage"]["file"] == "mm/page_io.c"
    # Nothing is left to a human. nfs_page_async_flush() returns at one label
    # before and after its start: the nfs step ends writeback on the jumps
    # taken before it, after which nfs_writepage_locked() and
    # nfs_do_writepage() start or end writeback on every path (always.py).
    assert {fn for (_, fn), s in impl.items() if s["disposition"] == "NEEDS REVIEW"} == set()
    for fn in ("nfs_writepage", "nfs_writepages_callback"):
        assert by_name[fn]["disposition"] == "prepared", by_name[fn]
        assert by_name[fn]["commit"].endswith(
            "nfs: end writeback where a page has no request to write")
        assert "nfs_page_async_flush() -> nfs_set_page_writeback()" in by_name[fn]["reason"]
    # f2fs_do_write_meta_page(), in another file, starts writeback on every
    # path (always.py): the exit after it is no question; the step prepared
    # the other exits of the helper the method calls.
    meta = by_name["f2fs_write_meta_page"]
    assert meta["disposition"] == "prepared", meta
    assert meta["reason"].startswith("in __f2fs_write_meta_page(), which it calls: ")
    assert meta["commit"].endswith("f2fs: prepare ->writepage() for a folio already under "
                                   "writeback")
    # The exits the prepare step left in f2fs_write_single_data_page() are
    # settled by the f2fs step: run again at the VFS commit, it leaves none.
    single = by_name["f2fs_write_data_page"]
    assert single["disposition"] == "prepared"
    assert single["commit"].endswith("f2fs: end writeback where a data page leaves without I/O")
    assert "in f2fs_write_single_data_page(), which it calls: the folio leaves after " \
        "f2fs_do_write_data_page()" in single["reason"]
    assert "the first commit that starts writeback at the hand-offs, it leaves none" \
        in single["reason"]
    for s in impl.values():
        assert "did not read" not in s["reason"], s
        if s["disposition"] == "NEEDS REVIEW":
            assert "which may start writeback on it: " in s["reason"] or \
                "was unlocked before, at line" in s["reason"] or \
                "not all known" in s["reason"], s
    handoffs = {s["file"]: s for s in data["sites"] if s["kind"] == "handoff-call"}
    assert handoffs["mm/vmscan.c"]["disposition"] == "changed"
    assert handoffs["fs/gfs2/log.c"]["disposition"] == "left"
