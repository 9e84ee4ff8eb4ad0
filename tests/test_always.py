"""always.py: callees that start or end writeback on every path, by a semantic patch
written from the recipe (real spatch)."""
from __future__ import annotations

from conftest import make_repo

from refactor import always, recipe, safety
from refactor import tree as tree_mod

# Written here: helpers of a filesystem's write path, each in the shape of a
# different answer.
SUBMIT = """static int fs_meta_submit(struct fs_info *fs, struct page *page, int type)
{
\tstruct fs_io io = { .page = page };

\tif (fs_readonly(fs))
\t\tio.flags |= FS_RO;
\tset_page_writeback(page);
\tfs_queue(&io);
\treturn 0;
}

static int fs_data_submit(struct page *page)
{
\tif (!fs_mapped(page))
\t\treturn -ENOENT;
\tset_page_writeback(page);
\tfs_queue_page(page);
\treturn 0;
}

static void fs_folio_submit(struct folio *folio, int keep)
{
\tif (keep)
\t\tfolio_start_writeback_keepwrite(folio);
\telse
\t\tfolio_start_writeback(folio);
}

static void fs_two_pages(struct page *page, struct page *other)
{
\tset_page_writeback(other);
}
"""


def every_path(tmp_path, path, text, names):
    """always.every_path() with writeback-void's [handoff] on a one-file tree."""
    t = tree_mod.open_tree(make_repo(tmp_path / "t", {path: text}))
    h = recipe.load("writeback-void").handoff
    assert h is not None
    return t, always.every_path(t, t.rev("HEAD"), h, dict.fromkeys(names, path),
                                jobs=1, timeout=60)


def test_only_callees_that_start_on_every_path_and_on_their_one_page(tmp_path):
    t, found = every_path(tmp_path, "fs/x/submit.c", SUBMIT,
                          ["fs_meta_submit", "fs_data_submit", "fs_folio_submit",
                           "fs_two_pages"])
    # fs_data_submit() returns before its start; fs_two_pages() starts
    # another page than one it could be handed.
    assert found == {"fs_meta_submit": "fs/x/submit.c:7", "fs_folio_submit": "fs/x/submit.c:24"}
    # Its own scratch directory, which held the semantic patch, is gone.
    assert not list((safety.state_dir(t.git_dir) / "tmp").glob("always*"))


def test_one_carried_parameter():
    types = ("struct page", "struct folio")
    assert always.one_carried(SUBMIT, "fs_meta_submit", types)
    assert not always.one_carried(SUBMIT, "fs_two_pages", types)
    assert not always.one_carried(SUBMIT, "fs_missing", types)


# Written here: a flush path whose early returns end writeback if it is set,
# in the shape of a chain of helpers to a start.
CHAIN = """static void fs_set_writeback(struct page *page)
{
\tset_page_writeback(page);
\tfs_count(page);
}

static int fs_flush(struct page *page, struct fs_ctx *ctx)
{
\tstruct fs_req *req = fs_find(page);

\tif (!req) {
\t\tif (PageWriteback(page))
\t\t\tend_page_writeback(page);
\t\treturn 0;
\t}
\tfs_set_writeback(page);
\tfs_add(ctx, req);
\treturn 0;
}

static int fs_do(struct page *page, struct fs_ctx *ctx)
{
\tfs_complete(ctx);
\treturn fs_flush(page, ctx);
}

static int fs_maybe(struct page *page, struct fs_ctx *ctx)
{
\tif (!fs_find(page))
\t\treturn 0;
\treturn fs_flush(page, ctx);
}
"""


def test_a_test_and_end_counts_and_callees_found_count_round_after_round(tmp_path):
    _, found = every_path(tmp_path, "fs/x/flush.c", CHAIN,
                          ["fs_set_writeback", "fs_flush", "fs_do", "fs_maybe"])
    # fs_flush() once fs_set_writeback() is known, fs_do() once fs_flush()
    # is; fs_maybe() returns before either on one path.
    assert found == {"fs_set_writeback": "fs/x/flush.c:3", "fs_flush": "fs/x/flush.c:13",
                     "fs_do": "fs/x/flush.c:24"}
