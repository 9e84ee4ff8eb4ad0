from dataclasses import replace

import pytest
from conftest import slow_cocci

from refactor import cocci, reach
from refactor.errors import KrefactorError
from refactor.recipe import BUILTIN

STEPS = BUILTIN / "writeback-void"


def defs(reached: str, inert: str = "-", always: str = "-",
         starters: str = "-") -> dict[str, str]:
    """The -D values krefactor gives 06-prepare-writepage.cocci."""
    return {"reached": reached, "inert": inert, "always": always, "starters": starters}


def test_parse_sites_reads_only_tagged_lines():
    text = ("--- a/x.c\n"
            "krefactor-site:fs/a/b.c:12:1:left:fn:conditional start\n"
            "krefactor-site:fs/a/c.c:3:2:removed:g:\n"
            "krefactor-site:broken\n")
    assert cocci.parse_sites(text) == [
        cocci.Site("fs/a/b.c", 12, 1, "left", "fn", "conditional start"),
        cocci.Site("fs/a/c.c", 3, 2, "removed", "g", ""),
    ]


def test_parse_sites_keeps_colons_in_reason():
    [s] = cocci.parse_sites("krefactor-site:f.c:1:1:left:fn:why: because\n")
    assert s.reason == "why: because"


AFS = """static void f(struct folio *folio)
{
	if (folio_start_writeback(folio))
		BUG();
	folio_unlock(folio);
}
"""


def test_real_spatch_rewrites_the_afs_shape(tmp_path):
    [r] = cocci.run(STEPS / "01-afs-bug-on-start.cocci", {"fs/afs/write.c": AFS.encode()},
                    git_dir=tmp_path, jobs=1)
    assert r.error is None and r.changed
    assert b"\tfolio_start_writeback(folio);\n\tfolio_unlock" in r.after
    assert b"BUG()" not in r.after


def test_step_that_matches_nothing_changes_nothing(tmp_path):
    src = b"int f(void)\n{\n\treturn 0;\n}\n"
    [r] = cocci.run(STEPS / "01-afs-bug-on-start.cocci", {"x.c": src}, git_dir=tmp_path, jobs=1)
    assert not r.changed and r.sites == ()


def test_syntax_error_shows_spatch_message(tmp_path):
    bad = tmp_path / "bad.cocci"
    bad.write_text("@@\nexpression E;\n@@\n- foo(E\n")
    with pytest.raises(KrefactorError, match=r"bad.cocci does not parse: .*"):
        cocci.run(bad, {"x.c": b"int x;\n"}, git_dir=tmp_path)


LOOP = """static int w(struct page **pages, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		set_page_writeback(pages[i]);
	}
	return 0;
}

static int wp(struct page *page, struct writeback_control *wbc)
{
	return w(&page, 1);
}

static int helper(struct page *page)
{
	BUG_ON(PageWriteback(page));
	set_page_writeback(page);
	return 0;
}

static int wp2(struct page *page, struct writeback_control *wbc)
{
	return helper(page);
}

const struct address_space_operations a = { .writepage = wp, };
const struct address_space_operations b = { .writepage = wp2, };
"""


def test_remove_step_leaves_loops_and_turns_the_assertion(tmp_path):
    [r] = cocci.run(STEPS / "08-remove-fs-start.cocci", {"fs/x/a.c": LOOP.encode()},
                    git_dir=tmp_path, jobs=1)
    verdicts = {(s.function, s.verdict) for s in r.sites}
    assert verdicts == {("w", "left"), ("helper", "removed")}
    assert b"set_page_writeback(pages[i]);" in r.after
    assert b"BUG_ON(!PageWriteback(page));\n\treturn 0;" in r.after


SLOW = slow_cocci(3)


def test_a_file_that_times_out_is_reported_not_raised(tmp_path):
    slow = tmp_path / "slow.cocci"
    slow.write_text(SLOW)
    files = {"a.c": b"void g(void)\n{\n\ta();\n\tb();\n\tc();\n}\n",
             "b.c": b"int x;\n"}
    results = cocci.run(slow, files, git_dir=tmp_path, jobs=2, timeout=1)
    by = {r.path: r for r in results}
    assert by["a.c"].error == "spatch timed out after 1s on a.c"
    assert not by["a.c"].changed
    assert by["b.c"].error is None


