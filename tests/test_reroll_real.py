"""Re-roll on the real 6.1 tree: v1 from the recipe as it was at an earlier commit of
this repository, v2 after a change to it (a reworded subject, one more converted site)."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile

import pytest
from conftest import ROOT, git, krefactor

from refactor import reroll

pytestmark = pytest.mark.real
# A commit of this repository with the writeback-void recipe of 2026-11-27's series.
V1_RECIPE_AT = "f96607c"
V1 = "krefactor/writeback-void"


def recipe_at(commit: str, dest):
    res = subprocess.run(["git", "-C", str(ROOT), "archive", commit,
                          "semantic_patches/writeback-void"], capture_output=True)
    if res.returncode != 0:
        pytest.fail(f"this repository's commit {commit} is not available "
                    f"(shallow clone?): {res.stderr.decode()[:200]}")
    tarfile.open(fileobj=io.BytesIO(res.stdout)).extractall(dest)
    return dest / "semantic_patches" / "writeback-void"


def test_v1_to_v2_on_the_real_tree(real_baseline, tmp_path):
    clone = tmp_path / "linux"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(real_baseline),
                    str(clone)], check=True)
    for k, v in (("user.name", "Kernel Dev"), ("user.email", "dev@example.org")):
        git(clone, "config", k, v)
    old = recipe_at(V1_RECIPE_AT, tmp_path / "v1")
    v1 = krefactor("series", "--tree", str(clone), "--recipe", str(old))
    assert v1.returncode == 0, v1.stderr
    v1_tip = git(clone, "rev-parse", V1)
    new = tmp_path / "v2-recipe"
    shutil.copytree(old, new)
    toml = (new / "recipe.toml").read_text()
    assert 'subject = "mm: remove test_set_page_writeback()"' in toml
    (new / "recipe.toml").write_text(toml.replace(
        'subject = "mm: remove test_set_page_writeback()"',
        'subject = "mm: drop test_set_page_writeback(), now unused"'))
    with open(new / "01-afs-bug-on-start.cocci", "a") as f:
        f.write("\n@r2 depends on patch@\nexpression F;\n@@\n"
                "- if (!folio_clear_dirty_for_io(F))\n-\tBUG();\n+ folio_clear_dirty_for_io(F);\n")
    out = tmp_path / "v2"
    v2 = krefactor("series", "--tree", str(clone), "--recipe", str(new), "--reroll",
                   "--output", str(out),
                   "--json", str(tmp_path / "v2.json"))
    assert v2.returncode == 0, v2.stderr
    assert git(clone, "rev-parse", V1) == v1_tip
    n = len(git(clone, "log", "--format=%H", f"master..{V1}-v2").split())
    cover = (out / "v2-0000-cover-letter.patch").read_text()
    assert f"Subject: [PATCH v2 00/{n:02}]" in cover
    assert len(list(out.glob("v2-*.patch"))) == n + 1
    data = json.loads((tmp_path / "v2.json").read_text())["reroll"]
    # The changelog names exactly the commits range-diff pairs as changed.
    pairs = reroll.parse_range_diff(cover.split("Range-diff against v1:\n", 1)[1])
    assert [p.relation for p in pairs].count("=") + [p.relation for p in pairs].count("!") \
        == len(pairs) == n
    subjects = git(clone, "log", "--reverse", "--format=%s", f"master..{V1}-v2").splitlines()
    changed = {p.new for p in pairs if p.relation == "!"}
    named = {i for i, s in enumerate(subjects, 1) for c in data["changes"] if s in c}
    assert changed and named == changed
    assert [c["relation"] for c in data["commits"]] == \
        ["changed" if i in changed else "same" for i in range(1, n + 1)]
    assert "reworded: 'mm: remove test_set_page_writeback()' -> " \
        "'mm: drop test_set_page_writeback(), now unused'" in data["changes"]
    afs = [c for c in data["changes"] if c.startswith("changed in content: afs: ")]
    assert afs and afs[0].endswith("(fs/afs/write.c)")
    block = cover.split("Changes in v2:\n", 1)[1].split("\n\n", 1)[0]
    print(block)
