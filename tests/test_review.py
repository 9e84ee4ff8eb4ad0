from refactor import maintainers, review
from refactor.recipe import load

DIFF = """diff --git a/fs/x/a.c b/fs/x/a.c
--- a/fs/x/a.c
+++ b/fs/x/a.c
@@ -1,15 +1,13 @@
 static int x_writepage(struct page *page)
 {
-	BUG_ON(PageWriteback(page));
-	set_page_writeback(page);
+	BUG_ON(!PageWriteback(page));
 	if (err) {
 		redirty_page_for_writepage(wbc, page);
 		end_page_writeback(page);
 	}
 	return 0;
 }
 int x_write_super(struct page *page)
 {
-	set_page_writeback(page);
 	return 0;
 }
diff --git a/include/linux/x.h b/include/linux/x.h
--- a/include/linux/x.h
+++ b/include/linux/x.h
@@ -1,2 +1,2 @@
-bool x_start(struct page *page);
+void x_start(struct page *page);
 void keep(void);
"""


def test_risk_flags():
    # The recipe's own flags ([[flags]] in its recipe.toml), and those of any change.
    flags = review.risk_flags(DIFF, load("writeback-void").flags)
    assert review.risk_flags(DIFF) == [
        "fs/x/a.c: x_writepage(): assertion removed: BUG_ON(PageWriteback(page));",
        "include/linux/x.h: x_start(): signature of x_start() changed",
    ]
    assert flags == [
        "fs/x/a.c: x_writepage(): assertion removed: BUG_ON(PageWriteback(page));",
        "fs/x/a.c: x_writepage(): writeback start removed in a function that also "
        "redirties the page or ends writeback",
        "fs/x/a.c: x_write_super(): writeback start removed in a non-static function: "
        "callers outside the VFS hand-off points may rely on it",
        "include/linux/x.h: x_start(): signature of x_start() changed",
    ]


# The shapes of 6.1's page-flags.h that got flags attributed to the wrong place.
HEADER = """diff --git a/include/linux/page-flags.h b/include/linux/page-flags.h
--- a/include/linux/page-flags.h
+++ b/include/linux/page-flags.h
@@ -10,9 +10,4 @@ static inline void set_page_writeback_keepwrite(struct page *page)
 	folio_start_writeback_keepwrite(page_folio(page));
 }
 
-static inline bool test_set_page_writeback(struct page *page)
-{
-	return set_page_writeback(page);
-}
-
 static __always_inline bool folio_test_head(struct folio *folio)
@@ -30,6 +25,6 @@ static inline void SetPageUptodate(struct page *page)
 	folio_mark_uptodate((struct folio *)page);
 }
 
-bool __folio_start_writeback(struct folio *folio, bool keep_write);
-bool set_page_writeback(struct page *page);
+void __folio_start_writeback(struct folio *folio, bool keep_write);
+void set_page_writeback(struct page *page);
 
"""


def test_flags_name_the_declaration_they_are_in():
    assert review.risk_flags(HEADER) == [
        "include/linux/page-flags.h: __folio_start_writeback(): signature of "
        "__folio_start_writeback() changed",
        "include/linux/page-flags.h: set_page_writeback(): signature of "
        "set_page_writeback() changed",
    ]


def test_parse_checkpatch():
    out = ("-:12: WARNING:LONG_LINE: line length of 101 exceeds 100 columns\n"
           "-:20: ERROR:SPACING: space required after that ','\n")
    findings, summary = review.parse_checkpatch(out)
    assert len(findings) == 2 and summary == "1 errors, 1 warnings, 0 checks"
    assert review.parse_checkpatch("") == ([], "clean")


MAINTAINERS = """List of maintainers
-------------------

Descriptions of section entries and preferred order
	M: *Mail* patches to: FullName <address@domain>

AFS FILESYSTEM
M:	David Example <dave@example.org>
L:	linux-afs@example.org (moderated for non-subscribers)
S:	Supported
F:	fs/afs/
X:	fs/afs/proc.c

MEMORY MANAGEMENT
M:	Ann Example <ann@example.org>
R:	Rev Example <rev@example.org>
L:	linux-mm@example.org
S:	Maintained
F:	include/linux/page-flags.h
F:	mm/*.c
N:	writeback

THE REST
M:	Linus Torvalds <torvalds@linux-foundation.org>
L:	linux-kernel@vger.kernel.org
S:	Buried alive in reporters
F:	*
F:	*/
"""