PREPARE = """static int helper(struct page *page)
{
	BUG_ON(PageWriteback(page));
	set_page_writeback(page);
	unlock_page(page);
	return submit(page);
}

static int fs_writepage(struct page *page, struct writeback_control *wbc)
{
	struct folio *folio = page_folio(page);

	if (wbc->sync_mode == WB_SYNC_NONE && congested(page->mapping->host)) {
		folio_redirty_for_writepage(wbc, folio);
		folio_unlock(folio);
		return 0;
	}
	if (wbc->for_reclaim)
		return AOP_WRITEPAGE_ACTIVATE;
	return helper(page);
}

static int fs_writepage_after_call(struct page *page, struct writeback_control *wbc)
{
	int ret = fs_write_locked(page, wbc);

	unlock_page(page);
	return ret;
}

static int fs_write_super(struct page *page)
{
	BUG_ON(PageWriteback(page));
	set_page_writeback(page);
	if (nothing_to_do)
		unlock_page(page);
	return 0;
}

static int fs_journalled_writepage(struct page *page)
{
	if (inline_data && !fs_copy_inline(page))
		goto out;
	get_page(page);
	unlock_page(page);
	handle = fs_journal_start();
	lock_page(page);
	put_page(page);
	fs_journal_stop(handle);
out:
	unlock_page(page);
	return 0;
}

static int fs_write_data_page(struct page *page, struct writeback_control *wbc)
{
	struct fs_io_info fio = {
		.type = DATA,
		.page = page,
	};
	int err = fs_do_write_data_page(&fio);

	unlock_page(page);
	return err;
}
"""


def prepare(tmp_path, reached, inert="-"):
    [r] = cocci.run(STEPS / "06-prepare-writepage.cocci", {"fs/x/a.c": PREPARE.encode()},
                    git_dir=tmp_path, jobs=1, defines=defs(reached, inert))
    assert r.error is None, r.error
    return r


def test_prepare_lists_candidates_without_changing_anything(tmp_path):
    r = prepare(tmp_path, "?")
    assert not r.changed
    assert {s.function for s in r.sites if s.verdict == "candidate"} == {
        "helper", "fs_writepage", "fs_writepage_after_call", "fs_write_super",
        "fs_journalled_writepage", "fs_write_data_page"}
    # The calls that take the folio before an exit, for series to ask the call graph.
    assert sorted((s.function, s.line, s.reason) for s in r.sites if s.verdict == "callee") == [
        ("fs_journalled_writepage", 45, "fs_copy_inline"),
        ("fs_journalled_writepage", 51, "fs_copy_inline"),
        ("fs_write_data_page", 63, "fs_do_write_data_page"),
        ("fs_writepage_after_call", 27, "fs_write_locked")]


def test_prepare_ends_writeback_after_a_call_the_call_graph_clears(tmp_path):
    r = prepare(tmp_path, "fs/x/a.c:fs_writepage_after_call",
                inert="fs/x/a.c:fs_write_locked")
    assert ("\tint ret = fs_write_locked(page, wbc);\n\n"
            "\tif (PageWriteback(page))\n\t\tend_page_writeback(page);\n"
            "\tunlock_page(page);") in r.after.decode()
    assert [s.verdict for s in r.sites if s.function == "fs_writepage_after_call"] == \
        ["changed"]


def test_prepare_leaves_an_exit_after_the_folio_was_unlocked_and_locked_again(tmp_path):
    r = prepare(tmp_path, "fs/x/a.c:fs_journalled_writepage",
                inert="fs/x/a.c:fs_copy_inline")
    after = r.after.decode()
    # The first unlock hands the folio on without I/O: writeback ends there.
    assert ("\tget_page(page);\n\tif (PageWriteback(page))\n\t\tend_page_writeback(page);\n"
            "\tunlock_page(page);") in after
    # After the relock, writeback may be another writer's: not ended.
    assert after.count("end_page_writeback") == 1
    [left] = [s for s in r.sites if s.verdict == "left" and
              s.function == "fs_journalled_writepage"]
    assert (left.line, left.reason) == (51, "the folio was unlocked before, at line 45, on a "
                                            "path to here; locked again, its writeback may be "
                                            "another writer's")


def test_prepare_changes_only_reached_functions(tmp_path):
    r = prepare(tmp_path, "fs/x/a.c:helper,fs/x/a.c:fs_writepage,"
                          "fs/x/a.c:fs_writepage_after_call")
    after = r.after.decode()
    # The guard of the function's own start goes; fs_write_super, not reached, keeps it.
    assert after.count("BUG_ON(PageWriteback(page));") == 1
    assert after.index("BUG_ON(PageWriteback(page));") > after.index("fs_write_super")
    # The redirty path and the locked return end writeback; the path into helper() does not.
    assert ("folio_redirty_for_writepage(wbc, folio);\n"
            "\t\tif (folio_test_writeback(folio))\n"
            "\t\t\tfolio_end_writeback(folio);\n"
            "\t\tfolio_unlock(folio);") in after
    assert ("\t\tif (folio_test_writeback(folio))\n\t\t\tfolio_end_writeback(folio);\n"
            "\t\treturn AOP_WRITEPAGE_ACTIVATE;") in after
    assert after.count("end_writeback") == 2 and "end_page_writeback" not in after
    # An unlock after a call that may have started writeback is left, named.
    [left] = [s for s in r.sites if s.verdict == "left" and
              s.function == "fs_writepage_after_call"]
    assert "fs_write_locked()" in left.reason
    # Sites not reached are left with the reason series checks tree-wide.
    assert {s.reason for s in r.sites if s.function == "fs_write_super"} == {
        "not reached from a ->writepage method or write_cache_pages() callback"}
    assert {s.function for s in r.sites if s.verdict == "changed"} == {"helper", "fs_writepage"}


