"""Never lose work: locks, interruption, clean, odd trees, missing tools."""
from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXTURE, git, krefactor, snapshot


@pytest.fixture
def fixture_tree(tmp_path) -> Path:
    dest = tmp_path / "linux"
    res = krefactor("import", str(FIXTURE), "--to", str(dest))
    assert res.returncode == 0, res.stderr
    return dest


def test_second_run_refuses_while_the_lock_is_held(fixture_tree):
    lock = fixture_tree / ".git" / "krefactor" / "lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as f:
        f.write("4242\n")
        f.flush()
        fcntl.flock(f, fcntl.LOCK_EX)
        res = krefactor("series", "--tree", str(fixture_tree))
    assert res.returncode == 1
    assert "another krefactor run (pid 4242)" in res.stderr
    assert "krefactor/" not in git(fixture_tree, "branch")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_nothing_behind(fixture_tree, tmp_path, sig):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    before = snapshot(fixture_tree)
    env = dict(os.environ, TMPDIR=str(tmp))
    child = subprocess.Popen([sys.executable, "-c", "from refactor.cli import main; main()",
                              "series", "--tree", str(fixture_tree), "--timeout", "60"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Interrupt once spatch is at work on a step (its scratch directory exists).
    deadline = time.monotonic() + 30
    while not list(tmp.glob("krefactor-spatch-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(tmp.glob("krefactor-spatch-*")), "spatch never started"
    child.send_signal(sig)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(tmp.iterdir()) == []
    assert snapshot(fixture_tree) == before
    assert git(fixture_tree, "worktree", "list").count("\n") == 1
    assert subprocess.run(["pgrep", "-f", f"spatch.*{tmp}"], capture_output=True).stdout == b""


def test_clean_removes_state_and_stray_temporaries(fixture_tree, tmp_path):
    tmp = tmp_path / "tmp"
    (tmp / "krefactor-spatch-abandoned").mkdir(parents=True)
    state = fixture_tree / ".git" / "krefactor" / "build" / "out"
    state.mkdir(parents=True)
    res = subprocess.run([sys.executable, "-c", "from refactor.cli import main; main()",
                          "clean", "--tree", str(fixture_tree)],
                         env=dict(os.environ, TMPDIR=str(tmp)), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert not (fixture_tree / ".git" / "krefactor" / "build").exists()
    assert list(tmp.iterdir()) == []
    assert "2 removed" in res.stdout


def test_missing_spatch_is_one_line(fixture_tree, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("git", "tar"):
        os.symlink(shutil.which(tool), bindir / tool)
    res = subprocess.run([sys.executable, "-c", "from refactor.cli import main; main()",
                          "series", "--tree", str(fixture_tree)],
                         env=dict(os.environ, PATH=str(bindir)), capture_output=True, text=True)
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        "krefactor: error: spatch not found on PATH; install Coccinelle "
        "(apt-get install coccinelle, or scripts/setup.sh)"]
    assert "krefactor/" not in git(fixture_tree, "branch")


def test_missing_make_for_compile_test(fixture_tree, tmp_path):
    assert krefactor("series", "--tree", str(fixture_tree)).returncode == 0
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(shutil.which("git"), bindir / "git")
    res = subprocess.run([sys.executable, "-c", "from refactor.cli import main; main()",
                          "compile-test", "--tree", str(fixture_tree)],
                         env=dict(os.environ, PATH=str(bindir)), capture_output=True, text=True)
    assert res.returncode == 1 and "make not found on PATH" in res.stderr


def test_shallow_clone_and_linked_worktree_work(fixture_tree, tmp_path):
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{fixture_tree}", str(shallow))
    res = krefactor("series", "--tree", str(shallow))
    assert res.returncode == 0, res.stderr
    assert "10 commits" in res.stdout
    assert "note: shallow clone: subject prefixes are the MAINTAINERS defaults" in res.stderr
    full = krefactor("series", "--tree", str(fixture_tree), "--branch", "not-shallow")
    assert full.returncode == 0 and "shallow" not in full.stderr

    other = tmp_path / "wt"
    git(fixture_tree, "worktree", "add", "-q", "--detach", str(other))
    before = snapshot(fixture_tree)
    res = krefactor("series", "--tree", str(other), "--branch", "from-worktree")
    assert res.returncode == 0, res.stderr
    assert "from-worktree" in git(fixture_tree, "branch")
    after = snapshot(fixture_tree)
    assert {k: v for k, v in after.items() if k != "refs"} == \
        {k: v for k, v in before.items() if k != "refs"}


def test_step_matching_nothing_warns_or_fails_when_required(fixture_tree, tmp_path):
    recipe = tmp_path / "r"
    recipe.mkdir()
    (recipe / "nothing.cocci").write_text(
        "virtual patch\n@depends on patch@\nexpression E;\n@@\n- no_such_function(E);\n")
    toml = ('name = "r"\nsummary = "s"\ndescription = "d"\n[[steps]]\ncocci = "nothing.cocci"\n'
            'grep = ["set_page_writeback"]\nsubject = "x: y"\nbody = "b"\n')
    (recipe / "recipe.toml").write_text(toml)
    res = krefactor("series", "--tree", str(fixture_tree), "--recipe", str(recipe))
    assert res.returncode == 0 and "nothing to do" in res.stdout
    assert "skipped" in res.stderr
    (recipe / "recipe.toml").write_text(toml + "required = true\n")
    res = krefactor("series", "--tree", str(fixture_tree), "--recipe", str(recipe))
    assert res.returncode == 1 and "step nothing matched nothing" in res.stderr


def test_cocci_syntax_error_through_the_cli(fixture_tree, tmp_path):
    recipe = tmp_path / "r"
    recipe.mkdir()
    (recipe / "bad.cocci").write_text("@@\nexpression E;\n@@\n- foo(E\n")
    (recipe / "recipe.toml").write_text(
        'name = "r"\nsummary = "s"\ndescription = "d"\n[[steps]]\ncocci = "bad.cocci"\n'
        'grep = ["set_page_writeback"]\nsubject = "x: y"\nbody = "b"\n')
    res = krefactor("series", "--tree", str(fixture_tree), "--recipe", str(recipe))
    assert res.returncode == 1
    assert "bad.cocci does not parse" in res.stderr and "Traceback" not in res.stderr


def test_malformed_recipe_through_the_cli(fixture_tree, tmp_path):
    recipe = tmp_path / "r"
    recipe.mkdir()
    (recipe / "recipe.toml").write_text('name = "r"\nsteps = 3\n')
    res = krefactor("series", "--tree", str(fixture_tree), "--recipe", str(recipe))
    assert res.returncode == 1 and "field 'steps' must be a list" in res.stderr


def test_debug_shows_the_traceback(tmp_path):
    res = krefactor("--debug", "series", "--tree", str(tmp_path))
    assert res.returncode != 0 and "Traceback" in res.stderr
