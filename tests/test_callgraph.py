"""Tree-wide reachability from hand-off points: the parsers on literals, the search on a
tiny git tree, and every 'not reached' claim of the fixture series checked against it."""
from __future__ import annotations

import json
import re

from conftest import FIXTURE, imported, krefactor, make_repo

from refactor import callgraph, ctext, recipe
from refactor import tree as tree_mod

HANDOFF = recipe.HandOff("a ->writepage method or write_cache_pages() callback",
                         ("writepage",), (("write_cache_pages", 3),),
                         carried=recipe.load("writeback-void").handoff.carried)
# What the semantic patches print for a site no hand-off reaches in its file.
UNREACHED = "not reached from a ->writepage method or write_cache_pages() callback"

C = """static int helper(struct page *page,
		  int flags)
{
	if (flags)
		return 0;
	return 1;
}

int exported(struct page *page)
{
	return helper(page, 0);
}
EXPORT_SYMBOL(exported);

struct x table = {
	.writepage = exported,
};
"""


def test_functions_follow_kernel_style():
    fs = ctext.functions(C)
    assert [(f.name, f.first, f.last, f.static) for f in fs] == [
        ("helper", 1, 7, True), ("exported", 9, 12, False)]
    assert ctext.enclosing_function(fs, 5).name == "helper"
    assert ctext.enclosing_function(fs, 13) is None


def test_a_head_with_its_type_on_the_line_before():
    text = ("static int\niomap_map(struct folio *folio,\n\t\tu64 end)\n{\n\treturn 0;\n}\n\n"
            "int\nexported(void)\n{\n\treturn iomap_map(NULL, 0);\n}\n")
    fs = ctext.functions(text)
    assert [(f.name, f.first, f.last, f.static) for f in fs] == [
        ("iomap_map", 2, 6, True), ("exported", 9, 12, False)]
    assert ctext.enclosing_function(fs, 11).name == "exported"


def test_roots_are_initializers_and_callback_arguments():
    text = C + "int w(void)\n{\n\treturn write_cache_pages(m, wbc, __cb, data);\n}\n"
    assert callgraph.roots_in(text, HANDOFF) == {"exported", "__cb"}
    assert callgraph.roots_in("struct a x = {\n\t//.writepage = old,\n};\n", HANDOFF) == set()
    assert callgraph.split_args("a, f(b, c), {d, e}") == ["a", "f(b, c)", "{d, e}"]


def tiny_tree(tmp_path):
    return tree_mod.open_tree(make_repo(tmp_path / "t", {
        "fs/lib.c": "int deep(int x)\n{\n\treturn x;\n}\n\n"
                    "int middle(int x)\n{\n\treturn deep(x);\n}\n\n"
                    "static int lonely(int x)\n{\n\treturn x;\n}\n\n"
                    "int pointed(int x)\n{\n\treturn x;\n}\n",
        "fs/a/aops.c": "static int a_writepage(struct page *p)\n{\n\treturn middle(1);\n}\n\n"
                       "const struct address_space_operations a_aops = {\n"
                       "\t.writepage = a_writepage,\n};\n",
        "fs/b/ops.c": "struct ops b_ops = {\n\t.run = pointed,\n};\n",
    }))


def test_backward_search_across_files(tmp_path):
    t = tiny_tree(tmp_path)
    g = callgraph.CallGraph(t, t.rev("HEAD"), HANDOFF)
    deep = g.reach("fs/lib.c", "deep")
    assert deep.reached is True
    assert deep.path == ["fs/a/aops.c:a_writepage", "fs/lib.c:middle", "fs/lib.c:deep"]
    assert "a_writepage() -> middle() -> deep(), hand-off in fs/a/aops.c" in \
        deep.reason(HANDOFF.description)
    lonely = g.reach("fs/lib.c", "lonely")
    assert lonely.reached is False and "(it has no callers)" in lonely.reason("x")
    # Its address is taken in an ops table: who calls it is not known.
    pointed = g.reach("fs/lib.c", "pointed")
    assert pointed.reached is None
    assert pointed.unknown == ["pointed() address taken in fs/b/ops.c:2"]
    assert "callers elsewhere not all known" in pointed.reason("x")