def test_prepare_is_idempotent(tmp_path):
    reached = "fs/x/a.c:helper,fs/x/a.c:fs_writepage"
    once = prepare(tmp_path, reached).after
    [again] = cocci.run(STEPS / "06-prepare-writepage.cocci", {"fs/x/a.c": once},
                        git_dir=tmp_path, jobs=1, defines=defs(reached))
    assert not again.changed


SYNC = """static int fs_sync_locked(struct page *page, struct writeback_control *wbc)
{
	int rc;

	set_page_writeback(page);
retry:
	rc = fs_send(page);
	if (rc == -EAGAIN && wbc->sync_mode == WB_SYNC_ALL)
		goto retry;
	if (rc)
		redirty_page_for_writepage(wbc, page);
	end_page_writeback(page);
	return rc;
}

static int fs_sync_writepage(struct page *page, struct writeback_control *wbc)
{
	int rc = fs_sync_locked(page, wbc);

	unlock_page(page);
	return rc;
}

static int fs_maybe_locked(struct page *page)
{
	if (!page->mapping)
		return 0;
	set_page_writeback(page);
	return fs_send(page);
}

static int fs_maybe_writepage(struct page *page, struct writeback_control *wbc)
{
	int rc = fs_maybe_locked(page);

	unlock_page(page);
	return rc;
}
"""


def test_a_call_that_starts_writeback_on_every_path_counts_as_a_start(tmp_path):
    reached = ",".join(f"fs/x/s.c:{f}" for f in ("fs_sync_locked", "fs_sync_writepage",
                                                  "fs_maybe_locked", "fs_maybe_writepage"))
    [listing] = cocci.run(STEPS / "06-prepare-writepage.cocci", {"fs/x/s.c": SYNC.encode()},
                          git_dir=tmp_path, jobs=1, defines=defs("?"))
    # fs_sync_locked() starts writeback before its retry loop and ends it on
    # every way out: its caller's exit is not a question for the call graph.
    assert [(s.function, s.reason) for s in listing.sites if s.verdict == "callee"] == [
        ("fs_maybe_writepage", "fs_maybe_locked")]
    [r] = cocci.run(STEPS / "06-prepare-writepage.cocci", {"fs/x/s.c": SYNC.encode()},
                    git_dir=tmp_path, jobs=1, defines=defs(reached))
    # Nothing to do in or after fs_sync_locked(); fs_maybe_locked() returns
    # before its start when the page lost its mapping, and ends writeback there.
    assert [(s.function, s.verdict) for s in r.sites] == [("fs_maybe_locked", "changed")]
    [unchanged] = cocci.run(STEPS / "06-prepare-writepage.cocci",
                            {"fs/x/s.c": SYNC.split("static int fs_maybe_locked")[0].encode()},
                            git_dir=tmp_path, jobs=1,
                            defines=defs(reached))
    assert not unchanged.changed and not unchanged.sites


EARLY = """static int fs_send_locked(struct folio *folio)
{
	loff_t start = folio_pos(folio);

	if (start >= fs_size(folio))
		return 0;
	fs_wait_cache(folio);
	folio_start_writeback(folio);
	fs_send(folio);
	folio_end_writeback(folio);
	return fs_err;
}

static int fs_send_writepage(struct page *page, struct writeback_control *wbc)
{
	struct folio *folio = page_folio(page);
	int rc = fs_send_locked(folio);

	folio_unlock(folio);
	return rc;
}

static int fs_flush(struct page *page)
{
	int ret = 0;

	if (!fs_lookup(page))
		goto out;
	set_page_writeback(page);
	ret = fs_send(page);
out:
	return ret;
}

static int fs_flush_writepage(struct page *page, struct writeback_control *wbc)
{
	int rc = fs_flush(page);

	unlock_page(page);
	return rc;
}
"""


