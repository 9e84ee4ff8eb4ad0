"""End to end on the real Linux 6.1 tree from Debian's linux-source-6.1.

The imported baseline is cached outside the repository (KREFACTOR_CACHE,
default ~/.cache/krefactor); each test works on a `git clone --shared` of
it, so the cache itself never gets a branch.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git

pytestmark = pytest.mark.real

TARBALL = Path("/usr/src/linux-source-6.1.tar.xz")
CACHE = Path(os.environ.get("KREFACTOR_CACHE", Path.home() / ".cache" / "krefactor"))


def krefactor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from refactor.cli import main; main()", *args],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def baseline() -> Path:
    if not TARBALL.exists():
        pytest.fail(f"{TARBALL} missing: run scripts/setup.sh (Debian package linux-source-6.1)")
    # The cache path is fixed before the hermetic HOME of each test applies.
    dest = CACHE / "linux-6.1"
    if not (dest / ".git").is_dir() or subprocess.run(
            ["git", "-C", str(dest), "rev-parse", "-q", "--verify", "HEAD"],
            capture_output=True).returncode != 0:
        subprocess.run(["rm", "-rf", str(dest)], check=True)
        res = krefactor("import", str(TARBALL), "--to", str(dest))
        assert res.returncode == 0, res.stderr
    return dest


@pytest.fixture(scope="module")
def generated(baseline, tmp_path_factory):
    work = tmp_path_factory.mktemp("real")
    clone = work / "linux"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(baseline), str(clone)],
                   check=True)
    for k, v in (("user.name", "Kernel Dev"), ("user.email", "dev@example.org")):
        git(clone, "config", k, v)
    res = krefactor("series", "--tree", str(clone), "--output", str(work / "out"),
                    "--json", str(work / "series.json"))
    assert res.returncode == 0, res.stderr
    return clone, work / "out", res.stdout


def show(repo: Path, path: str) -> str:
    return git(repo, "show", f"krefactor/writeback-void:{path}")


def grep_tip(repo: Path, pattern: str) -> str:
    r = subprocess.run(["git", "-C", str(repo), "grep", "-n", "-E", pattern,
                        "krefactor/writeback-void", "--", "*.c", "*.h"],
                       capture_output=True, text=True)
    return r.stdout


def test_prototypes_are_void(generated):
    repo, _, _ = generated
    flags = show(repo, "include/linux/page-flags.h")
    assert "void __folio_start_writeback(struct folio *folio, bool keep_write);" in flags
    assert "void set_page_writeback(struct page *page);" in flags
    assert "void __folio_start_writeback(struct folio *folio, bool keep_write)\n{" in \
        show(repo, "mm/page-writeback.c")
    assert "void set_page_writeback(struct page *page)\n{" in show(repo, "mm/folio-compat.c")


def test_no_caller_tests_the_return_value(generated):
    repo, _, _ = generated
    assert grep_tip(repo, r"if \(!?(folio_start_writeback|set_page_writeback)\(") == ""
    assert grep_tip(repo, r"= *(folio_start_writeback|set_page_writeback)\(") == ""
    assert grep_tip(repo, r"\btest_set_page_writeback\b") == ""


def test_wait_start_is_defined_declared_exported_and_called(generated):
    repo, _, _ = generated
    pw = show(repo, "mm/page-writeback.c")
    assert "void folio_wait_start_writeback(struct folio *folio)\n{" in pw
    assert "EXPORT_SYMBOL(folio_wait_start_writeback);" in pw
    assert "void folio_wait_start_writeback(struct folio *folio);" in \
        show(repo, "include/linux/pagemap.h")
    callers = {line.split(":")[1] for line in
               grep_tip(repo, r"^\s+folio_wait_start_writeback\(").splitlines()}
    assert callers == {"mm/page-writeback.c", "mm/vmscan.c", "mm/migrate.c",
                       "drivers/gpu/drm/i915/gem/i915_gem_shmem.c"}


def test_one_commit_per_subsystem_in_order(generated):
    repo, out, stdout = generated
    subjects = git(repo, "log", "--reverse", "--format=%s", "master..krefactor/writeback-void")
    subjects = subjects.splitlines()
    assert subjects[:5] == [
        "afs: stop testing the return value of folio_start_writeback()",
        "nfs: stop testing the return value of test_set_page_writeback()",
        "mm: remove test_set_page_writeback()",
        "mm: return void from folio_start_writeback() and set_page_writeback()",
        "mm: add folio_wait_start_writeback()",
    ]
    removed = {s.split(":")[0] for s in subjects if "do not start writeback" in s}
    assert removed == {"fuse", "gfs2", "iomap", "jfs", "mpage", "reiserfs"}
    assert len(list(out.glob("*.patch"))) == len(subjects) + 1
    bodies = git(repo, "log", "--format=%B%x00", "master..krefactor/writeback-void")
    bodies = [b for b in bodies.split("\0") if b.strip()]
    assert len(bodies) == len(subjects)
    for msg in bodies:
        assert "Signed-off-by: Kernel Dev <dev@example.org>" in msg
        assert "Generated by: semantic_patches/writeback-void/" in msg


def test_left_sites_are_listed_with_reasons(generated):
    repo, out, stdout = generated
    assert "fs/ext4/page-io.c:453 ext4_bio_write_page(): keepwrite" in stdout
    assert "fs/ceph/addr.c:1157 ceph_writepages_start(): inside the filesystem's own " \
           "writeback loop" in stdout
    assert "fs/f2fs/data.c:2767 f2fs_do_write_data_page(): conditional start" in stdout
    cover = (out / "0000-cover-letter.patch").read_text()
    assert "ext4_bio_write_page(): keepwrite" in cover
    assert "base-commit: " + git(repo, "rev-parse", "master").strip() in cover
    # The starts left in the tree at the tip are exactly those reported as left.
    left_lines = [l for l in stdout.splitlines() if l.startswith("  ") and "(): " in l]
    remaining = grep_tip(repo, r"^\s+(set_page_writeback|folio_start_writeback)\(")
    # ...but for the API's own wrappers, which are not call sites.
    wrappers = ("mm/folio-compat.c", "mm/page-writeback.c")
    remaining = [l for l in remaining.splitlines() if l.split(":")[1] not in wrappers]
    assert len(remaining) == len(left_lines)
