"""The code index (GNU Global) on tiny git trees: what it finds, what a later
commit changes, and that the reachability search gives the same answers as
with `git grep`, but for mentions in comments, which are no calls."""
from __future__ import annotations

import shutil
import threading

import pytest
from conftest import git, make_repo

from refactor import callgraph, index, recipe, safety
from refactor import tree as tree_mod

pytestmark = pytest.mark.skipif(shutil.which("gtags") is None,
                                reason="GNU Global is installed by scripts/setup.sh")

HANDOFF = recipe.HandOff("a ->writepage method", ("writepage",), (("write_cache_pages", 3),),
                         carried=recipe.load("writeback-void").handoff.carried)

FILES = {
    "fs/a/inode.c": (
        "static int a_writepage(struct page *page, struct writeback_control *wbc)\n"
        "{\n"
        "\treturn write_one(page);\n"
        "}\n"
        "\n"
        "static const struct address_space_operations a_aops = {\n"
        "\t.writepage = a_writepage,\n"
        "};\n"),
    "fs/common.c": (
        "int write_one(struct page *page)\n"
        "{\n"
        "\treturn start_io(page);\n"
        "}\n"
        "EXPORT_SYMBOL(write_one);\n"),
    "fs/b/file.c": (
        "int b_sync(struct page *page)\n"
        "{\n"
        "\t/*\n"
        "\t * Unlike write_one(), this waits.\n"
        "\t */\n"
        "\treturn START_IO_MACRO(page);\n"
        "}\n"),
}


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.delenv("KREFACTOR_INDEX", raising=False)
    index._open.clear()
    yield
    index._open.clear()


def tiny(tmp_path):
    return tree_mod.open_tree(make_repo(tmp_path / "t", FILES))


def test_a_name_is_found_where_it_is_code_not_in_comments(tmp_path):
    t = tiny(tmp_path)
    head = t.rev("HEAD")
    ix = index.CodeIndex.open(t, head)
    found = ix.mentions(head, ["write_one", "start_io", "START_IO_MACRO", "nothing_here"])
    assert found["write_one"] == {"fs/a/inode.c", "fs/common.c"}     # not fs/b/file.c
    assert found["start_io"] == {"fs/common.c"}                     # defined nowhere: -s
    assert found["START_IO_MACRO"] == {"fs/b/file.c"}
    assert found["nothing_here"] == set()
    # git grep, for comparison, also finds the comment.
    assert "fs/b/file.c" in t.grep_words(head, ("write_one",), (".",), globs=("*.c",))["write_one"]


def test_the_index_keeps_no_sources_and_clean_removes_it(tmp_path):
    t = tiny(tmp_path)
    head = t.rev("HEAD")
    ix = index.CodeIndex.open(t, head)
    assert ix.root.parent == t.git_dir / "krefactor" / "index"
    assert sorted(p.name for p in (ix.root / "db").iterdir()) == ["GPATH", "GRTAGS", "GTAGS"]
    assert not list(ix.root.rglob("*.c"))
    # The export is removed behind (a thread of its own): wait for it.
    for thread in threading.enumerate():
        if thread.name.startswith("remove index-"):
            thread.join()
    assert not list((t.git_dir / "krefactor" / "tmp").iterdir())
    removed, _ = safety.clean(t)
    assert str(ix.root.parent) in removed and not ix.root.exists()


def test_a_later_commit_is_answered_from_its_own_changed_files(tmp_path):
    t = tiny(tmp_path)
    base = t.rev("HEAD")
    index.CodeIndex.open(t, base)
    (t.path / "fs/b/file.c").write_text("int b_sync(struct page *page)\n{\n"
                                        "\treturn write_one(page);\n}\n")
    git(t.path, "rm", "-q", "fs/a/inode.c")
    git(t.path, "commit", "-qam", "change")
    head = t.rev("HEAD")
    ix = index.CodeIndex.open(t, head)
    assert ix.base == base                           # one index serves both commits
    assert ix.mentions(head, ["write_one"])["write_one"] == {"fs/b/file.c", "fs/common.c"}
    assert ix.mentions(base, ["write_one"])["write_one"] == {"fs/a/inode.c", "fs/common.c"}


def test_a_commit_that_only_deletes_c_files(tmp_path):
    t = tiny(tmp_path)
    index.CodeIndex.open(t, t.rev("HEAD"))
    git(t.path, "rm", "-q", "fs/a/inode.c")
    git(t.path, "commit", "-qm", "delete")
    head = t.rev("HEAD")
    ix = index.CodeIndex.open(t, head)
    assert ix.mentions(head, ["write_one"])["write_one"] == {"fs/common.c"}
    paths, over = ix.overlay(head)
    assert paths == ["fs/a/inode.c"] and over is not None and not (over / "GTAGS").exists()


def test_a_far_commit_gets_an_index_of_its_own(tmp_path, monkeypatch):
    t = tiny(tmp_path)
    base = t.rev("HEAD")
    first = index.CodeIndex.open(t, base)
    (t.path / "fs/common.c").write_text("int write_one(struct page *page)\n{\n\treturn 0;\n}\n")
    git(t.path, "commit", "-qam", "change")
    monkeypatch.setattr(index, "MAX_CHANGED", 0)
    second = index.CodeIndex.open(t, t.rev("HEAD"))
    assert second.root != first.root and second.base == t.rev("HEAD")


def test_reachability_is_the_same_from_the_index_but_for_comments(tmp_path, monkeypatch):
    t = tiny(tmp_path)
    head = t.rev("HEAD")
    answers = {}
    for mode in ("grep", "gtags"):
        monkeypatch.setenv("KREFACTOR_INDEX", mode)
        index._open.clear()
        graph = callgraph.CallGraph(t, head, HANDOFF)
        answers[mode] = graph.reach_all([("fs/common.c", "write_one"),
                                         ("fs/b/file.c", "b_sync")])
    assert answers["grep"][("fs/common.c", "write_one")].path == \
        answers["gtags"][("fs/common.c", "write_one")].path == \
        ["fs/a/inode.c:a_writepage", "fs/common.c:write_one"]
    # git grep takes the comment "Unlike write_one(), ..." inside b_sync() for a
    # call; the index does not.
    assert set(graph.hits["write_one"]) == {"fs/a/inode.c", "fs/common.c"}


def test_without_gtags_the_search_is_git_grep(tmp_path, monkeypatch):
    monkeypatch.setenv("KREFACTOR_INDEX", "grep")
    t = tiny(tmp_path)
    assert index.for_commit(t, t.rev("HEAD")) is None
    assert not (t.git_dir / "krefactor" / "index").exists()