def test_a_callee_returning_before_its_own_start_ends_writeback_there(tmp_path):
    src = {"fs/x/e.c": EARLY.encode()}
    [listing] = cocci.run(STEPS / "06-prepare-writepage.cocci", src, git_dir=tmp_path,
                          jobs=1, defines=defs("?"))
    # The early return is a candidate; the calls before it go to the call graph.
    assert ("fs_send_locked", 6) in {(s.function, s.line) for s in listing.sites
                                     if s.verdict == "candidate"}
    assert {(s.function, s.line, s.reason) for s in listing.sites if s.verdict == "callee"} \
        >= {("fs_send_locked", 6, "fs_size"), ("fs_send_writepage", 19, "fs_send_locked")}
    reached = ",".join(f"fs/x/e.c:{f}" for f in ("fs_send_locked", "fs_send_writepage",
                                                  "fs_flush", "fs_flush_writepage"))
    [r] = cocci.run(STEPS / "06-prepare-writepage.cocci", src, git_dir=tmp_path, jobs=1,
                    defines=defs(reached, "fs/x/e.c:fs_size"))
    after = r.after.decode()
    assert ("\tif (start >= fs_size(folio)) {\n\t\tif (folio_test_writeback(folio))\n"
            "\t\t\tfolio_end_writeback(folio);\n\t\treturn 0;\n\t}") in after
    assert after.count("end_writeback") == 2
    sites = [(s.function, s.verdict, s.reason) for s in r.sites]
    assert ("fs_send_locked", "changed", "writeback ended where the function returns before "
            "it starts writeback itself") in sites
    # Its caller's exit is settled: fs_send_locked() starts or ends writeback
    # on each way out. fs_flush()'s return is reached with and without its
    # start (goto out), so nothing can be ended there, and its caller's exit
    # stays a question.
    assert [f for f, v, _ in sites if v == "left"] == ["fs_flush_writepage"]
    # Run again on its own output (review does so on the VFS commit's tree),
    # without the call graph's verdicts: nothing more to change or to leave.
    [again] = cocci.run(STEPS / "06-prepare-writepage.cocci", {"fs/x/e.c": r.after},
                        git_dir=tmp_path,
                        jobs=1, defines=defs(reached))
    assert not again.changed
    assert [s.function for s in again.sites if s.verdict == "left"] == ["fs_flush_writepage"]


FALLBACK = """int fs_page_io(struct page *page, int x)
{
	if (!x)
		return -EOPNOTSUPP;
	set_page_writeback(page);
	return fs_send(page);
}

static int fs_try_io(struct page *page)
{
	if (!fs_ready(page))
		return -EAGAIN;
	set_page_writeback(page);
	return fs_send(page);
}

static int fs_swap_out(struct page *page, struct writeback_control *wbc)
{
	if (fs_remote)
		return fs_swap_remote(page, wbc);
	if (!fs_try_io(page))
		return 0;
	if (!fs_page_io(page, 1))
		return 0;
	set_page_writeback(page);
	unlock_page(page);
	fs_submit_bio(page);
	return 0;
}
"""


def test_no_early_return_is_prepared_where_the_caller_falls_back_to_its_own_io(tmp_path):
    reached = ",".join(f"fs/x/f.c:{f}" for f in ("fs_page_io", "fs_try_io", "fs_swap_out"))
    [r] = cocci.run(STEPS / "06-prepare-writepage.cocci", {"fs/x/f.c": FALLBACK.encode()},
                    git_dir=tmp_path, jobs=1,
                    defines=defs(reached, "fs/x/f.c:fs_ready"))
    # fs_page_io() is not static: callers elsewhere are unknown. fs_try_io()'s
    # caller starts writeback itself when it returns early. fs_swap_out()
    # hands the folio on in its first return.
    assert not r.changed, r.after.decode()
    # Its own returns after those calls are ways out it cannot settle: left, named.
    assert [(s.function, s.line, s.verdict, s.reason) for s in r.sites] == [
        ("fs_swap_out", 22, "left", "the folio leaves after fs_try_io(), which may have "
                                    "started writeback"),
        ("fs_swap_out", 24, "left", "the folio leaves after fs_try_io(), fs_page_io(), which "
                                    "may have started writeback")]


NOUNLOCK = """static int fs_nounlock(struct page *page, struct writeback_control *wbc)
{
	struct folio *folio = page_folio(page);

	if (fs_shutdown)
		return -EIO;
	set_page_writeback(page);
	fs_send(page);
	return 0;
}

static int fs_nounlock_writepage(struct page *page, struct writeback_control *wbc)
{
	int err = fs_nounlock(page, wbc);

	unlock_page(page);
	return err;
}
"""


def test_an_early_return_ends_writeback_on_what_the_function_starts_it_on(tmp_path):
    """ceph's writepage_nounlock() starts writeback on the page and has a folio
    made from it: the end goes on the page, so that a second run (review's, on
    the VFS commit's tree) sees the end and leaves nothing to review."""
    reached = "fs/x/n.c:fs_nounlock,fs/x/n.c:fs_nounlock_writepage"
    [r] = cocci.run(STEPS / "06-prepare-writepage.cocci", {"fs/x/n.c": NOUNLOCK.encode()},
                    git_dir=tmp_path, jobs=1, defines=defs(reached))
    assert ("\tif (fs_shutdown) {\n\t\tif (PageWriteback(page))\n"
            "\t\t\tend_page_writeback(page);\n\t\treturn -EIO;\n\t}") in r.after.decode()
    [again] = cocci.run(STEPS / "06-prepare-writepage.cocci", {"fs/x/n.c": r.after},
                        git_dir=tmp_path, jobs=1, defines=defs(reached))
    assert not again.changed and not [s for s in again.sites if s.verdict == "left"]


