"""series --b4 on the fixture, driven through Debian's b4 (0.12): show-info, send
(to a local sendmail that keeps the mails), the sent tag and b4's own reroll,
then krefactor's re-roll as b4's next revision with --compare-to."""
from __future__ import annotations

import mailbox
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURE, git, imported, krefactor
from test_reroll import changed_recipe

B4 = "b4/writeback-void"


def b4(tree: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    if shutil.which("b4") is None:
        pytest.fail("b4 not installed: run scripts/setup.sh (Debian package b4)")
    return subprocess.run(["b4", "-n", *args], cwd=tree, input=stdin, capture_output=True,
                          text=True)


@pytest.fixture
def sent_tree(tmp_path) -> Path:
    tree = imported(FIXTURE, tmp_path / "linux")
    # b4 send hands each mail to this command, as to sendmail: a local mailbox.
    sink = tmp_path / "sendmail"
    sink.write_text(f"#!/bin/sh\n{{ echo 'From b4'; cat; echo; }} >> {tmp_path / 'sent'}\n")
    sink.chmod(0o755)
    git(tree, "config", "sendemail.smtpServer", str(sink))
    return tree


def test_b4_takes_the_branch_as_its_own_and_sends_our_cover(sent_tree, tmp_path):
    res = krefactor("series", "--recipe", "writeback-void",
                    "--tree", str(sent_tree), "--b4", "--output", str(tmp_path / "o"))
    assert res.returncode == 0, res.stderr
    assert f"b4: {B4} -> " in res.stdout and ", v1, change-id " in res.stdout
    # krefactor's own branch and the checkout are as they were.
    assert git(sent_tree, "symbolic-ref", "HEAD").strip() == "refs/heads/master"
    ours = git(sent_tree, "rev-parse", "krefactor/writeback-void^{tree}")
    assert git(sent_tree, "rev-parse", f"{B4}^{{tree}}") == ours
    # Each commit again, byte for byte in message, author and date.
    fmt = "--format=%T%n%an <%ae> %ad%n%B%x01"
    assert git(sent_tree, "log", fmt, f"{B4}~13..{B4}") == \
        git(sent_tree, "log", fmt, "master..krefactor/writeback-void")
    assert git(sent_tree, "cat-file", "commit", B4).endswith(
        git(sent_tree, "cat-file", "commit", "krefactor/writeback-void").split("\n\n", 1)[1])
    git(sent_tree, "checkout", "-q", B4)
    info = b4(sent_tree, "prep", "--show-info")
    assert info.returncode == 0, info.stderr
    assert "cover-subject: mm: start writeback in the VFS, return void from " \
           "folio_start_writeback()" in info.stdout
    assert "revision: 1" in info.stdout
    assert info.stdout.count("\ncommit-") == 13
    assert f"base-commit: {git(sent_tree, 'rev-parse', 'master').strip()}" in info.stdout

    out = tmp_path / "b4-out"
    dry = b4(sent_tree, "send", "--no-sign", "-o", str(out))
    assert dry.returncode == 0, dry.stderr
    mails = sorted(out.iterdir())
    assert len(mails) == 14
    cover = mails[0].read_text()
    assert "Subject: [PATCH 00/13] mm: start writeback in the VFS" in cover
    assert "Left as they are, for review (1):" in cover
    assert "fs/nfs/write.c:46 nfs_writepage()" in cover
    # Recipients from MAINTAINERS, as trailers b4 turned into headers.
    assert "\nTo: " in cover.split("\n\n", 1)[0]
    # The mails b4 would send apply, in order, on the base; so do ours.
    for where in (mails[1:], sorted((tmp_path / "o").glob("0*.patch"))[1:]):
        git(sent_tree, "checkout", "-q", "--detach", "master")
        am = subprocess.run(["git", "-C", str(sent_tree), "am", "-q", *map(str, where)],
                            capture_output=True, text=True)
        assert am.returncode == 0, am.stderr
        assert git(sent_tree, "rev-parse", "HEAD^{tree}") == ours

    # Made again, the same series leaves b4's branch as it is.
    git(sent_tree, "checkout", "-q", "master")
    tip = git(sent_tree, "rev-parse", B4)
    again = krefactor("series", "--recipe", "writeback-void", "--tree", str(sent_tree), "--b4")
    assert again.returncode == 0 and f"b4: {B4} already holds this series (v1" in again.stdout
    assert git(sent_tree, "rev-parse", B4) == tip


def test_a_reroll_is_b4s_next_revision(sent_tree, tmp_path):
    assert krefactor("series", "--recipe", "writeback-void",
                     "--tree", str(sent_tree), "--b4").returncode == 0
    git(sent_tree, "checkout", "-q", B4)
    sent = b4(sent_tree, "send", "--no-sign", stdin="\n")
    assert sent.returncode == 0, sent.stderr
    assert len(mailbox.mbox(str(tmp_path / "sent"))) == 14
    assert git(sent_tree, "tag").split() == ["sent/writeback-void-v1"]
    change_id = next(line for line in b4(sent_tree, "prep", "--show-info").stdout.splitlines()
                     if line.startswith("change-id: "))

    git(sent_tree, "checkout", "-q", "master")
    res = krefactor("series", "--tree", str(sent_tree), "--recipe",
                    str(changed_recipe(tmp_path)), "--reroll", "--b4")
    assert res.returncode == 0, res.stderr
    assert f"b4: {B4} -> " in res.stdout and ", v2, " in res.stdout
    git(sent_tree, "checkout", "-q", B4)
    info = b4(sent_tree, "prep", "--show-info").stdout
    assert "revision: 2" in info and change_id in info
    assert "series-v1: " in info
    cover = git(sent_tree, "log", "-1", "--format=%B", f"{B4}~13")
    assert cover.startswith("mm: start writeback in the VFS")
    assert "Changes in v2:\n- changed in content: afs:" in cover
    diff = b4(sent_tree, "prep", "--compare-to", "v1")
    assert diff.returncode == 0, diff.stderr
    assert "-    mm: remove test_set_page_writeback()" in diff.stdout
    assert "+    mm: drop test_set_page_writeback(), now unused" in diff.stdout


def test_a_branch_b4_did_not_make_is_refused(sent_tree):
    git(sent_tree, "branch", B4, "master")
    res = krefactor("series", "--recipe", "writeback-void", "--tree", str(sent_tree), "--b4")
    assert res.returncode == 1
    assert res.stderr.strip().endswith(f"branch {B4} exists and is not a b4 prep branch; "
                                       "delete it or pass another name")


def test_one_b4_branch_per_maintainer_tree(sent_tree, tmp_path):
    out = tmp_path / "out"
    res = krefactor("series", "--recipe", "writeback-void",
                    "--tree", str(sent_tree), "--per-maintainer", "--output", str(out),
                    "--b4")
    assert res.returncode == 0, res.stderr
    slugs = sorted(d.name for d in out.iterdir() if d.is_dir())
    branches = sorted(git(sent_tree, "for-each-ref", "--format=%(refname:short)",
                          "refs/heads/b4/").split())
    assert branches == [f"{B4}-{s}" for s in slugs] and len(slugs) > 1
    for s in slugs:
        git(sent_tree, "checkout", "-q", f"{B4}-{s}")
        info = b4(sent_tree, "prep", "--show-info")
        assert info.returncode == 0, info.stderr
        # The part's own commits, as in its directory of mails.
        patches = sorted((out / s).glob("0*.patch"))[1:]
        assert info.stdout.count("\ncommit-") == len(patches)
        cover = next((out / s).glob("0000-*")).read_text()
        subject = cover.split("Subject: [PATCH", 1)[1].split("] ", 1)[1].split("\n")[0]
        assert f"cover-subject: {subject}" in info.stdout
    git(sent_tree, "checkout", "-q", "master")
