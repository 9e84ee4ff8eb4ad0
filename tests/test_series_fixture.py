"""End to end on the shipped fixture tree, through the CLI, with real spatch."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import FIXTURE, check_golden, git, imported, krefactor, snapshot

GOLDEN = Path(__file__).parent / "data" / "fixture-series" / "expected"


@pytest.fixture
def fixture_tree(tmp_path) -> Path:
    dest = tmp_path / "linux tree"          # a path with a space, on purpose
    return imported(FIXTURE, dest)


def normalize(text: str) -> str:
    """Drop what changes from run to run or machine to machine: hashes, versions."""
    text = re.sub(r"^From [0-9a-f]{40} ", "From SHA ", text, flags=re.M)
    text = re.sub(r"^index [0-9a-f]+\.\.[0-9a-f]+", "index X..Y", text, flags=re.M)
    text = re.sub(r"^base-commit: [0-9a-f]{40}", "base-commit: BASE", text, flags=re.M)
    return re.sub(r"^-- \n\d[\d.]+\S*\n", "-- \nGIT\n", text, flags=re.M)


def test_series_matches_golden_patches(fixture_tree, tmp_path, request):
    out = tmp_path / "out"
    res = krefactor("series", "--recipe", "writeback-void",
                    "--tree", str(fixture_tree), "--output", str(out))
    assert res.returncode == 0, res.stderr
    produced = {p.name: normalize(p.read_text()) for p in sorted(out.glob("*.patch"))}
    check_golden(produced, GOLDEN, request)


def test_series_leaves_checkout_and_is_idempotent(fixture_tree):
    (fixture_tree / "mm" / "vmscan.c").write_text("/* unfinished work */\n")
    git(fixture_tree, "add", "mm/vmscan.c")
    (fixture_tree / "fs" / "mpage.c").write_text("/* unstaged */\n")
    (fixture_tree / "notes.txt").write_text("untracked\n")
    before = snapshot(fixture_tree)
    res = krefactor("series", "--recipe", "writeback-void", "--tree", str(fixture_tree))
    assert res.returncode == 0, res.stderr
    assert "13 commits" in res.stdout
    after = snapshot(fixture_tree)
    assert after.pop("refs") != before.pop("refs")
    assert after == before
    tip = git(fixture_tree, "rev-parse", "krefactor/writeback-void")
    # Run again, the recipe is the one of the tree's krefactor/ branch.
    again = krefactor("series", "--tree", str(fixture_tree))
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert git(fixture_tree, "rev-parse", "krefactor/writeback-void") == tip


def test_a_tree_without_a_series_is_asked_for_its_recipe(fixture_tree):
    for cmd in ("series", "coverage", "boot-test"):
        res = krefactor(cmd, "--tree", str(fixture_tree))
        assert res.returncode == 1, (cmd, res.stderr)
        assert res.stderr.strip() == (
            "krefactor: error: which recipe? give --recipe NAME (built-in: strlcpy-strscpy, "
            "writeback-void) or a directory holding recipe.toml; none is inferred from this "
            "tree's branches"), cmd
    assert git(fixture_tree, "branch", "--list", "krefactor/*") == ""


def test_series_on_its_own_tip_has_nothing_to_do(fixture_tree):
    assert krefactor("series", "--recipe", "writeback-void",
                     "--tree", str(fixture_tree)).returncode == 0
    git(fixture_tree, "checkout", "-q", "krefactor/writeback-void")
    res = krefactor("series", "--recipe", "writeback-void",
                    "--tree", str(fixture_tree), "--branch", "again")
    assert res.returncode == 0, res.stderr
    assert "nothing to do: every step" in res.stdout
    assert "again" not in git(fixture_tree, "branch")


def test_partly_applied_tree_skips_the_applied_steps(fixture_tree):
    """Like upstream v6.8: the void half is in, folio_wait_start_writeback is not."""
    assert krefactor("series", "--recipe", "writeback-void",
                     "--tree", str(fixture_tree), "--branch", "full").returncode == 0
    fourth = git(fixture_tree, "rev-list", "--reverse", "master..full").split()[3]
    git(fixture_tree, "checkout", "-q", fourth)
    res = krefactor("series", "--recipe", "writeback-void",
                    "--tree", str(fixture_tree), "--branch", "rest")
    assert res.returncode == 0, res.stderr
    assert "9 commits" in res.stdout
    for step in ("01-afs", "02-nfs", "03-remove", "04-void"):
        assert step in res.stdout.split("skipped steps:")[1]


def test_branch_holding_other_work_is_refused(fixture_tree):
    git(fixture_tree, "branch", "krefactor/writeback-void")
    before = snapshot(fixture_tree)
    res = krefactor("series", "--recipe", "writeback-void", "--tree", str(fixture_tree))
    assert res.returncode == 1
    assert "--force" in res.stderr and "--branch" in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert snapshot(fixture_tree) == before
    forced = krefactor("series", "--recipe", "writeback-void",
                       "--tree", str(fixture_tree), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "undo: git update-ref" in forced.stdout


@pytest.mark.parametrize("setup, message", [
    ("plain-dir", "not a git repository"),
    ("not-kernel", "not a Linux kernel tree"),
    ("old-kernel", "cannot apply to Linux 5.10"),
])
def test_bad_trees_give_one_line(tmp_path, setup, message):
    d = tmp_path / "t"
    d.mkdir()
    if setup != "plain-dir":
        mk = "VERSION = 5\nPATCHLEVEL = 10\nSUBLEVEL = 0\n" if setup == "old-kernel" else "all:\n"
        (d / "Makefile").write_text(mk)
        if setup == "old-kernel":
            (d / "Kbuild").write_text("obj-y += mm/\n")
            (d / "mm").mkdir()
            (d / "mm" / "a.c").write_text("int set_page_writeback;\n")
        git(d, "init", "-q")
        git(d, "add", "-A")
        git(d, "commit", "-q", "-m", "x")
    res = krefactor("series", "--recipe", "writeback-void", "--tree", str(d))
    assert res.returncode == 1
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_unwritable_output_fails_before_any_work(fixture_tree, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    res = krefactor("series", "--recipe", "writeback-void",
                    "--tree", str(fixture_tree), "--output", str(blocker / "out"))
    assert res.returncode == 1 and "cannot write to --output" in res.stderr
    assert "krefactor/" not in git(fixture_tree, "branch")


def test_a_function_no_hand_off_reaches_is_only_counted(fixture_tree, tmp_path):
    """nfs_write_end() calls a helper that starts writeback before it lets the
    page go, but only its address is taken (.write_end): its site keeps the
    call graph's reason, not the callee's, and is counted, not listed."""
    out = tmp_path / "out"
    res = krefactor("series", "--recipe", "writeback-void",
                    "--tree", str(fixture_tree), "--output", str(out),
                    "--json", str(tmp_path / "s.json"))
    assert res.returncode == 0, res.stderr
    data = json.loads((tmp_path / "s.json").read_text())
    site = next(s for s in data["sites"] if s["function"] == "nfs_write_end")
    assert site["verdict"] == "left"
    assert site["reason"].startswith("not reached from a ->writepage method or "
                                     "write_cache_pages() callback in this file; callers "
                                     "elsewhere not all known (nfs_write_end() address taken")
    cover = (out / "0000-cover-letter.patch").read_text()
    assert "nfs_write_end" not in cover
    assert "Left as they are, for review (1):\n  fs/nfs/write.c:46 nfs_writepage()" in cover
    messages = "".join(p.read_text() for p in out.glob("00*.patch") if "cover" not in p.name)
    assert "nfs_write_end" not in messages
    assert "not reached from" not in messages


def test_mails_written_again_from_the_existing_branch_are_the_same(fixture_tree, tmp_path):
    """After compile-test or boot-test, `series --output` on the branch it made
    has nothing to do; its cover letter still accounts for the sites left."""
    first, again = tmp_path / "first", tmp_path / "again"
    assert krefactor("series", "--recipe", "writeback-void",
                     "--tree", str(fixture_tree), "--output", str(first)
                     ).returncode == 0
    res = krefactor("series", "--recipe", "writeback-void",
                    "--tree", str(fixture_tree), "--output", str(again))
    assert res.returncode == 0 and "nothing to do" in res.stdout, res.stderr
    cover = (again / "0000-cover-letter.patch").read_text()
    assert "Left as they are, for review (1):" in cover
    assert cover == (first / "0000-cover-letter.patch").read_text()


def test_a_record_an_older_krefactor_wrote_is_made_again(fixture_tree, tmp_path):
    """A record without site kinds (before version 2) cannot tell a site only
    scanned from one to review: the series is made again, no ref touched,
    and its sites are the branch tip's record from then on."""
    first, again = tmp_path / "first", tmp_path / "again"
    assert krefactor("series", "--recipe", "writeback-void", "--tree", str(fixture_tree),
                     "--output", str(first)).returncode == 0
    tip = git(fixture_tree, "rev-parse", "krefactor/writeback-void").strip()
    path = fixture_tree / ".git" / "krefactor" / "series" / f"{tip}.json"
    old = json.loads(path.read_text())
    del old["version"]
    for s in old["sites"]:
        del s["kind"]
    path.write_text(json.dumps(old))
    refs = git(fixture_tree, "for-each-ref")
    res = krefactor("series", "--tree", str(fixture_tree), "--output", str(again))
    assert res.returncode == 0 and "nothing to do" in res.stdout, res.stderr
    assert "no current record of the sites of krefactor/writeback-void: making the " \
           "series again" in res.stderr
    assert git(fixture_tree, "for-each-ref") == refs
    assert (again / "0000-cover-letter.patch").read_text() == \
        (first / "0000-cover-letter.patch").read_text()
    assert json.loads(path.read_text())["version"] == 2