# Written here, in the shape of a segment constructor's "begin I/O" helper.
BEGIN_IO = """static void seg_begin_io(struct page *page)
{
\tif (!page || PageWriteback(page))
\t\treturn;
\tlock_page(page);
\tclear_page_dirty_for_io(page);
\tset_page_writeback(page);
\tunlock_page(page);
}

static void other(struct page *page)
{
\tif (!page || PageWriteback(page))
\t\treturn;
\tput_page(page);
}
"""


def test_nilfs_begin_io_reads_the_flag_unlocked_only_for_node_pages(tmp_path):
    [r] = cocci.run(STEPS / "06-nilfs-begin-page-io.cocci", {"fs/nilfs2/s.c": BEGIN_IO.encode()},
                    git_dir=tmp_path, jobs=1)
    after = r.after.decode()
    assert "if (!page || (buffer_nilfs_node(page_buffers(page)) && PageWriteback(page)))" \
        in after
    # Only where the page is locked next: other() keeps its test.
    assert after.count("PageWriteback(page)") == 2 and after.count("buffer_nilfs_node") == 1


# Written here, in the shape of a filesystem writer that hands its page to
# f2fs_do_write_data_page() in a struct f2fs_io_info, and of that function.
DATA_WRITER = """int fs_write_one(struct page *page, struct writeback_control *wbc)
{
\tstruct inode *inode = page->mapping->host;
\tint err = 0;
\tstruct f2fs_io_info fio = {
\t\t.ino = inode->i_ino,
\t\t.page = page,
\t};

\tif (fs_broken(inode))
\t\tgoto out;
\tif (fs_recovering(inode))
\t\tgoto redirty_out;
\terr = f2fs_do_write_data_page(&fio);
\tif (err && err != -ENOENT)
\t\tgoto redirty_out;
out:
\tinode_dec_dirty_pages(inode);
\tunlock_page(page);
\treturn 0;
redirty_out:
\tredirty_page_for_writepage(wbc, page);
\treturn AOP_WRITEPAGE_ACTIVATE;
}

int f2fs_do_write_data_page(struct f2fs_io_info *fio)
{
\tstruct page *page = fio->page;

\tif (fio->old_blkaddr == NULL_ADDR) {
\t\tClearPageUptodate(page);
\t\tgoto out;
\t}
\tset_page_writeback(page);
\tfs_submit(fio);
out:
\treturn 0;
}

static int other_writepage(struct page *page, struct writeback_control *wbc)
{
\tif (fs_busy(page))
\t\tgoto out;
\tredirty_page_for_writepage(wbc, page);
\treturn AOP_WRITEPAGE_ACTIVATE;
out:
\tunlock_page(page);
\treturn 0;
}
"""

END = "if (PageWriteback(page))\n\t\tend_page_writeback(page);"


def test_f2fs_step_ends_writeback_only_where_the_page_leaves_without_io(tmp_path):
    [r] = cocci.run(STEPS / "06-f2fs-end-writeback.cocci", {"fs/f2fs/d.c": DATA_WRITER.encode()},
                    git_dir=tmp_path, jobs=1)
    writer, callee, other = r.after.decode().split("\n}\n")[:3]
    # Before the jump to the exit that drops the dirty count ...
    assert "if (fs_broken(inode)) {\n\t\t" + END.replace("\n\t\t", "\n\t\t\t") \
        + "\n\t\tgoto out;\n\t}" in writer
    # ... after the redirty, and for -ENOENT, but not before the jump to the
    # redirty exit, which ends it itself.
    assert writer.count("end_page_writeback(page)") == 3
    assert "redirty_page_for_writepage(wbc, page);\n\t" + END in writer
    assert "goto redirty_out;\n\tif (err && PageWriteback(page))" in writer
    assert "fs_recovering(inode))\n\t\tgoto redirty_out;" in writer
    # The truncated page in the callee; not its write, which starts writeback.
    assert callee.count("end_page_writeback(page)") == 1
    assert "ClearPageUptodate(page);\n\t\t" + END.replace("\n\t\t", "\n\t\t\t") in callee
    # A function that does not hand the page to the writer is left alone.
    assert "end_page_writeback" not in other


# Written here, in the shape of a network filesystem's flush of one page:
# find its request, start writeback, queue the request.
FLUSH = """static int fs_flush_one(struct page *page, struct writeback_control *wbc)
{
\tstruct nfs_page *req;
\tint ret = 0;

\treq = nfs_lock_and_join_requests(page);
\tif (!req)
\t\tgoto out;
\tret = PTR_ERR(req);
\tif (IS_ERR(req))
\t\tgoto out;

\tnfs_set_page_writeback(page);
\tif (fs_fatal(req))
\t\tgoto out_error;
\tfs_queue(req);
out:
\treturn ret;
out_error:
\tfs_error(req);
\treturn 0;
}
"""


