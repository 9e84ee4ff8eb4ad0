"""The strlcpy-strscpy recipe on the real 6.1 tree: series, then what is left,
then coverage and review (compile-test runs on a slice)."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import git, krefactor, relaid_hunks, shared_clone

from refactor.recipe import load

pytestmark = pytest.mark.real
BRANCH = "krefactor/strlcpy-strscpy"


@pytest.fixture(scope="module")
def strlcpy_series(real_baseline, tmp_path_factory):
    work = tmp_path_factory.mktemp("strlcpy")
    clone = shared_clone(real_baseline, work / "linux")
    res = krefactor("series", "--tree", str(clone), "--recipe", "strlcpy-strscpy",
                    "--json", str(work / "series.json"))
    assert res.returncode == 0, res.stderr
    return clone, json.loads((work / "series.json").read_text()), work


def tip_lines(repo: Path, pattern: str) -> list[tuple[str, int, str]]:
    out = subprocess.run(["git", "-C", str(repo), "grep", "-n", "-E", pattern, BRANCH, "--",
                          "*.c", "*.h"], capture_output=True, text=True).stdout
    return [(f, int(n), text) for _, f, n, text in
            (line.split(":", 3) for line in out.splitlines())]


def test_one_commit_per_maintainers_section(strlcpy_series):
    repo, data, _ = strlcpy_series
    subjects = git(repo, "log", "--format=%s", f"master..{BRANCH}").splitlines()
    assert len(subjects) >= 50 and len(set(subjects)) == len(subjects)
    assert all(s.endswith(": replace strlcpy() with strscpy()") for s in subjects)
    assert "drm/i915: replace strlcpy() with strscpy()" in subjects


def test_what_is_left_is_exactly_the_value_users(strlcpy_series):
    repo, data, _ = strlcpy_series
    excluded = load("strlcpy-strscpy").excluded_paths + ("tools",)
    left = {(s["file"], s["line"]) for s in data["sites"] if s["verdict"] == "left"}
    changed = [s for s in data["sites"] if s["verdict"] == "changed"]
    assert len(changed) >= 150
    # Every left site is a call whose value is used (or a macro body), with the reason.
    for s in data["sites"]:
        if s["verdict"] != "left":
            continue
        text = git(repo, "show", f"master:{s['file']}").splitlines()[s["line"] - 1]
        assert not re.match(r"^\s*strlcpy\(.*\);\s*$", text), (s, text)
        assert "-E2BIG" in s["reason"] or "macro definition" in s["reason"], s
    # No statement strlcpy(...); is left where spatch parsed the code: those left
    # are in excluded paths, or in macro arguments coverage lists as NEEDS REVIEW.
    for f, n, text in tip_lines(repo, r"^\s*strlcpy\(.*\);\s*$"):
        if f.startswith(tuple(p + "/" for p in excluded)) or f in excluded:
            continue
        assert f.startswith(("include/trace/", "samples/trace_events/", "fs/nfsd/trace.h")) \
            or "trace" in f, (f, n, text)
        assert (f, n) not in left


def test_coverage_gives_every_reference_a_disposition(strlcpy_series, tmp_path):
    repo, _, _ = strlcpy_series
    out = tmp_path / "coverage.json"
    res = krefactor("coverage", "--tree", str(repo), "--recipe", "strlcpy-strscpy",
                    "--json", str(out))
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    counts = data["counts"]
    assert counts["changed"] >= 150 and counts["excluded"] >= 26
    for s in data["sites"]:
        assert s["reason"] or s["commit"], s
        if s["disposition"] == "NEEDS REVIEW" and s["kind"] == "text-only":
            assert "TP_fast_assign()" in s["reason"] or "spatch" in s["reason"], s
    tools = [s for s in data["sites"] if s["file"].startswith("tools/")]
    assert tools and all(s["disposition"] == "excluded" for s in tools)


def test_compile_test_builds_every_commit(strlcpy_series, tmp_path):
    repo, _, _ = strlcpy_series
    out = tmp_path / "ct.json"
    res = krefactor("compile-test", "--tree", str(repo), "--recipe", "strlcpy-strscpy",
                    "--json", str(out))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    data = json.loads(out.read_text())
    assert all(c["status"] == "pass" for c in data["commits"])
    missed = [line for c in data["commits"] for line in c["not_compiled"]]
    added = [l for l in git(repo, "diff", "-U0", "master", BRANCH).splitlines()
             if l.startswith("+") and not l.startswith("+++")]
    # The lines x86 cannot build go to the cross compilers setup installs;
    # what is left says why (no compiler for nios2, #if'd out, ...). On
    # 6.1.192: 9 of 178 added lines (the series keeps the original's line
    # breaks, so a call's continuation lines are no longer '+' lines).
    assert 1 - len(missed) / len(added) >= 0.94, missed
    assert not any(line.startswith(("arch/arm/", "arch/sparc/", "drivers/scsi/ibmvscsi/"))
                   for line in missed), missed
    crossed = {o for c in data["commits"] for o in c["objects"] if o.endswith(")")}
    assert {"arch/arm/kernel/setup.o (arm)", "arch/sparc/kernel/setup_32.o (sparc)",
            "drivers/scsi/ibmvscsi/ibmvscsi.o (powerpc)",
            "drivers/gpu/drm/mediatek/mtk_hdmi_ddc.o (arm64)"} <= crossed
    why = {f: w for c in data["commits"] for f, w in c["why_not"].items()}
    assert set(why) == {line.rsplit(":", 1)[0] for line in missed}
    assert why["arch/nios2/kernel/setup.c"] == "nios2: Debian ships no cross compiler for it"
    # A file another one #includes does not build on its own, at the parent
    # either: not the commit's fault, and not compiled.
    reasons = [r for c in data["commits"] for r in c["not_built"]]
    assert any(r.startswith("drivers/gpu/drm/i915/selftests/i915_perf.c: does not build on "
                            "its own, at the parent either") for r in reasons)
    # Its preprocessed lines prove nothing when the object does not build.
    assert any(line.startswith("drivers/gpu/drm/i915/selftests/i915_perf.c:") for line in missed)


def test_review_checkpatch_strict_finds_nothing_the_series_made(strlcpy_series, tmp_path):
    repo, _, _ = strlcpy_series
    out = tmp_path / "review.json"
    res = krefactor("review", "--tree", str(repo), "--recipe", "strlcpy-strscpy",
                    "--json", str(out))
    assert res.returncode == 0, res.stderr
    commits = json.loads(out.read_text())["commits"]
    assert len(commits) >= 50
    assert all(c["checkpatch_summary"] and (c["to"] or c["cc"]) for c in commits)
    assert "subsystem" in res.stdout and "checkpatch" in res.stdout
    assert f"checkpatch: {len(commits)} patches in" in res.stderr
    # checkpatch --strict finds only what the lines replaced had already:
    # the series keeps sparc's `XNMLN+1`, and says so.
    findings = [(c["subject"], f) for c in commits for f in c["checkpatch"]]
    assert all(f.startswith("(inherited) ") for _, f in findings), findings
    assert any(s == "sparc: replace strlcpy() with strscpy()" and f.endswith(
        ": CHECK:SPACING: spaces preferred around that '+' (ctx:VxV)") for s, f in findings)
    assert "(inherited): the lines the commit replaces have it too" in res.stdout


def test_the_series_changes_only_what_the_change_needs(strlcpy_series):
    """spatch joins, breaks and re-indents the calls it rewrites; the series
    keeps the original layout of every token it did not change."""
    repo, _, _ = strlcpy_series
    assert relaid_hunks(repo, f"master..{BRANCH}") == []
    eisa = git(repo, "diff", "master", BRANCH, "--", "drivers/eisa/eisa-bus.c")
    assert "-\t\t\tstrlcpy(edev->pretty_name,\n+\t\t\tstrscpy(edev->pretty_name,\n \t\t\t\t" \
        "eisa_table[i].name,\n" in eisa
