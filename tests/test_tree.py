import os
import subprocess

import pytest
from conftest import git, make_repo, snapshot

from refactor import tree as tree_mod
from refactor.errors import KrefactorError


def test_commit_writes_a_branch_and_leaves_the_checkout(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.c": "one\n", "b/c.h": "two\n"})
    (repo / "a.c").write_text("dirty\n")
    (repo / "untracked").write_text("mine\n")
    before = snapshot(repo)
    t = tree_mod.open_tree(repo)
    head = t.rev("HEAD")
    ident = t.identity()
    sha = t.commit(head, {"b/c.h": b"changed\n"}, "x: y\n", ident)
    t.update_branch("topic", sha, None)
    after = snapshot(repo)
    assert after.pop("refs") != before.pop("refs")
    assert after == before
    assert git(repo, "show", "topic:b/c.h") == "changed\n"
    assert git(repo, "show", "topic:a.c") == "one\n"


def test_a_commits_tree_is_the_one_git_writes_from_an_index(tmp_path):
    """Trees are written in-process: they must be git's own, byte for byte
    (modes kept, new directories, git's order where "a.b" sorts before "a/")."""
    repo = make_repo(tmp_path / "r", {"a.c": "one\n", "a/x.c": "x\n", "a.b": "dot\n",
                                      "d/e/f.c": "deep\n", "run.sh": "#!/bin/sh\n"})
    git(repo, "update-index", "--chmod=+x", "run.sh")
    git(repo, "commit", "-qm", "exec")
    t = tree_mod.open_tree(repo)
    head = t.rev("HEAD")
    changes = {"a/x.c": b"X\n", "d/e/f.c": b"DEEP\n", "run.sh": b"#!/bin/sh\nexit 0\n",
               "new/dir/g.c": b"new\n", "a/y.c": b"y\n"}
    sha = t.commit(head, changes, "x: y\n", t.identity())
    env = dict(os.environ, GIT_INDEX_FILE=str(tmp_path / "index"))

    def ours(*args: str, data: bytes | None = None) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], input=data, env=env,
                              check=True, capture_output=True).stdout.decode()
    ours("read-tree", head)
    for path, data in changes.items():
        blob = ours("hash-object", "-w", "--stdin", data=data).strip()
        mode = "100755" if path == "run.sh" else "100644"
        ours("update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}")
    assert git(repo, "rev-parse", f"{sha}^{{tree}}").strip() == ours("write-tree").strip()
    assert git(repo, "rev-parse", f"{sha}^").strip() == head
    assert git(repo, "fsck", "--strict", "--no-dangling").strip() == ""


def test_read_and_grep_at_a_commit(tmp_path):
    repo = make_repo(tmp_path / "r", {"fs/x/a.c": "set_page_writeback(p);\n",
                                       "fs/x/b.c": "nothing\n", "mm/c.h": "set_page_writeback\n"})
    t = tree_mod.open_tree(repo)
    head = t.rev("HEAD")
    assert t.grep(head, ("set_page_writeback",), ("fs",)) == ["fs/x/a.c"]
    assert t.grep(head, ("set_page_writeback",), (".",)) == ["fs/x/a.c", "mm/c.h"]
    assert t.read(head, ["fs/x/b.c"]) == {"fs/x/b.c": b"nothing\n"}


def test_not_a_git_repository(tmp_path):
    with pytest.raises(KrefactorError, match="not a git repository"):
        tree_mod.open_tree(tmp_path)


def test_makefile_version():
    assert tree_mod.makefile_version(
        "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\n") == "6.1.192"
    assert tree_mod.makefile_version("VERSION = 6\nPATCHLEVEL = 8\nSUBLEVEL = 0\n"
                                     "EXTRAVERSION = -rc1\n") == "6.8-rc1"


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../b"])
def test_paths_outside_the_tree_are_refused(path):
    with pytest.raises(KrefactorError, match="outside the tree"):
        tree_mod.check_inside(path)


def test_import_keeps_files_a_gitignore_hides(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 3\n")
    (src / ".gitignore").write_text("/*\n")
    (src / "mm").mkdir()
    (src / "mm" / "a.c").write_text("int a;\n")
    t, head, version = tree_mod.import_tree(src, tmp_path / "dst")
    assert version == "6.1.3"
    assert "mm/a.c" in git(t.path, "ls-files")
    assert git(t.path, "log", "--format=%s") == "Linux 6.1.3\n"


def test_read_can_leave_out_missing_files_and_grep_words(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.c": "int set_page_writeback_x; set_page_writeback();\n",
                                      "b.c": "folio_start_writeback(f);\n", "c.h": "x\n"})
    t = tree_mod.open_tree(repo)
    head = t.rev("HEAD")
    assert set(t.read(head, ["a.c", "gone.c", "b.c"], missing_ok=True)) == {"a.c", "b.c"}
    assert t.grep_words(head, ("set_page_writeback", "folio_start_writeback", "nothing"),
                        (".",), globs=("*.c",)) == {
        "set_page_writeback": {"a.c"}, "folio_start_writeback": {"b.c"}, "nothing": set()}


def test_a_whole_tree_grep_split_in_two_finds_what_one_finds(tmp_path):
    files = {"drivers/a/x.c": "int word;\n", "drivers/b/y.h": "word\n", "fs/z.c": "word;\n",
             "fs/q.c": "other\n", "top.c": "word\n", "drivers/c/w.c": "words\n"}
    repo = make_repo(tmp_path / "r", files)
    t = tree_mod.open_tree(repo)
    head = t.rev("HEAD")
    assert t.grep(head, ("word",), (".",)) == ["drivers/a/x.c", "drivers/b/y.h", "fs/z.c",
                                              "top.c"]
    assert t.grep(head, ("word",), (".",), excludes=("drivers/a",)) == [
        "drivers/b/y.h", "fs/z.c", "top.c"]
    assert t.grep(head, ("word",), ("fs",)) == ["fs/z.c"]
    assert t.grep_words(head, ("word", "other"), (".",)) == {
        "word": {"drivers/a/x.c", "drivers/b/y.h", "fs/z.c", "top.c"}, "other": {"fs/q.c"}}


def test_grep_reads_the_checkout_only_when_it_holds_the_commit(tmp_path):
    """A checkout that holds the commit is searched in place (faster); one
    with a tracked file changed, or at another commit, is not: the answer is
    always the commit's."""
    repo = make_repo(tmp_path / "r", {"a.c": "word;\n", "b.c": "other;\n"})
    head = tree_mod.open_tree(repo).rev("HEAD")
    t = tree_mod.open_tree(repo)
    assert t.checked_out(head)
    assert t.grep(head, ("word",), (".",)) == ["a.c"]
    assert t.grep_words(head, ("word", "other"), (".",)) == {"word": {"a.c"},
                                                             "other": {"b.c"}}
    (repo / "b.c").write_text("word;\n")            # unfinished work in the checkout
    t = tree_mod.open_tree(repo)
    assert not t.checked_out(head)
    assert t.grep(head, ("word",), (".",)) == ["a.c"]
    git(repo, "commit", "-qam", "b too")
    t = tree_mod.open_tree(repo)
    assert not t.checked_out(head) and t.checked_out(t.rev("HEAD"))
    assert t.grep(head, ("word",), (".",)) == ["a.c"]
    assert t.grep(t.rev("HEAD"), ("word",), (".",)) == ["a.c", "b.c"]
    git(repo, "config", "core.sparseCheckout", "true")
    assert not tree_mod.open_tree(repo).checked_out(t.rev("HEAD"))
