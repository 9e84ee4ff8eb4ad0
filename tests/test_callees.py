"""May a callee start writeback? The backward closure of the starts on a tiny
git tree, its reasons, and its cache."""
from __future__ import annotations

import json

from conftest import make_repo

from refactor import callees, recipe
from refactor import tree as tree_mod

HANDOFF = recipe.HandOff("a ->writepage method", ("writepage",), (), started="writeback")
STARTS = ("set_page_writeback", "folio_start_writeback")


def tiny(tmp_path):
    return tree_mod.open_tree(make_repo(tmp_path / "t", {
        "include/linux/pf.h": "static inline void set_page_writeback(struct page *page)\n{\n"
                              "\tfolio_start_writeback(page_folio(page));\n}\n",
        "fs/x/io.c": "static void x_submit(struct page *page)\n{\n"
                     "\tset_page_writeback(page);\n}\n\n"
                     "int x_write_locked(struct page *page)\n{\n"
                     "\tx_submit(page);\n\treturn 0;\n}\n\n"
                     "int x_ino(struct page *page)\n{\n\treturn page->index;\n}\n",
        "fs/y/data.c": "static void x_submit(struct page *page)\n{\n\treturn;\n}\n\n"
                       "int y_write(struct page *page)\n{\n\tx_submit(page);\n"
                       "\treturn x_ino(page);\n}\n",
    }))


def test_a_caller_of_a_start_through_other_functions_may_start(tmp_path):
    t = tiny(tmp_path)
    s = callees.starters(t, t.rev("HEAD"), HANDOFF, STARTS)
    assert s.path("fs/x/io.c", "x_write_locked") == [
        "x_write_locked()", "x_submit()", "set_page_writeback()"]
    assert s.reason("fs/x/io.c", "x_write_locked") == \
        "which may start writeback on it: x_write_locked() -> x_submit() -> set_page_writeback()"


def test_an_accessor_starts_nothing_and_the_reason_says_how_we_know(tmp_path):
    t = tiny(tmp_path)
    s = callees.starters(t, t.rev("HEAD"), HANDOFF, STARTS)
    assert s.path("fs/x/io.c", "x_ino") is None
    reason = s.reason("fs/x/io.c", "x_ino")
    assert reason.startswith("which starts no writeback: it is not among the 2 functions")
    assert "set_page_writeback(), folio_start_writeback()" in reason


def test_a_static_function_of_the_same_name_elsewhere_is_not_confused(tmp_path):
    t = tiny(tmp_path)
    s = callees.starters(t, t.rev("HEAD"), HANDOFF, STARTS)
    # fs/y's own static x_submit() starts nothing; fs/x's does.
    assert s.path("fs/x/io.c", "x_submit") is not None
    assert "fs/y/data.c:x_submit" not in s.via
    assert "fs/y/data.c:y_write" not in s.via


def test_the_set_is_kept_per_tree_and_reused(tmp_path):
    t = tiny(tmp_path)
    head = t.rev("HEAD")
    first = callees.starters(t, head, HANDOFF, STARTS)
    cache = callees.cache_file(t, head, STARTS)
    assert json.loads(cache.read_text())["via"] == first.via
    # A second run reads the cache: planting a marker in it shows it was read.
    data = json.loads(cache.read_text())
    data["via"]["fs/z.c:planted"] = "set_page_writeback"
    cache.write_text(json.dumps(data))
    again = callees.starters(t, head, HANDOFF, STARTS)
    assert again.path("fs/z.c", "planted") == ["planted()", "set_page_writeback()"]
    # Other starts are another question, not served from that cache.
    other = callees.starters(t, head, HANDOFF, ("folio_start_writeback",))
    assert "fs/z.c:planted" not in other.via


def test_the_index_and_git_grep_keep_caches_of_their_own(tmp_path, monkeypatch):
    from refactor import index
    t = tiny(tmp_path)
    head = t.rev("HEAD")
    monkeypatch.setenv("KREFACTOR_INDEX", "grep")
    by_grep = callees.cache_file(t, head, STARTS)
    monkeypatch.setattr(index, "enabled", lambda: True)
    assert callees.cache_file(t, head, STARTS) != by_grep