def test_nfs_step_ends_writeback_only_before_the_filesystems_start(tmp_path):
    [r] = cocci.run(STEPS / "06-nfs-end-writeback.cocci", {"fs/nfs/w.c": FLUSH.encode()},
                    git_dir=tmp_path, jobs=1)
    after = r.after.decode()
    end = "\t\tif (PageWriteback(page))\n\t\t\tend_page_writeback(page);\n\t\tgoto out;\n\t}"
    assert "if (!req) {\n" + end in after
    assert "if (IS_ERR(req)) {\n" + end in after
    # After the start, the jump to the error exit is the filesystem's own.
    assert after.count("end_page_writeback") == 2
    assert "if (fs_fatal(req))\n\t\tgoto out_error;" in after


# Written here: a ->writepage method that hands its page to a helper of
# another file, then unlocks it.
HANDS_ON = """static int fs_meta_writepage(struct page *page, struct writeback_control *wbc)
{
\tfs_meta_submit(fs_info(page), page, 0);
\tunlock_page(page);
\treturn 0;
}

static const struct address_space_operations fs_meta_aops = {
\t.writepage = fs_meta_writepage,
};
"""


def test_an_exit_after_a_callee_that_starts_on_every_path_is_settled(tmp_path):
    src = {"fs/x/m.c": HANDS_ON.encode()}
    reached = "fs/x/m.c:fs_meta_writepage"
    [asked] = cocci.run(STEPS / "06-prepare-writepage.cocci", src, git_dir=tmp_path, jobs=1,
                        defines=defs(reached))
    assert [(s.verdict, s.kind) for s in asked.sites] == [("left", "after-call")]
    # always.py found that fs_meta_submit() starts writeback on every path:
    # the page leaves with its I/O, and nothing is to change or to ask.
    [told] = cocci.run(STEPS / "06-prepare-writepage.cocci", src, git_dir=tmp_path, jobs=1,
                       defines=defs(reached, always="fs/x/m.c:fs_meta_submit"))
    assert not told.changed and not told.sites


def spatch_runs(monkeypatch) -> list[list[str]]:
    """Every spatch that cocci.run starts on a file, recorded (and still run)."""
    started: list[list[str]] = []
    real = cocci.proc.run

    def run(cmd, *a, **kw):
        if cmd[0] == "spatch" and "--in-place" in cmd:
            started.append(cmd)
        return real(cmd, *a, **kw)

    monkeypatch.setattr(cocci.proc, "run", run)
    return started


def test_a_file_spatch_has_seen_with_the_same_inputs_is_not_run_again(tmp_path, monkeypatch):
    started = spatch_runs(monkeypatch)
    sp = STEPS / "01-afs-bug-on-start.cocci"
    files = {"fs/afs/write.c": AFS.encode(), "x.c": b"int f(void)\n{\n\treturn 0;\n}\n"}
    first = cocci.run(sp, files, git_dir=tmp_path, jobs=1)
    assert len(started) == 2
    again = cocci.run(sp, files, git_dir=tmp_path, jobs=1, timeout=30)
    assert again == first and len(started) == 2       # the timeout is not an input
    # A changed byte, another -D value, another semantic patch: run again.
    cocci.run(sp, {"x.c": files["x.c"] + b"\n"}, git_dir=tmp_path, jobs=1)
    cocci.run(sp, {"x.c": files["x.c"]}, git_dir=tmp_path, jobs=1, defines={"a": "1"})
    cocci.run(STEPS / "03-remove-test-set.cocci", {"x.c": files["x.c"]}, git_dir=tmp_path,
              jobs=1)
    assert len(started) == 5
    # Sites come back from the kept output as they came from spatch.
    prep = STEPS / "06-prepare-writepage.cocci"
    [r] = cocci.run(prep, {"fs/x/a.c": PREPARE.encode()}, git_dir=tmp_path, jobs=1,
                    defines=defs("fs/x/a.c:fs_writepage,fs/x/a.c:helper"))
    [k] = cocci.run(prep, {"fs/x/a.c": PREPARE.encode()}, git_dir=tmp_path, jobs=1,
                    defines=defs("fs/x/a.c:fs_writepage,fs/x/a.c:helper"))
    assert len(started) == 6 and k == r and r.sites and r.changed


