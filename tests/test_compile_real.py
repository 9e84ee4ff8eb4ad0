"""compile-test end to end on the real 6.1 tree: the series, a broken series, #ifdef'd code."""
from __future__ import annotations

import json
import re

import pytest
from conftest import git, krefactor

from refactor import tree as tree_mod
from refactor.recipe import BUILTIN

pytestmark = pytest.mark.real


def test_writeback_series_builds_at_every_commit(real_series, tmp_path):
    repo, _, _ = real_series
    res = krefactor("compile-test", "--tree", str(repo), "--range",
                    "master..krefactor/writeback-void", "--json", str(tmp_path / "ct.json"))
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads((tmp_path / "ct.json").read_text())
    subjects = git(repo, "log", "--format=%s", "master..krefactor/writeback-void").splitlines()
    assert len(data["commits"]) == len(subjects) == 37
    assert all(c["status"] == "pass" for c in data["commits"])
    # Every changed line is compiled: hostfs's, which x86 cannot build, on UML.
    assert not any(c["not_compiled"] for c in data["commits"])
    hostfs = next(c for c in data["commits"] if c["subject"].startswith("hostfs:"))
    assert hostfs["objects"] == ["fs/hostfs/hostfs_kern.o (um)"]
    assert not hostfs["not_built"]
    assert "changed lines not compiled (100.0% compiled)" in res.stdout
    # The cold run says where its time went, stage by stage.
    assert re.search(r"^(export and )?plan: 37 commits, \d+\.\ds$", res.stderr, re.M), res.stderr
    assert re.search(r"^config: \d+\.\ds$", res.stderr, re.M)
    assert re.search(r"^users of the changed headers: \d+\.\ds$", res.stderr, re.M)
    strict = krefactor("compile-test", "--tree", str(repo), "--range",
                       "master..krefactor/writeback-void", "--strict")
    assert strict.returncode == 0
    void = data["commits"][3]
    assert "return void" in void["subject"]
    # The header change builds the users of the changed functions, AFS among them.
    assert "fs/afs/write.o" in void["objects"] and len(void["objects"]) > 20
    # Removing an inline nothing calls any more builds direct includers only.
    remove = data["commits"][2]
    assert "remove test_set_page_writeback" in remove["subject"]
    assert 1 <= len(remove["objects"]) <= 2, remove["objects"]
    assert "CONFIG_AFS_FS" in data["enabled"]
    # defconfig turns warnings into errors; compile-test compares them instead.
    assert data["disabled"] == ["CONFIG_WERROR"]
    assert not any("UBIFS" in u for u in data["unmet"])     # needs MTD, from an if block
    # The compiler went through ccache (installed by scripts/setup.sh).
    cache = repo / ".git" / "krefactor" / "build" / "ccache"
    assert sum(1 for f in cache.rglob("*") if f.is_file()) > 20


def test_broken_order_names_the_commit_and_file(real_series, tmp_path):
    """The void change ordered before the AFS fix must fail in fs/afs/write.c."""
    repo, _, _ = real_series
    steps = {"02": "nfs: x", "03": "mm: remove", "04": "mm: void", "01": "afs: fix"}
    recipe = tmp_path / "broken"
    recipe.mkdir()
    toml = ['name = "broken"\nsummary = "s"\ndescription = "d"\n']
    for num, subject in steps.items():
        cocci = next(BUILTIN.glob(f"writeback-void/{num}-*.cocci"))
        toml.append(f'[[steps]]\ncocci = "{cocci}"\ngrep = ["folio_start_writeback", '
                    f'"test_set_page_writeback", "set_page_writeback"]\n'
                    f'paths = ["fs/afs", "fs/nfs", "include/linux", "mm"]\n'
                    f'subject = "{subject}"\nbody = "b"\n')
    (recipe / "recipe.toml").write_text("\n".join(toml))
    made = krefactor("series", "--tree", str(repo), "--recipe", str(recipe),
                     "--branch", "broken")
    assert made.returncode == 0, made.stderr
    res = krefactor("compile-test", "--tree", str(repo), "--range", "master..broken")
    assert res.returncode == 1, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    fail = [l for l in lines if " FAIL " in l]
    assert len(fail) == 1 and "mm: void" in fail[0]
    assert any("fs/afs/write.c:" in l and "error:" in l for l in lines)


def test_change_under_disabled_ifdef_is_not_compiled(real_series):
    repo, _, _ = real_series
    t = tree_mod.open_tree(repo)
    base = t.rev("master")
    path = "mm/folio-compat.c"
    text = t.read(base, [path])[path].decode()
    text += ("\nstatic int __maybe_unused krefactor_seen;\n"
             "#ifdef CONFIG_KREFACTOR_NEVER_SET\nint krefactor_hidden;\n#endif\n")
    sha = t.commit(base, {path: text.encode()}, "mm: probe\n", t.identity())
    t.update_branch("probe", sha, None)
    hidden = len(text.splitlines()) - 1
    res = krefactor("compile-test", "--tree", str(repo), "--range", "master..probe")
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"NOT COMPILED: {path}:{hidden}" in res.stdout
    assert f"NOT COMPILED: {path}:{hidden - 2}" not in res.stdout
    strict = krefactor("compile-test", "--tree", str(repo), "--range", "master..probe",
                       "--strict")
    assert strict.returncode == 1
    # The second run over the same range keeps the config it made.
    assert "config: unchanged since the last run" in strict.stderr


def test_new_warnings_are_told_from_old_ones(real_series, tmp_path):
    """An object that warns is built at the parent too: only the new warning counts."""
    repo, _, _ = real_series
    t = tree_mod.open_tree(repo)
    base = t.rev("master")
    path = "mm/folio-compat.c"
    text = t.read(base, [path])[path].decode() + "\nstatic int krefactor_old_unused;\n"
    old = t.commit(base, {path: text.encode()}, "mm: old warning\n", t.identity())
    text += "static int krefactor_new_unused;\n"
    new = t.commit(old, {path: text.encode()}, "mm: new warning\n", t.identity())
    t.update_branch("warnings", new, None)
    res = krefactor("compile-test", "--tree", str(repo), "--range", f"{old}..warnings",
                    "--json", str(tmp_path / "w.json"))
    assert res.returncode == 0, res.stdout + res.stderr
    (commit,) = json.loads((tmp_path / "w.json").read_text())["commits"]
    (warning,) = [w for w in commit["new_warnings"] if "krefactor_" in w]
    assert warning.startswith(f"{path}:{len(text.splitlines())}: warning: ")
    assert "krefactor_new_unused" in warning and "defined but not used" in warning
    assert "parent build at the base" in res.stderr
