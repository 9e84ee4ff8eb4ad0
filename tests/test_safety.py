"""Never lose work: locks, interruption, clean, odd trees, missing tools."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import FIXTURE, ROOT, git, imported, krefactor, slow_cocci, snapshot

from refactor import cocci, proc, safety
from refactor.errors import KrefactorError


@pytest.fixture
def fixture_tree(tmp_path) -> Path:
    dest = tmp_path / "linux"
    return imported(FIXTURE, dest)


def test_second_run_refuses_while_the_lock_is_held(fixture_tree):
    lock = fixture_tree / ".git" / "krefactor" / "lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as f:
        f.write("4242\n")
        f.flush()
        fcntl.flock(f, fcntl.LOCK_EX)
        res = krefactor("series", "--recipe", "writeback-void", "--tree", str(fixture_tree))
    assert res.returncode == 1
    assert "another krefactor run (pid 4242)" in res.stderr
    assert "krefactor/" not in git(fixture_tree, "branch")


def test_a_signal_while_a_scratch_directory_is_made_leaves_nothing(tmp_path, monkeypatch):
    """The signal lands after mkdtemp, before the directory is anyone's to remove:
    it must wait until it is (the window the interruption test above hit in CI)."""
    git_dir = tmp_path / ".git"
    git_dir.mkdir()
    real = safety.process_start

    def signalled(pid):
        os.kill(os.getpid(), signal.SIGINT)
        return real(pid)

    monkeypatch.setattr(safety, "process_start", signalled)
    old = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    safety.install_signal_handlers()
    try:
        with pytest.raises(safety.Interrupted):
            with safety.scratch(git_dir, "spatch", remove_behind=True):
                time.sleep(1)
        for t in [t for t in threading.enumerate() if t.name.startswith("remove ")]:
            t.join()
        assert list((git_dir / "krefactor" / "tmp").iterdir()) == []
    finally:
        signal.signal(signal.SIGINT, old[0])
        signal.signal(signal.SIGTERM, old[1])
        proc.STOPPED.clear()


def test_no_command_starts_once_krefactor_is_stopping():
    try:
        proc.kill_children()
        with pytest.raises(proc.Stopped):
            proc.run(["true"])
    finally:
        proc.STOPPED.clear()
    assert proc.run(["true"]).returncode == 0


PMAP = """
import os, signal, sys
from refactor import proc
consumed = []
def items():
    for i in range(4):
        consumed.append(i)
        if i == 0:
            os.kill(os.getpid(), signal.SIGINT)   # lands while the threads start
        yield i
try:
    proc.pmap(lambda x: signal.pthread_sigmask(signal.SIG_BLOCK, set()), items(), 4)
except KeyboardInterrupt:
    print("interrupted after", len(consumed))
