"""A dirty real tree is byte for byte the same after every command."""
from __future__ import annotations

import pytest
from conftest import git, krefactor, snapshot
from test_adhoc import REPORTING

pytestmark = pytest.mark.real


# A small plain semantic patch (strlcpy() to strscpy(), with a report mode),
# so that series and coverage run on the real tree in seconds: their code
# paths are the ones under test (the index they commit through, and the
# scratch directories spatch writes in).
SMALL = REPORTING


def test_dirty_real_tree_is_untouched(real_series, tmp_path):
    repo, _, _ = real_series
    small = tmp_path / "small.cocci"
    small.write_text(SMALL)
    (repo / "untracked-notes.txt").write_text("my unfinished work\n")
    blob = git(repo, "hash-object", "-w", "untracked-notes.txt").strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},fs/afs/notes.txt")
    (repo / "fs").mkdir(exist_ok=True)
    (repo / "fs" / "unstaged.c").write_text("int x;\n")
    before = snapshot(repo)
    last = "krefactor/writeback-void~1..krefactor/writeback-void"
    for args in (["review", "--range", last],
                 ["coverage", "--cocci", str(small), "--path", "fs/befs", "--range", last],
                 ["compile-test", "--range", last]):
        res = krefactor(*args, "--tree", str(repo))
        assert res.returncode == 0, (args, res.stderr[-2000:])
        assert snapshot(repo) == before, args
    res = krefactor("series", "--tree", str(repo), "--cocci", str(small), "--path", "fs/befs",
                    "--branch", "dirty-check")
    assert res.returncode == 0, res.stderr
    after = snapshot(repo)
    refs_before, refs_after = before.pop("refs"), after.pop("refs")
    assert after == before
    new_refs = set(refs_after.splitlines()) - set(refs_before.splitlines())
    assert [r.split()[0] for r in new_refs] == ["refs/heads/dirty-check"]
