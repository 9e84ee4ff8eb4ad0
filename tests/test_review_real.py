"""review on the real 6.1 series: recipients agree with scripts/get_maintainer.pl."""
from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest import krefactor

pytestmark = pytest.mark.real

TOP_FILES = ("COPYING", "CREDITS", "Kbuild", "MAINTAINERS", "Makefile", "README")
TOP_DIRS = ("Documentation", "arch", "include", "drivers", "fs", "init", "ipc", "kernel",
            "lib", "scripts")


@pytest.fixture(scope="module")
def reviewed(real_series, tmp_path_factory):
    repo, _, _ = real_series
    out = tmp_path_factory.mktemp("review") / "review.json"
    res = krefactor("review", "--tree", str(repo), "--range",
                    "master..krefactor/writeback-void", "--json", str(out))
    assert res.returncode == 0, res.stderr
    return repo, json.loads(out.read_text()), res.stdout


def test_recipients_agree_with_get_maintainer(reviewed, tmp_path):
    repo, data, _ = reviewed
    files = sorted({f for c in data["commits"] for f in c["files"]})
    # get_maintainer.pl wants the top of a kernel tree and the files it is asked about.
    archive = subprocess.Popen(["git", "-C", str(repo), "archive", "master", *TOP_FILES,
                                "scripts/get_maintainer.pl", *files], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], stdin=archive.stdout, check=True)
    archive.wait()
    for d in TOP_DIRS:
        (tmp_path / d).mkdir(exist_ok=True)
    for c in data["commits"]:
        res = subprocess.run(["perl", "scripts/get_maintainer.pl", "--no-git",
                              "--no-git-fallback", "--no-rolestats", "--no-keywords",
                              "-f", *c["files"]], cwd=tmp_path, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        theirs = {line.split("<")[-1].rstrip(">").split()[0]
                  for line in res.stdout.splitlines() if "@" in line}
        assert set(c["to"]) | set(c["cc"]) == theirs, c["subject"]


def test_checkpatch_ran_and_risks_were_flagged(reviewed):
    _, data, stdout = reviewed
    assert all(c["checkpatch_summary"] for c in data["commits"])
    afs = data["commits"][0]
    assert any("assertion removed: BUG();" in f for f in afs["flags"])
    void = data["commits"][3]
    assert any("signature of __folio_start_writeback() changed" in f for f in void["flags"])
    # Flags name the declaration they are in: not SetPageUptodate() above the
    # prototypes, nor the keepwrite helper next to the removed definition.
    assert "include/linux/page-flags.h: set_page_writeback(): signature of " \
        "set_page_writeback() changed" in void["flags"]
    assert not any("SetPageUptodate" in f for f in void["flags"])
    remove = data["commits"][2]
    assert remove["subject"] == "mm: remove test_set_page_writeback()"
    assert remove["flags"] == []
    assert "linux-mm@kvack.org" in data["cc"]
    assert max(len(line) for line in stdout.splitlines()) <= 80


def test_the_prepared_series_breaks_nothing_and_names_what_needs_review(reviewed):
    """No runtime breakage on the prepared series; the exits the prepare step
    left in code a hand-off reaches are flagged on the VFS commit, each with
    the call path or the line that makes it so."""
    _, data, _ = reviewed
    flagged = {c["subject"]: [f for f in c["flags"] if f.startswith("runtime:")]
               for c in data["commits"]}
    vfs = "mm: start writeback before handing a folio to ->writepage()"
    assert [s for s, f in flagged.items() if f] == [vfs]
    for f in flagged[vfs]:
        assert f.startswith("runtime: NEEDS REVIEW: "), f
        assert "which may start writeback on it: " in f, f
    text = "\n".join(flagged[vfs])
    # Two hand-offs are left to a human: nfs_page_async_flush() returns at
    # one label both before and after its start. The f2fs step settled
    # f2fs_write_single_data_page()'s exits before the VFS commit, and
    # f2fs_do_write_meta_page() starts writeback on every path.
    where = {re.search(r"NEEDS REVIEW: \S+:\d+ (\w+)\(\)", f).group(1) for f in flagged[vfs]}
    assert where == {"nfs_writepage", "nfs_writepages_callback"}
    assert "nfs_do_writepage() -> nfs_page_async_flush() -> nfs_set_page_writeback()" in text
    # Settled by the callee's own code: cifs and fuse start writeback on every
    # path; 9p and ceph return early before their start, and now end it there.
    for fn in ("cifs_writepage", "fuse_writepage", "orangefs_writepage",
               "v9fs_vfs_writepage", "ceph_writepage", "writepage_nounlock"):
        assert f" {fn}():" not in text, fn


def test_runtime_flags_name_what_breaks_when_nothing_is_prepared(real_series, tmp_path):
    """The series as it was before the prepare step (the one that oopsed at
    fs/buffer.c:1786 under boot-test): its VFS commit gets the flags."""
    from conftest import unprepared_recipe
    repo, _, _ = real_series
    copy = unprepared_recipe(tmp_path / "no-prepare")
    made = krefactor("series", "--tree", str(repo), "--recipe", str(copy),
                     "--branch", "unprepared")
    assert made.returncode == 0, made.stderr
    out = tmp_path / "r.json"
    res = krefactor("review", "--tree", str(repo), "--recipe", "writeback-void",
                    "--range", "master..unprepared", "--json", str(out))
    assert res.returncode == 0, res.stderr
    commits = json.loads(out.read_text())["commits"]
    flagged = {c["subject"]: [f for f in c["flags"] if f.startswith("runtime:")]
               for c in commits}
    vfs = "mm: start writeback before handing a folio to ->writepage()"
    assert [s for s, f in flagged.items() if f] == [vfs]
    text = "\n".join(flagged[vfs])
    assert "fs/buffer.c:1786 __block_write_full_page(): asserts that writeback is not set" \
        in text
    assert "fs/iomap/buffered-io.c:1642 iomap_writepage_map(): asserts" in text
    assert "block_write_full_page(): the folio leaves without I/O" in text
    assert "shmem_writepage(): the folio moves to another mapping" in text
    assert "ext4_journalled_writepage_callback(): the folio leaves without I/O" in text
