"""review on the real 6.1 series: recipients agree with scripts/get_maintainer.pl."""
from __future__ import annotations

import json
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
    return repo, json.loads(out.read_text()), res.stdout, res.stderr


def test_recipients_agree_with_get_maintainer(reviewed, tmp_path):
    repo, data, _, _ = reviewed
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
    _, data, stdout, _ = reviewed
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


def test_the_prepared_series_breaks_nothing_and_leaves_nothing_to_review(reviewed):
    """No runtime flag on the prepared series: the recipe's f2fs and nfs
    steps end the VFS's writeback where the pages leave their callees
    without I/O, and the callees that start or end it on every path settle
    the exits after them (always.py). The next test shows the flags come
    when nothing is prepared."""
    _, data, _, progress = reviewed
    flagged = {c["subject"]: [f for f in c["flags"] if f.startswith("runtime:")]
               for c in data["commits"]}
    assert not any(flagged.values()), flagged
    # The VFS commit was checked, and the callees that settle nfs's and
    # f2fs's exits were found there, each with the line that shows it.
    vfs = next(c["sha"] for c in data["commits"]
               if c["subject"] == "mm: start writeback before handing a folio to ->writepage()")
    assert f"runtime check at {vfs[:12]}" in progress
    assert "nfs_writepage_locked() (fs/nfs/write.c:" in progress
    assert "f2fs_do_write_meta_page() (fs/f2fs/segment.c:3415)" in progress


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