def test_carry_counts_only_calls_that_hand_on_the_folio(tmp_path):
    t = tree_mod.open_tree(make_repo(tmp_path / "t", {
        "fs/lib.c": "int put(struct page *page)\n{\n\treturn 0;\n}\n\n"
                    "int other(struct page *page)\n{\n\treturn 0;\n}\n",
        "fs/a/aops.c": "static int a_writepage(struct page *page,\n"
                       "\t\t       struct writeback_control *wbc)\n{\n"
                       "\tstruct folio *folio = page_folio(page);\n\n"
                       "\tother(NULL);\n\treturn put(&folio->page);\n}\n\n"
                       "const struct address_space_operations a_aops = {\n"
                       "\t.writepage = a_writepage,\n};\n",
    }))
    plain = callgraph.CallGraph(t, t.rev("HEAD"), HANDOFF)
    carry = callgraph.CallGraph(t, t.rev("HEAD"), HANDOFF, carry=True)
    assert plain.reach("fs/lib.c", "other").reached is True
    other = carry.reach("fs/lib.c", "other")
    assert other.reached is False
    assert other.reason("x").startswith("not handed the folio of x anywhere in the tree")
    # &folio->page of a folio made from the page handed over carries it.
    assert carry.reach("fs/lib.c", "put").path == ["fs/a/aops.c:a_writepage", "fs/lib.c:put"]


def test_a_hand_off_defined_in_another_file_is_a_root(tmp_path):
    t = tree_mod.open_tree(make_repo(tmp_path / "t", {
        "fs/n/write.c": "int n_writepage(struct page *page)\n{\n\treturn 0;\n}\n\n"
                        "static int n_helper(struct page *page)\n{\n\treturn 0;\n}\n",
        "fs/n/file.c": "const struct address_space_operations n_aops = {\n"
                       "\t.writepage = n_writepage,\n};\n",
    }))
    g = callgraph.CallGraph(t, t.rev("HEAD"), HANDOFF, carry=True)
    assert g.reach("fs/n/write.c", "n_writepage").reached is True
    assert g.reach("fs/n/write.c", "n_helper").reached is False


def test_every_not_reached_claim_of_the_fixture_series_holds(tmp_path):
    dest = tmp_path / "linux"
    imported(FIXTURE, dest)
    res = krefactor("series", "--recipe", "writeback-void", "--tree", str(dest))
    assert res.returncode == 0, res.stderr
    assert "checked 4 'not reached' claims (4 functions) across the tree" in res.stderr
    t = tree_mod.open_tree(dest)
    g = callgraph.CallGraph(t, t.rev("master"), HANDOFF)
    left = re.findall(r"^  (\S+):\d+ (\w+)\(\): (.*)$", res.stdout, re.M)
    claims = [(f, fn, why) for f, fn, why in left if "reached from" in why]
    assert claims and not any(why == UNREACHED for _, _, why in claims)
    for f, fn, why in claims:
        answer = g.reach(f, fn)
        if why.startswith("not reached") and "anywhere in the tree" in why:
            assert answer.reached is False, (f, fn)
        elif why.startswith("reached from"):
            assert answer.reached is True, (f, fn)
    assert ("fs/buffer.c", "block_write_full") in {(f, fn) for f, fn, why in claims
                                                    if why.startswith("reached from")}
    # The prepare step's claims, unaffected sites included, come from the JSON.
    out = tmp_path / "series.json"
    assert krefactor("series", "--recipe", "writeback-void",
                     "--tree", str(dest), "--branch", "again",
                     "--json", str(out)).returncode == 0
    carry = callgraph.CallGraph(t, t.rev("master"), HANDOFF, carry=True)
    handed = [s for s in json.loads(out.read_text())["sites"]
              if s["reason"].startswith("not handed the folio")]
    assert {s["function"] for s in handed} >= {"trapfs_write_one", "folio_write_one"}
    for s in handed:
        assert s["verdict"] == "unaffected"
        assert carry.reach(s["file"], s["function"]).reached is False, s
