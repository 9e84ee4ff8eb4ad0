"""always.py: callees that start writeback on every path, by a semantic patch
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


def test_only_callees_that_start_on_every_path_and_on_their_one_page(tmp_path):
    t = tree_mod.open_tree(make_repo(tmp_path / "t", {"fs/x/submit.c": SUBMIT}))
    h = recipe.load("writeback-void").handoff
    assert h is not None
    names = ["fs_meta_submit", "fs_data_submit", "fs_folio_submit", "fs_two_pages"]
    found = always.every_path(t, t.rev("HEAD"), h, dict.fromkeys(names, "fs/x/submit.c"),
                              jobs=1, timeout=60)
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