masks = proc.pmap(lambda x: signal.pthread_sigmask(signal.SIG_BLOCK, set()), range(3), 3)
print("held in a worker:", any(signal.SIGINT in m for m in masks))
print("held here:", signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set()))
"""


def test_a_signal_while_worker_threads_start_waits_until_they_have():
    """A handler that raises inside Thread.start() kills the new thread with
    a traceback on stderr (CPython's `del _limbo[self]`), as seen once in
    test_interrupted_run_leaves_nothing_behind."""
    res = subprocess.run([sys.executable, "-c", PMAP], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, timeout=60)
    assert res.stdout.splitlines() == ["interrupted after 4", "held in a worker: False",
                                       "held here: False"], res.stdout + res.stderr
    assert "Traceback" not in res.stderr and "Exception ignored" not in res.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_nothing_behind(fixture_tree, tmp_path, sig):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    scratch = fixture_tree / ".git" / "krefactor" / "tmp"
    before = snapshot(fixture_tree)
    env = dict(os.environ, TMPDIR=str(tmp))
    # The slow recipe keeps spatch at work for seconds: the whole fixture series
    # can finish before the signal lands.
    child = subprocess.Popen([sys.executable, "-c", "from refactor.cli import main; main()",
                              "series", "--tree", str(fixture_tree), "--timeout", "60",
                              "--recipe", str(slow_recipe(tmp_path))],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Interrupt once spatch is at work on a step (its scratch directory exists).
    deadline = time.monotonic() + 30
    while not list(scratch.glob("spatch-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(scratch.glob("spatch-*")), "spatch never started"
    child.send_signal(sig)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(scratch.iterdir()) == [] and list(tmp.iterdir()) == []
    assert snapshot(fixture_tree) == before
    assert git(fixture_tree, "worktree", "list").count("\n") == 1
    assert subprocess.run(["pgrep", "-f", f"spatch.*{scratch}"], capture_output=True).stdout == b""


SLOW = slow_cocci(0.3, """
@depends on patch@
expression E;
@@
- set_page_writeback(E)
+ folio_start_writeback(page_folio(E))
""")


def slow_recipe(tmp_path: Path) -> Path:
    """A recipe whose one step keeps spatch busy for a few seconds per file."""
    recipe = tmp_path / "slow-recipe"
    recipe.mkdir()
    (recipe / "slow.cocci").write_text(SLOW)
    (recipe / "recipe.toml").write_text(
        'name = "slow"\nsummary = "s"\ndescription = "d"\n[[steps]]\ncocci = "slow.cocci"\n'
        'grep = ["set_page_writeback"]\nsubject = "x: y"\nbody = "b"\n')
    return recipe


def start_slow_series(tree: Path, recipe: Path, env: dict[str, str]) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", "from refactor.cli import main; main()",
                              "series", "--tree", str(tree), "--recipe", str(recipe),
                              "--timeout", "60", "-j", "1"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    scratch = tree / ".git" / "krefactor" / "tmp"
    # Its owner record too: a run killed between mkdtemp and writing the
    # record leaves a directory that clean rightly refuses to remove.
    made = f"spatch-*/{safety.OWNER_FILE}"
    deadline = time.monotonic() + 30
    while not list(scratch.glob(made)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(scratch.glob(made)), "spatch never started"
    return child


def clean(tree: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from refactor.cli import main; main()",
                           "clean", "--tree", str(tree)],
                          env=dict(os.environ, TMPDIR=str(tmp)), capture_output=True, text=True)


def test_clean_spares_the_users_krefactor_named_directories(fixture_tree, tmp_path):
    tmp = tmp_path / "tmp"
    mine = tmp / "krefactor-mywork"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("notes\n")
    (tmp / "krefactor-tree.abc123").mkdir()
    state = fixture_tree / ".git" / "krefactor" / "build" / "out"
    state.mkdir(parents=True)
    res = clean(fixture_tree, tmp)
    assert res.returncode == 0, res.stderr
    assert not (fixture_tree / ".git" / "krefactor" / "build").exists()
    assert (mine / "notes.txt").read_text() == "notes\n"
    assert (tmp / "krefactor-tree.abc123").is_dir()
    assert "1 removed" in res.stdout and "krefactor-mywork" not in res.stdout


def test_clean_spares_a_live_run_on_another_tree(fixture_tree, tmp_path):
    other = tmp_path / "other"
    imported(FIXTURE, other)
    env = dict(os.environ, TMPDIR=str(tmp_path))
    child = start_slow_series(other, slow_recipe(tmp_path), env)
    try:
        live = sorted((other / ".git" / "krefactor" / "tmp").iterdir())
        res = clean(fixture_tree, tmp_path)
        assert res.returncode == 0, res.stderr
        assert all(d.is_dir() for d in live)
        # The other run is not corrupted: it finishes and makes its commit.
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert "krefactor/slow" in git(other, "branch")


def test_clean_removes_a_crashed_runs_scratch_and_spares_a_live_one(fixture_tree, tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    child = start_slow_series(fixture_tree, slow_recipe(tmp_path), env)
    child.kill()                       # SIGKILL: no finally runs, as in a crash
    child.communicate()
    scratch = fixture_tree / ".git" / "krefactor" / "tmp"
    [crashed] = list(scratch.glob("spatch-*"))
    # A live run's scratch (a real record of a live process: this test's pid) ...
    live = scratch / "spatch-live"
    live.mkdir()
    (live / safety.OWNER_FILE).write_text(json.dumps(
        {"git_dir": str((fixture_tree / ".git").resolve()), "pid": os.getpid(),
         "start": safety.process_start(os.getpid())}))
    # ... one whose pid was recycled by another process since ...
    recycled = scratch / "spatch-recycled"
    recycled.mkdir()
    (recycled / safety.OWNER_FILE).write_text(json.dumps(
        {"git_dir": str((fixture_tree / ".git").resolve()), "pid": os.getpid(), "start": "1"}))
    # ... and one with no record at all.
    unknown = scratch / "unknown"
    unknown.mkdir()
    res = clean(fixture_tree, tmp_path)
    assert res.returncode == 0, res.stderr
    assert not crashed.exists() and not recycled.exists()
    assert live.is_dir() and unknown.is_dir()
    assert f"kept {live} (in use by pid {os.getpid()})" in res.stdout
    assert f"kept {unknown} (no owner record)" in res.stdout
    assert "krefactor/slow" not in git(fixture_tree, "branch")


def test_clean_keeps_series_records_and_branches(fixture_tree, tmp_path):
    assert krefactor("series", "--recipe", "writeback-void",
                     "--tree", str(fixture_tree)).returncode == 0
    before = krefactor("coverage", "--recipe", "writeback-void",
                       "--tree", str(fixture_tree), "--json", str(tmp_path / "a.json"))
    assert before.returncode == 0, before.stderr
    res = clean(fixture_tree, tmp_path)
    assert res.returncode == 0, res.stderr
    after = krefactor("coverage", "--recipe", "writeback-void",
                      "--tree", str(fixture_tree), "--json", str(tmp_path / "b.json"))
    assert after.returncode == 0, after.stderr
    left = [s for s in json.loads((tmp_path / "a.json").read_text())["sites"]
            if s["disposition"] == "left"]
    assert left and all(s["reason"] for s in left)
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    assert "krefactor/writeback-void" in git(fixture_tree, "branch")


def test_deletion_outside_krefactors_state_is_refused(tmp_path):
    git_dir = tmp_path / "repo" / ".git"
    (git_dir / "krefactor" / "series").mkdir(parents=True)
    victim = tmp_path / "krefactor-precious"
    victim.mkdir()
    for path, why in ((victim, "outside"), (git_dir / "krefactor" / "series", "series is kept"),
                      (git_dir / "krefactor" / "build" / ".." / ".." / "config", "outside"),
                      (git_dir / "krefactor", "state directory itself")):
        with pytest.raises(KrefactorError, match=why):
            safety.remove(path, git_dir)
    assert victim.is_dir() and (git_dir / "krefactor" / "series").is_dir()


def test_run_sh_imports_where_no_cleanup_reaches(fixture_tree, tmp_path):
    # run.sh installs krefactor (pip -e, through setup.sh): into a venv of
    # this test's own, first on PATH, never into the machine's Python.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    env = dict(os.environ, TMPDIR=str(tmp_path), VIRTUAL_ENV=str(venv),
               PATH=f"{venv / 'bin'}:{os.environ['PATH']}")
    before = subprocess.run([sys.executable, "-m", "pip", "show", "-f", "krefactor"],
                            capture_output=True, text=True).stdout
    work = tmp_path / "user"
    work.mkdir()
    res = subprocess.run(["bash", str(ROOT / "scripts" / "run.sh")], cwd=work,
                         env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    imported = work / "out" / "linux-writeback-6.1"
    assert f"imported into {imported}" in res.stderr
    assert len(list((work / "out" / "writeback-void").glob("*.patch"))) == 14
    (imported / "my-work.c").write_text("int mine;\n")
    assert clean(fixture_tree, tmp_path).returncode == 0
    assert (imported / "my-work.c").read_text() == "int mine;\n"
    assert "krefactor/writeback-void" in git(imported, "branch")
    # A second run reuses the tree instead of importing again.
    again = subprocess.run(["bash", str(ROOT / "scripts" / "run.sh")], cwd=work,
                           env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert f"using the tree imported earlier: {imported}" in again.stderr
    assert (imported / "my-work.c").exists()
    assert list(venv.glob("lib/python*/site-packages/*krefactor*"))
    assert subprocess.run([sys.executable, "-m", "pip", "show", "-f", "krefactor"],
                          capture_output=True, text=True).stdout == before


def test_missing_spatch_is_one_line(fixture_tree, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("git", "tar"):
        os.symlink(shutil.which(tool), bindir / tool)
    res = subprocess.run([sys.executable, "-c", "from refactor.cli import main; main()",
                          "series", "--recipe", "writeback-void", "--tree", str(fixture_tree)],
                         env=dict(os.environ, PATH=str(bindir)), capture_output=True, text=True)
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        "krefactor: error: spatch not found on PATH; install Coccinelle "
        "(apt-get install coccinelle, or scripts/setup.sh)"]
    assert "krefactor/" not in git(fixture_tree, "branch")


def test_missing_make_for_compile_test(fixture_tree, tmp_path):
    assert krefactor("series", "--recipe", "writeback-void",
                     "--tree", str(fixture_tree)).returncode == 0
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
    res = krefactor("series", "--recipe", "writeback-void", "--tree", str(shallow))
    assert res.returncode == 0, res.stderr
    assert "13 commits" in res.stdout
    assert "note: shallow clone: subject prefixes are the MAINTAINERS defaults" in res.stderr
    full = krefactor("series", "--recipe", "writeback-void",
                     "--tree", str(fixture_tree), "--branch", "not-shallow")
    assert full.returncode == 0 and "shallow" not in full.stderr

    other = tmp_path / "wt"
    git(fixture_tree, "worktree", "add", "-q", "--detach", str(other))
    before = snapshot(fixture_tree)
    res = krefactor("series", "--recipe", "writeback-void",
                    "--tree", str(other), "--branch", "from-worktree")
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


def test_a_scratch_removed_behind_is_gone_once_its_thread_ends(fixture_tree):
    import threading
    git_dir = fixture_tree / ".git"
    with safety.scratch(git_dir, "spatch", remove_behind=True) as tmp:
        for i in range(50):
            (tmp / f"d{i}").mkdir()
            (tmp / f"d{i}" / "f.c").write_text("int x;\n")
    for t in threading.enumerate():
        if t.name == f"remove {tmp.name}":
            t.join()
    assert not tmp.exists()


def test_clean_removes_the_kept_spatch_results(fixture_tree, tmp_path):
    sp = Path(__file__).resolve().parent.parent / "semantic_patches" / "writeback-void" / \
        "01-afs-bug-on-start.cocci"
    git_dir = fixture_tree / ".git"
    cocci.run(sp, {"x.c": b"int x;\n"}, git_dir=git_dir, jobs=1)
    kept = git_dir / "krefactor" / cocci.CACHE_DIR
    assert len(list(kept.rglob("*.json"))) == 1
    res = clean(fixture_tree, tmp_path)
    assert res.returncode == 0, res.stderr
    assert not kept.exists() and str(kept) in res.stdout