def test_a_run_that_failed_is_not_kept(tmp_path, monkeypatch):
    sp = STEPS / "01-afs-bug-on-start.cocci"
    files = {"x.c": AFS.encode()}
    real = cocci.proc.run

    def failing(cmd, *a, **kw):
        res = real(cmd, *a, **kw)
        if cmd[0] == "spatch" and "--in-place" in cmd:
            res.returncode, res.stderr = 1, b"spatch: out of memory\n"
        return res

    monkeypatch.setattr(cocci.proc, "run", failing)
    [r] = cocci.run(sp, files, git_dir=tmp_path, jobs=1)
    assert r.error and "out of memory" in r.error
    monkeypatch.undo()
    started = spatch_runs(monkeypatch)
    [r] = cocci.run(sp, files, git_dir=tmp_path, jobs=1)
    assert r.error is None and r.changed and len(started) == 1


def test_patch_mode_leaves_a_file_with_no_reached_candidate_as_reach_writes_it(tmp_path):
    """The reach step's contract, which lets series skip the second spatch
    run of such a file: unchanged, each listed candidate left/unreached."""
    sp = STEPS / "06-prepare-writepage.cocci"
    files = {"fs/x/a.c": PREPARE.encode()}
    [listed] = cocci.run(sp, files, git_dir=tmp_path, jobs=1, mode="report", defines=defs("?"))
    assert len([s for s in listed.sites if s.verdict == "candidate"]) >= 4
    [patched] = cocci.run(sp, files, git_dir=tmp_path, jobs=1, defines=defs("-"))
    written = reach.unreached(listed, "a ->writepage method or write_cache_pages() callback")
    assert patched.sites == written.sites and patched.after == written.after == files["fs/x/a.c"]
    # Reached, the same file is changed: the shortcut holds only for none.
    [some] = cocci.run(sp, files, git_dir=tmp_path, jobs=1, defines=defs("fs/x/a.c:helper"))
    assert some.changed


def test_one_run_lists_and_patches_as_the_two_runs_do(tmp_path):
    """reached=* lists as reached=? does and patches as a run given every
    candidate as reached, with the callees outside -D starters= as inert.
    From it, reach.guessed() gives what the run with the reached set gives
    (the changes in functions not reached taken back); series then runs
    spatch once."""
    from refactor.callgraph import Answer
    sp = STEPS / "06-prepare-writepage.cocci"
    files = {"fs/x/a.c": PREPARE.encode()}
    [listed] = cocci.run(sp, files, git_dir=tmp_path, jobs=1, mode="report", defines=defs("?"))
    functions = sorted({s.function for s in listed.sites if s.verdict == "candidate"})
    callees = sorted({s.reason for s in listed.sites if s.verdict == "callee"})
    # fs_do_write_data_page() reaches a start; the other callees reach none.
    assert "fs_do_write_data_page" in callees and len(callees) > 1
    inert = ",".join(f"fs/x/a.c:{g}" for g in callees if g != "fs_do_write_data_page")
    [one] = cocci.run(sp, files, git_dir=tmp_path, jobs=1,
                      defines=defs("*", starters="fs_do_write_data_page,other_start"))
    assert reach.listing(one).sites == listed.sites
    description = "a ->writepage method or write_cache_pages() callback"
    # Every candidate reached, each one left out, and each one alone.
    cases = [functions] + [[f for f in functions if f != g] for g in functions] + \
        [[g] for g in functions]
    for reached in cases:
        answers = {("fs/x/a.c", f): Answer(f in reached) for f in functions}
        [exact] = cocci.run(sp, files, git_dir=tmp_path, jobs=1,
                            defines=defs(",".join(f"fs/x/a.c:{f}" for f in reached), inert))
        got = reach.guessed(one, answers, description)
        assert got is not None and (got.after, got.sites) == (exact.after, exact.sites), reached
    # With no callee known to reach a start, each is inert: more is prepared.
    [none] = cocci.run(sp, files, git_dir=tmp_path, jobs=1, defines=defs("*", starters=","))
    assert none.after != one.after


def test_a_guess_that_cannot_be_undone_is_run_again():
    """guessed() gives None where the * run's change in a function no hand-off
    reaches cannot simply be taken back: the function is a callee before an
    exit of the file (its change may settle that exit), or the change lies
    outside the functions of the file."""
    from refactor.callgraph import Answer
    before = b"int f(struct page *page)\n{\n\tunlock_page(page);\n\treturn 0;\n}\n"
    after = (b"int f(struct page *page)\n{\n\tif (PageWriteback(page))\n"
             b"\t\tend_page_writeback(page);\n\tunlock_page(page);\n\treturn 0;\n}\n")
    cand = cocci.Site("a.c", 3, 1, "candidate", "f", "")
    changed = cocci.Site("a.c", 3, 1, "changed", "f", "ended", "exit")
    r = cocci.FileResult("a.c", before, after, (cand, changed), None)
    away = {("a.c", "f"): Answer(False)}
    got = reach.guessed(r, away, "a hand-off")
    assert got is not None and got.after == before and [s.kind for s in got.sites] == ["unreached"]
    assert reach.guessed(r, {("a.c", "f"): Answer(True)}, "a hand-off").after == after
    callee = cocci.Site("a.c", 9, 1, "callee", "g", "f")
    assert reach.guessed(replace(r, sites=(cand, changed, callee)), away, "a hand-off") is None
    outside = replace(r, after=b"int x;\n" + after)
    assert reach.guessed(outside, away, "a hand-off") is None


