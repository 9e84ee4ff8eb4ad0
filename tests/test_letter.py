"""What the mails say about the sites a series left (letter.py)."""
from __future__ import annotations

from refactor import letter, recipe
from refactor.cocci import Site

REC = recipe.load("writeback-void")
STEPS = {s.name: s for s in REC.steps}
PREPARE, REMOVE = STEPS["06-prepare-writepage"], STEPS["08-remove-fs-start"]
# What the semantic patches print for a site no hand-off reaches in its file.
UNREACHED = "not reached from a ->writepage method or write_cache_pages() callback"


def left(file, line, fn, reason):
    return Site(file, line, 1, "left", fn, reason,
                "unreached" if reason.startswith(UNREACHED) else "")


def test_kinds_follow_the_recipe():
    scanned = left("fs/a.c", 1, "a_write_end", UNREACHED + " in this file; callers elsewhere "
                   "not all known (a_write_end() address taken in fs/a.c:9)")
    review = left("fs/b.c", 2, "b_writepage", "the folio leaves after b_io(), which may "
                  "start writeback on it: b_io() -> set_page_writeback()")
    kept = left("fs/c.c", 3, "c_loop", "inside the filesystem's own writeback loop")
    changed = Site("fs/d.c", 4, 1, "changed", "d", "writeback ended")
    out = letter.classify([(scanned, PREPARE), (review, PREPARE), (kept, REMOVE),
                           (changed, PREPARE)], REC)
    assert [x.kind for x in out] == ["scanned", "review", "kept"]
    # A step without `kept` leaves sites for review.
    assert letter.kind_of(kept, PREPARE, REC) == "review"


def test_category_drops_what_is_particular():
    assert letter.category("the folio leaves after b_io(), which may start writeback on it: "
                           "b_io() -> set_page_writeback()") == \
        "the folio leaves after a call, which may start writeback on it"
    assert letter.category("x_locked() is reachable other than through a ->writepage method "
                           "or write_cache_pages() callback") == \
        "its function is reachable other than through a ->writepage method or " \
        "write_cache_pages() callback"
    assert letter.category("the folio was unlocked before, at line 1930, on a path") == \
        "the folio was unlocked before, at line N, on a path"


def test_cover_counts_and_lists_only_review_up_to_the_limit():
    review = [left("fs/b.c", n, "b_writepage", "the folio leaves after b_io(), which may "
                   "start writeback on it: b_io() -> set_page_writeback()") for n in (7, 5)]
    review += [left(f"fs/r{n}.c", n, "r", "conditional start") for n in range(30)]
    kept = [left("fs/c.c", n, "c_loop", "inside the filesystem's own writeback loop")
            for n in range(3)]
    scanned = [left("fs/a.c", 1, "a_write_end", UNREACHED + " anywhere in the tree")]
    text = letter.left_account(letter.classify(
        [(s, PREPARE) for s in review + scanned] + [(s, REMOVE) for s in kept], REC))
    assert text.startswith("Sites left as they are: 36.\n- 32 need review, listed below;\n")
    assert "- 3 keep the filesystem's own start of writeback" in text
    assert "3 inside the filesystem's own writeback loop;" in " ".join(text.split())
    assert "- 1 in functions the semantic patches looked at and changed nothing in" in text
    assert "Left as they are, for review (32; the first 25):" in text
    # One item per function and reason, its lines together.
    assert "  fs/b.c:5,7 b_writepage(): the folio leaves after" in text
    assert "a_write_end" not in text and "c_loop" not in text
    assert "fs/r22.c" in text and "fs/r23.c" not in text
    assert max(len(line) for line in text.splitlines()) <= 72


def test_all_for_review_needs_no_counts():
    site = left("drivers/x.c", 3, "x", "its return value is used")
    text = letter.left_account(letter.classify([(site, STEPS["01-afs-bug-on-start"])], REC))
    assert text == "Left as they are, for review (1):\n" \
        "  drivers/x.c:3 x(): its return value is used"


def test_commit_message_names_no_scanned_function():
    scanned = left("fs/a.c", 1, "a_write_end", UNREACHED + " anywhere in the tree")
    kept = left("fs/a.c", 8, "a_loop", "conditional start")
    text = letter.commit_left(letter.classify([(scanned, REMOVE), (kept, REMOVE)], REC))
    assert "a_write_end" not in text
    assert text.startswith("Left as they are: keep the filesystem's own start of writeback")
    assert "  fs/a.c:8 a_loop(): conditional start" in text
    assert letter.commit_left(letter.classify([(scanned, PREPARE)], REC)) == ""
