"""Hermetic git for every test: fake HOME, no system config, fixed identity and dates."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "writeback-6.1"
# The krefactor that subprocesses run is this checkout's, whatever the
# machine's Python has installed (setup.sh's editable install may point at
# another clone).
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite golden files from this run (review the diff).")


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_EDITOR", "false")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-01-01T00:00:00+0000")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-01T00:00:00+0000")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Kernel Dev\n\temail = dev@example.org\n"
        "[init]\n\tdefaultBranch = master\n")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True,
                          capture_output=True, text=True).stdout


def make_repo(path: Path, files: dict[str, str]) -> Path:
    """A tiny git repository holding `files`, one commit."""
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        f = path / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "base")
    return path


def snapshot(repo: Path) -> dict[str, str]:
    """What a user could lose: refs, HEAD, index and working files."""
    state = {"refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
             "head": git(repo, "rev-parse", "HEAD") + subprocess.run(
                 ["git", "-C", str(repo), "symbolic-ref", "-q", "HEAD"],
                 capture_output=True, text=True).stdout,
             "status": git(repo, "status", "--porcelain=v2", "--untracked-files=all"),
             "index": (repo / ".git" / "index").read_bytes().hex()
             if (repo / ".git" / "index").exists() else ""}
    for f in sorted(repo.rglob("*")):
        if ".git" not in f.parts and f.is_file():
            state[str(f.relative_to(repo))] = f.read_bytes().hex()
    return state


def slow_cocci(seconds: float, extra: str = "") -> str:
    """A semantic patch that sleeps `seconds` in Python at every call it sees,
    to keep spatch busy; `extra` adds rules."""
    return ("virtual patch\n@r@\nidentifier f;\nposition p;\n@@\nf@p(...)\n"
            "@script:python@\np << r.p;\n@@\nimport time\n"
            f"time.sleep({seconds})\n" + extra)


TARBALL = Path("/usr/src/linux-source-6.1.tar.xz")
CACHE = Path(os.environ.get("KREFACTOR_CACHE", Path.home() / ".cache" / "krefactor"))


def imported(src: Path, dest: Path) -> Path:
    """`krefactor import` of a fixture (or tarball) to `dest`, which must succeed."""
    res = krefactor("import", str(src), "--to", str(dest))
    assert res.returncode == 0, res.stderr
    return dest


def unprepared_recipe(dest: Path) -> Path:
    """writeback-void without its prepare step: the series as it was before
    issue 11, whose VFS commit oopses at fs/buffer.c:1786."""
    import shutil
    shutil.copytree(ROOT / "semantic_patches" / "writeback-void", dest)
    toml = (dest / "recipe.toml").read_text()
    a = toml.index('[[steps]]\ncocci = "06-prepare-writepage.cocci"')
    b = toml.index('[[steps]]\ncocci = "07-call-wait-start.cocci"')
    (dest / "recipe.toml").write_text(toml[:a] + toml[b:])
    return dest


def krefactor(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from refactor.cli import main; main()", *args],
                          cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="session")
def real_baseline() -> Path:
    """The real 6.1 tree imported once and cached outside the repository."""
    if not TARBALL.exists():
        pytest.fail(f"{TARBALL} missing: run scripts/setup.sh (Debian package linux-source-6.1)")
    dest = CACHE / "linux-6.1"
    if subprocess.run(["git", "-C", str(dest), "rev-parse", "-q", "--verify", "HEAD"],
                      capture_output=True).returncode != 0:
        subprocess.run(["rm", "-rf", str(dest)], check=True)
        imported(TARBALL, dest)
    return dest


def shared_clone(baseline: Path, clone: Path) -> Path:
    """A `git clone --shared` of the real baseline, with the test identity."""
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(baseline),
                    str(clone)], check=True)
    for k, v in (("user.name", "Kernel Dev"), ("user.email", "dev@example.org")):
        git(clone, "config", k, v)
    return clone


def check_golden(produced: dict[str, str], golden: Path, request) -> None:
    """Compare patches with the reviewed golden files (--update-golden rewrites them)."""
    if request.config.getoption("--update-golden"):
        golden.mkdir(parents=True, exist_ok=True)
        for old in golden.glob("*.patch"):
            old.unlink()
        for name, text in produced.items():
            (golden / name).write_text(text)
    expected = {p.name: p.read_text() for p in sorted(golden.glob("*.patch"))}
    assert list(produced) == list(expected)
    for name in expected:
        assert produced[name] == expected[name], name


@pytest.fixture(scope="session")
def real_series(real_baseline, tmp_path_factory):
    """A shared clone of the baseline with the writeback-void series generated."""
    work = tmp_path_factory.mktemp("real")
    clone = shared_clone(real_baseline, work / "linux")
    res = krefactor("series", "--recipe", "writeback-void",
                    "--tree", str(clone), "--output", str(work / "out"),
                    "--json", str(work / "series.json"))
    assert res.returncode == 0, res.stderr
    return clone, work / "out", res.stdout


def relaid_hunks(repo: Path, rng: str) -> list[str]:
    """Hunks of `rng` where a token the change kept, next to another kept
    one, has other whitespace before it than in the original: layout the
    change did not need. Compared token by token over each hunk's - and +
    lines, so a call joined onto one line or broken in two counts too."""
    import difflib
    import re

    from refactor.respace import tokens
    diff = subprocess.run(["git", "-C", str(repo), "diff", "-U0", "--no-renames", rng],
                          capture_output=True, text=True, errors="surrogateescape",
                          check=True).stdout
    found, path = [], ""
    for chunk in re.split(r"\n(?=@@|diff --git)", diff):
        if chunk.startswith("diff --git"):
            path = chunk.split(" b/", 1)[1].split("\n", 1)[0]
            continue
        lines = chunk.splitlines()
        old = "\n".join(l[1:] for l in lines[1:] if l.startswith("-"))
        new = "\n".join(l[1:] for l in lines[1:] if l.startswith("+"))
        a, b = tokens(old), tokens(new)
        ops = difflib.SequenceMatcher(None, [t for _, t in a], [t for _, t in b],
                                      autojunk=False).get_opcodes()
        if any(op == "equal" and any(a[i][0] != b[j][0] for i, j in
                                     zip(range(i1 + 1, i2), range(j1 + 1, j2)))
               for op, i1, i2, j1, j2 in ops):
            found.append(f"{path} {lines[0]}")
    return found