def test_one_spatch_over_many_files_gives_what_a_spatch_per_file_gives(tmp_path, monkeypatch):
    """06-prepare-writepage.cocci keeps positions across rules. Two files of
    the same shape have their exits at the same line and column: keyed
    without the file, what one file's call left (a callee that may start
    writeback) would stop the other's exit from being prepared."""
    sp = STEPS / "06-prepare-writepage.cocci"
    files = {"fs/x/a.c": PREPARE.encode(), "fs/y/a.c": PREPARE.encode(),
             "fs/z/b.c": AFS.encode()}
    reached = "fs/x/a.c:fs_writepage_after_call,fs/y/a.c:fs_writepage_after_call"
    for defines in (defs("?"), defs(reached, inert="fs/y/a.c:fs_write_locked")):
        apart = cocci.run(sp, files, git_dir=tmp_path / "apart", jobs=1, defines=defines)
        started = spatch_runs(monkeypatch)
        together = cocci.run(sp, files, git_dir=tmp_path / "together", jobs=1,
                             defines=defines, batch=True)
        monkeypatch.undo()
        assert len(started) == 1 and "--file-groups" in started[0]
        assert together == apart
    x, y, _ = together
    assert "end_page_writeback" in y.after.decode() and not x.changed
    assert [s.verdict for s in y.sites if s.function == "fs_writepage_after_call"] == \
        ["changed"]


def test_a_batch_whose_output_names_no_file_of_it_is_run_file_by_file(tmp_path, monkeypatch):
    sp = tmp_path / "say.cocci"
    sp.write_text("virtual patch\n\n@r@\nposition p;\n@@\nfoo@p();\n\n"
                  "@script:python@\np << r.p;\n@@\nprint('hello')\n\n@@\n@@\n- foo();\n")
    files = {"a.c": b"void f(void)\n{\n\tfoo();\n}\n", "b.c": b"int x;\n"}
    started = spatch_runs(monkeypatch)
    a, b = cocci.run(sp, files, git_dir=tmp_path, jobs=1, batch=True)
    assert len(started) == 3 and "--file-groups" in started[0]
    assert a.changed and b"foo" not in a.after and not b.changed and a.error is None


def test_split_output_gives_each_file_its_lines_in_order():
    out = ("krefactor-site:fs/a.c:3:1:candidate:f:\n"
           "fs/b.c:7:2-5: a report\n"
           "krefactor-site:fs/a.c:9:1:callee:f:g\n")
    assert cocci.split_output(out, ["fs/a.c", "fs/b.c", "fs/c.c"]) == {
        "fs/a.c": "krefactor-site:fs/a.c:3:1:candidate:f:\nkrefactor-site:fs/a.c:9:1:callee:f:g\n",
        "fs/b.c": "fs/b.c:7:2-5: a report\n", "fs/c.c": ""}
    assert cocci.split_output("done\n", ["fs/a.c"]) is None


def test_files_are_shared_out_by_size():
    files = {"big.c": b"x" * 100, "mid.c": b"x" * 60, "small.c": b"x" * 50, "tiny.c": b"x"}
    assert cocci.chunks(files, 2) == [["big.c", "tiny.c"], ["mid.c", "small.c"]]
    assert cocci.chunks(files, 8) == [["big.c"], ["mid.c"], ["small.c"], ["tiny.c"]]


def test_strscpy_in_one_spatch_keeps_each_files_calls_apart(tmp_path, monkeypatch):
    """Two calls at the same line and column of two files: one converted, one
    whose value is used. Keyed without the file, the one run over both
    would convert or drop one of them."""
    sp = BUILTIN / "strlcpy-strscpy" / "01-strscpy.cocci"
    files = {"drivers/a.c": b"void f(char *d, const char *s)\n{\n\tstrlcpy(d, s, 8);\n}\n",
             "drivers/b.c": b"int g(char *d, const char *s)\n{\n\treturn strlcpy(d, s, 8);\n}\n",
             "drivers/c.c": b"int h(char *d, const char *s)\n{\n\tstrlcpy(d, s, 4);\n"
                            b"\treturn strlcpy(d, s, 8) + 1;\n}\n"}
    apart = cocci.run(sp, files, git_dir=tmp_path / "apart", jobs=1)
    started = spatch_runs(monkeypatch)
    together = cocci.run(sp, files, git_dir=tmp_path / "together", jobs=1, batch=True)
    assert len(started) == 1 and together == apart
    a, b, c = together
    assert b"strscpy(d, s, 8);" in a.after and not b.changed
    assert [s.verdict for s in c.sites] == ["changed", "left"]