def test_maintainers_parse_and_match():
    secs = maintainers.parse_maintainers(MAINTAINERS)
    assert [s.title for s in secs] == ["AFS FILESYSTEM", "MEMORY MANAGEMENT", "THE REST"]
    afs = secs[0]
    assert afs.matches("fs/afs/write.c") and not afs.matches("fs/afs/proc.c")
    mm = secs[1]
    assert mm.matches("mm/vmscan.c") and not mm.matches("mm/damon/core.c")
    assert mm.matches("fs/fs-writeback.c")          # N: regex
    r = maintainers.recipients(secs, ["fs/afs/write.c", "mm/vmscan.c"])
    assert r.to == ("dave@example.org", "ann@example.org", "rev@example.org")
    assert r.cc == ("linux-afs@example.org", "linux-mm@example.org",
                    "linux-kernel@vger.kernel.org")
    assert r.subsystems == ("AFS FILESYSTEM", "MEMORY MANAGEMENT", "THE REST")


def test_runtime_flags_fire_on_the_vfs_commit_only_when_unprepared(tmp_path):
    import json

    from conftest import FIXTURE, imported, krefactor, unprepared_recipe
    dest = tmp_path / "linux"
    imported(FIXTURE, dest)
    assert krefactor("series", "--recipe", "writeback-void", "--tree", str(dest)).returncode == 0
    old = unprepared_recipe(tmp_path / "no-prepare")
    assert krefactor("series", "--tree", str(dest), "--recipe", str(old),
                     "--branch", "unprepared").returncode == 0

    def flags(rng):
        out = tmp_path / "r.json"
        res = krefactor("review", "--tree", str(dest), "--recipe", "writeback-void",
                        "--range", rng, "--json", str(out))
        assert res.returncode == 0, res.stderr
        return [(c["subject"], f) for c in json.loads(out.read_text())["commits"]
                for f in c["flags"] if f.startswith("runtime:")]

    vfs = "mm: start writeback before handing a folio to ->writepage()"
    # The prepared series: nothing breaks, and the exit the prepare step left
    # is put before the user on the commit that starts writeback, with the call
    # path as the range's base has it (nfs still tests the start there).
    review_flag = (vfs, "runtime: NEEDS REVIEW: fs/nfs/write.c:46 nfs_writepage(): a "
                   "->writepage method or write_cache_pages() callback hands it a folio this "
                   "commit starts writeback on, and this exit was left: the folio leaves "
                   "after nfs_writepage_locked(), which may start writeback on it: "
                   "nfs_writepage_locked() -> nfs_page_async_flush() -> "
                   "nfs_set_page_writeback() -> test_set_page_writeback()")
    assert flags("master..krefactor/writeback-void") == [review_flag]
    found = flags("master..unprepared")
    assert {s for s, _ in found} == {vfs}
    assert review_flag in found
    text = "\n".join(f for _, f in found if "NEEDS REVIEW" not in f)
    # Across files: block/fops.c's ->writepage hands the folio to fs/buffer.c.
    assert "fs/buffer.c:17 block_write_full(): asserts that writeback is not set" in text
    assert "fs/buffer.c:14 block_write_full(): the folio leaves without I/O" in text
    assert "fs/demofs/inode.c:25 demofs_writepage(): the folio leaves without I/O" in text
    assert "mm/shmem.c:19 shmem_writepage(): the folio moves to another mapping" in text
    assert "fs/mpage.c:11 __mpage_writepage(): asserts" in text
    # nfs_writepage() unlocks after a helper that may start I/O: not a certain
    # breakage, so only the NEEDS REVIEW flag above names it.
    assert "nfs_writepage()" not in text


def test_summary_table_one_row_per_subsystem():
    from refactor import report
    r = review.ReviewResult("b", "t", [
        review.CommitReview("1", "net: foo: replace x", to=["a@x"], cc=["l@x"],
                            checkpatch_summary="clean"),
        review.CommitReview("2", "net: foo: replace y", to=["b@x"], cc=["l@x"],
                            checkpatch_summary="0 errors, 1 warnings, 0 checks"),
        review.CommitReview("3", "arm: replace x", to=["c@x"], cc=[],
                            checkpatch_summary="clean")])
    rows = report.summary_table(r)
    assert rows[1].split() == ["net:", "foo", "2", "a@x", "+1", "l@x", "1/2", "findings"]
    assert rows[2].split() == ["arm", "1", "c@x", "-", "clean"]
    assert all(len(line) <= 80 for line in rows)


def test_findings_the_replaced_lines_had_are_marked_inherited():
    new = ["-:34: CHECK:SPACING: spaces preferred around that '+' (ctx:VxV)",
           "-:40: CHECK:SPACING: spaces preferred around that '+' (ctx:VxV)",
           "-:52: WARNING:LONG_LINE: line length of 101 exceeds 100 columns"]
    # The reversed diff had one of the two spacing findings, and no long line.
    old = ["-:12: CHECK:SPACING: spaces preferred around that '+' (ctx:VxV)"]
    marked = review.mark_inherited(new, old)
    assert marked == [review.INHERITED + new[0], new[1], new[2]]
    assert review.summarize(marked) == "0 errors, 1 warnings, 2 checks (1 inherited)"
