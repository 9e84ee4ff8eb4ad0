"""The Testing section of the cover letter: results kept per commit, shown
only for the very commits a series sends."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import git, krefactor, make_repo

from refactor import bootrec, buildrec, results
from refactor import tree as tree_mod
from refactor.tree import Sha


def three_commits(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.c": "0\n"})
    base = git(repo, "rev-parse", "HEAD").strip()
    shas = []
    for i in (1, 2, 3):
        (repo / "a.c").write_text(f"{i}\n")
        git(repo, "commit", "-qam", f"c{i}")
        shas.append(git(repo, "rev-parse", "HEAD").strip())
    return tree_mod.open_tree(repo), Sha(base), shas


def test_the_testing_section_sums_up_builds_and_boots_of_these_commits(tmp_path):
    t, base, shas = three_commits(tmp_path)
    assert results.testing(t, base, Sha(shas[-1])) == ""
    b = buildrec.BuildResult(base, shas[-1], "x86_64 defconfig", commits=[
        buildrec.CommitBuild(s, f"c{i}", changed_lines=4,
                             not_compiled=[buildrec.Missed("a.c", 1)] if i == 2 else [])
        for i, s in enumerate(shas, 1)])
    results.record_build(t, b)
    r = bootrec.BootResult(base, shas[-1], "each", accel="tcg")
    r.commits.append(bootrec.CommitBoot(base, "(base)", 0, workloads=[
        bootrec.WorkloadResult("ext2", "PASS"), bootrec.WorkloadResult("nfs", "FAIL")]))
    for i, s in enumerate(shas, 1):
        cb = bootrec.CommitBoot(s, f"c{i}", i, workloads=[
            bootrec.WorkloadResult("ext2", "PASS", carried_from=1 if i == 3 else None),
            bootrec.WorkloadResult("nfs", "FAIL" if i == 2 else "PASS",
                                carried_from=1 if i == 3 else None)])
        r.commits.append(cb)
    for c in r.commits:
        results.record_commit_boot(t, c, r.accel)
    text = results.testing(t, base, Sha(shas[-1]))
    assert text.startswith("Testing (krefactor, on these 3 commits):")
    flat = " ".join(text.split())
    assert ("compile-test, x86_64 defconfig: 3 of 3 commits build; 11 of 12 changed lines "
            "compiled (91.7%).") in flat
    assert "QEMU TCG, x86_64): the base and 2 of 3 commits booted, 2 workloads" in flat
    assert "PASS at every commit: ext2." in flat
    assert "FAIL: nfs at 2/3 (also at the base)." in flat
    # A later run of one commit wins; a commit made again (another sha) has none.
    b2 = buildrec.BuildResult(base, shas[1], "x86_64 defconfig", commits=[
        buildrec.CommitBuild(shas[1], "c2", status="fail", changed_lines=4)])
    results.record_build(t, b2)
    assert "2 of 3 commits build; 12 of 12 changed lines compiled (100.0%); fails at 2/3." \
        in " ".join(results.testing(t, base, Sha(shas[-1])).split())
    git(t.path, "commit", "-q", "--amend", "-m", "c3 again")
    other = git(t.path, "rev-parse", "HEAD").strip()
    flat = " ".join(results.testing(t, base, Sha(other)).split())
    assert "(1 not compile-tested)" in flat and "PASS where run, not at every commit: " \
        "ext2 (2 of 3), nfs (2 of 3)." not in flat and "ext2 (2 of 3)" in flat


def test_each_patch_notes_its_own_results_below_the_cut(tmp_path):
    t, base, shas = three_commits(tmp_path)
    b = buildrec.BuildResult(base, shas[-1], "x86_64 defconfig", commits=[
        buildrec.CommitBuild(s, f"c{i}", changed_lines=4,
                             not_compiled=[buildrec.Missed("a.c", 1)] if i == 2 else [])
        for i, s in enumerate(shas[:2], 1)])
    results.record_build(t, b)
    r = bootrec.BootResult(base, shas[-1], "each", accel="tcg")
    r.commits.append(bootrec.CommitBoot(shas[1], "c2", 2, workloads=[
        bootrec.WorkloadResult("ext2", "PASS"), bootrec.WorkloadResult("nfs", "FAIL")]))
    for c in r.commits:
        results.record_commit_boot(t, c, r.accel)
    out = tmp_path / "out"
    made = git(t.path, "format-patch", "--cover-letter", "-o", str(out), f"{base}..{shas[-1]}")
    paths = [Path(line) for line in made.split()]
    results.add_notes(t, paths)
    texts = [p.read_text() for p in paths]
    assert "krefactor:" not in texts[0]
    assert "\n---\nkrefactor: builds on x86_64 defconfig (4/4 changed lines compiled)\n\n" \
        in texts[1]
    assert "\n---\nkrefactor: builds on x86_64 defconfig (3/4 changed lines compiled); " \
        "1/2 boot workloads PASS, FAIL: nfs\n\n" in texts[2]
    # Not tested: no note; the patch still applies.
    assert "krefactor:" not in texts[3]
    git(t.path, "checkout", "-q", "--detach", base)
    git(t.path, "am", "-q", *map(str, paths[1:]))
    tip_tree = git(t.path, "rev-parse", f"{shas[-1]}^{{tree}}")
    assert git(t.path, "rev-parse", "HEAD^{tree}") == tip_tree


def test_results_shows_every_commit_of_several_runs_as_one_matrix(tmp_path):
    t, base, shas = three_commits(tmp_path)
    tip = Sha(shas[-1])
    assert "no compile-test or boot-test records" in results.matrix_text(
        results.matrix(t, base, tip))
    # One run: ext2 booted at the base and at c1, c2 the same kernel as c1,
    # c3 not run (carried) and failing there.
    r = bootrec.BootResult(base, tip, "each", accel="tcg")
    r.commits.append(bootrec.CommitBoot(base, "(base)", 0,
                                        workloads=[bootrec.WorkloadResult("ext2", "PASS")]))
    r.commits.append(bootrec.CommitBoot(shas[0], "c1", 1,
                                        workloads=[bootrec.WorkloadResult("ext2", "PASS")]))
    r.commits.append(bootrec.CommitBoot(shas[1], "c2", 2, same_kernel_as=1,
                                        workloads=[bootrec.WorkloadResult("ext2", "PASS")]))
    r.commits.append(bootrec.CommitBoot(shas[2], "c3", 3, workloads=[
        bootrec.WorkloadResult("ext2", "FAIL", carried_from=2)]))
    for c in r.commits:
        results.record_commit_boot(t, c, r.accel)
    # A second run, of another workload at c2 only; a build record at c1.
    results.record_commit_boot(t, bootrec.CommitBoot(shas[1], "c2", 2, workloads=[
        bootrec.WorkloadResult("nfs", "FAIL")]), "tcg")
    results.record_build(t, buildrec.BuildResult(base, tip, "x86_64 defconfig", commits=[
        buildrec.CommitBuild(shas[0], "c1", changed_lines=1)]))
    m = results.matrix(t, base, tip)
    assert [c["subject"] for c in m["commits"]] == ["(base)", "c1", "c2", "c3"]
    assert [(r["kind"], r["name"], "".join(r["cells"])) for r in m["rows"]] == [
        ("compile", "x86_64 defconfig", "-P--"), ("boot", "ext2", "PP=f"),
        ("boot", "nfs", "--F-")]
    lines = results.matrix_text(m).splitlines()
    assert lines[0].startswith(f"Kept results for {base[:12]}..{tip[:12]} (3 commits)")
    assert lines[2].split() == ["base", "1-3"]
    assert lines[3].split() == ["compile", "x86_64", "defconfig", "-", "P--", "1/3"]
    assert lines[4].split() == ["ext2", "P", "P=f", "3/3,", "1", "failed"]
    assert lines[5].split() == ["nfs", "-", "-F-", "1/3,", "1", "failed"]
    assert lines[-1].split() == ["3", shas[2][:12], "c3"]
    out = tmp_path / "m.json"
    done = krefactor("results", "--tree", str(t.path), "--range", f"{base}..{tip}",
                     "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[4] == lines[4]
    assert json.loads(out.read_text())["rows"] == m["rows"]
    bad = krefactor("results", "--tree", str(t.path), "--range", "nosuch..HEAD")
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 \
        and "unknown revision" in bad.stderr
