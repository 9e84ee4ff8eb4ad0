import json

from conftest import FIXTURE, git, imported, krefactor, make_repo

from refactor import coverage, ctext, linetrack
from refactor import tree as tree_mod


def test_parse_refs():
    text = ("krefactor-ref:fs/a.c:3:1:call:f:set_page_writeback\n"
            "noise\nkrefactor-ref:bad\n")
    assert coverage.parse_refs(text) == [
        coverage.Ref("fs/a.c", 3, 1, "call", "f", "set_page_writeback")]


def test_ifdef_lines_skip_the_header_guard():
    text = ("#ifndef X_H\n#define X_H\nint a;\n#ifdef CONFIG_Y\nint b;\n#if Z\nint c;\n"
            "#endif\n#endif\nint d;\n#endif\n")
    assert ctext.ifdef_lines(text) == {5, 7}


def test_macro_lines_and_comments():
    text = "#define A(x) \\\n\tf(x)\nint b;\n#define C f\n"
    assert ctext.macro_lines(text) == {1: "A", 2: "A", 4: "C"}
    assert ctext.is_comment(" * set_page_writeback() is", "set_page_writeback")
    assert ctext.is_comment("\tfoo(); /* set_page_writeback */", "set_page_writeback")
    assert not ctext.is_comment("\tset_page_writeback(p); /* x */", "set_page_writeback")


def test_line_tracker_follows_shifts_changes_and_insertions(tmp_path):
    lines = [f"line{i}\n" for i in range(1, 11)]
    repo = make_repo(tmp_path / "r", {"a.c": "".join(lines)})
    t = tree_mod.open_tree(repo)
    base = t.rev("HEAD")
    one = lines[:2] + ["new\n", "new\n"] + lines[2:]               # insert before line 3
    c1 = t.commit(base, {"a.c": "".join(one).encode()}, "one\n", t.identity())
    two = one[:7] + ["changed6\n"] + one[8:]                      # change base line 6
    c2 = t.commit(c1, {"a.c": "".join(two).encode()}, "two\n", t.identity())
    tracker = linetrack.LineTracker(t, [(c1, "one"), (c2, "two")], base)
    assert tracker.follow("a.c", 1) == (1, "", "")
    assert tracker.follow("a.c", 3) == (5, "", c1)
    assert tracker.follow("a.c", 6)[1] == c2
    assert tracker.follow("a.c", 9) == (11, "", "")
    assert tracker.follow("a.c", 9, until=c2) == (11, "", "")
    # Every commit that changes a span of the base, the span moved along.
    assert tracker.touches("a.c", 5, 7) == [c2]
    assert tracker.touches("a.c", 2, 4) == [c1]
    assert tracker.touches("a.c", 1, 7) == [c1, c2]
    assert tracker.touches("a.c", 8, 10) == []
    assert tracker.first_touch("a.c", 5, 7) == c2


def test_fixture_traps_need_review(tmp_path):
    tree = tmp_path / "linux"
    imported(FIXTURE, tree)
    assert krefactor("series", "--recipe", "writeback-void", "--tree", str(tree)).returncode == 0
    res = krefactor("coverage", "--recipe", "writeback-void",
                    "--tree", str(tree), "--json", str(tmp_path / "c.json"),
                    "--strict")
    assert res.returncode == 1, res.stderr
    data = json.loads((tmp_path / "c.json").read_text())
    review = {(s["file"], s["line"]): s for s in data["sites"]
              if s["disposition"] == "NEEDS REVIEW"}
    assert {(f, s["kind"]) for (f, _), s in review.items()} == {
        ("fs/trapfs/inode.c", "macro-body"), ("fs/trapfs/inode.c", "macro-use"),
        ("fs/trapfs/inode.c", "address-taken"),
        ("fs/trapfs/inode.c", "call"), ("fs/trapfs/inode.c", "call-value-used"),
        ("fs/nfs/write.c", "handoff-impl")}
    # Outside a function a site names its macro, or nothing: never spatch's placeholder.
    assert "something_else" not in (tmp_path / "c.json").read_text()
    macro = next(s for s in review.values() if s["kind"] == "macro-body")
    assert macro["function"] == "TRAPFS_START"
    # The macro's use is a site of its own, in the function that uses it.
    use = next(s for s in review.values() if s["kind"] == "macro-use")
    assert (use["line"], use["function"]) == (22, "trapfs_write_one")
    table = next(s for s in review.values() if s["kind"] == "address-taken")
    assert table["function"] == "trapfs_default_ops"     # the initializer it sits in
    ifdefd = review[("fs/trapfs/inode.c", 30)]
    assert "#ifdef" in ifdefd["reason"]
    by = {(s["file"], s["line"]): s for s in data["sites"]}
    assert by[("fs/ext4/page-io.c", 10)]["disposition"] == "left"
    assert by[("fs/loopfs/inode.c", 11)]["reason"].startswith("inside the filesystem's own")
    assert by[("fs/mpage.c", 12)]["commit"].endswith("mpage: do not start writeback in "
                                                     "->writepage()")
    assert by[("mm/vmscan.c", 13)]["disposition"] == "changed"
    assert data["accounted"] == 1 - 6 / len(data["sites"])
    # Every hand-off implementation has a disposition from the prepare step.
    impl = {s["function"]: s for s in data["sites"] if s["kind"] == "handoff-impl"}
    assert set(impl) == {"blkdev_writepage", "afs_writepage", "demofs_writepage",
                         "ext4_writepage", "loopfs_writepage", "__mpage_writepage",
                         "nfs_writepages_callback", "nfs_writepage", "__writepage",
                         "shmem_writepage"}
    # The call path by which the callee starts writeback, from the call graph.
    assert impl["nfs_writepage"]["reason"] == (
        "the folio leaves after nfs_writepage_locked(), which may start writeback on it: "
        "nfs_writepage_locked() -> nfs_page_async_flush() -> nfs_set_page_writeback() -> "
        "set_page_writeback()")
    assert impl["shmem_writepage"]["disposition"] == "prepared"
    assert impl["shmem_writepage"]["commit"].endswith(
        "mm: prepare ->writepage() for a folio already under writeback")
    assert impl["demofs_writepage"]["commit"].endswith(
        "demofs: prepare ->writepage() for a folio already under writeback")
    assert impl["blkdev_writepage"]["disposition"] == "unaffected"
    # Without a series, nothing is accounted for by a recorded reason.
    git(tree, "branch", "-D", "krefactor/writeback-void")
    git(tree, "branch", "empty")
    res = krefactor("coverage", "--recipe", "writeback-void",
                    "--tree", str(tree), "--range", "HEAD..empty")
    assert res.returncode == 0 and "NEEDS REVIEW" in res.stdout


def test_a_hand_off_owns_what_is_left_in_the_helpers_it_calls():
    from refactor.coverage import helpers
    text = ("static int inner(struct page *page)\n{\n\treturn io(page);\n}\n\n"
            "static int single(struct page *page)\n{\n\treturn inner(page) + other(page);\n}\n\n"
            "static int unrelated(struct page *page)\n{\n\treturn 0;\n}\n\n"
            "static int fs_writepage(struct page *page, struct writeback_control *wbc)\n{\n"
            "\treturn single(page);\n}\n")
    funcs = ctext.functions(text)
    root = next(f for f in funcs if f.name == "fs_writepage")
    assert helpers(text, funcs, root) == ["single", "inner"]