def test_a_branch_changed_since_is_not_given_the_sites_of_the_series_made_now(fixture_tree,
                                                                             tmp_path):
    """The user amended the series' last commit: its tip has no record, and the
    series made again is not the branch's tree, so its sites would be another
    series' account. The mails then account for none, and say so; no ref moves
    and no record is written for the amended tip."""
    assert krefactor("series", "--recipe", "writeback-void", "--tree", str(fixture_tree),
                     ).returncode == 0
    git(fixture_tree, "checkout", "-q", "krefactor/writeback-void")
    vmscan = fixture_tree / "mm" / "vmscan.c"
    vmscan.write_text(vmscan.read_text() + "/* amended by hand */\n")
    git(fixture_tree, "commit", "-q", "-a", "--amend", "--no-edit")
    git(fixture_tree, "checkout", "-q", "master")
    tip = git(fixture_tree, "rev-parse", "krefactor/writeback-void").strip()
    refs = git(fixture_tree, "for-each-ref")
    res = krefactor("series", "--tree", str(fixture_tree), "--output", str(tmp_path / "out"))
    assert res.returncode == 0 and "nothing to do" in res.stdout, res.stderr
    assert "the series made now differs from krefactor/writeback-void" in res.stderr
    assert git(fixture_tree, "for-each-ref") == refs
    assert not (fixture_tree / ".git" / "krefactor" / "series" / f"{tip}.json").exists()
    assert "Left as they are, for review" not in \
        (tmp_path / "out" / "0000-cover-letter.patch").read_text()
