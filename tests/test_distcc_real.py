"""compile-test on a real build farm: two distccd hosts, each in a network
namespace of its own, reachable only from the namespace compile-test runs in."""
from __future__ import annotations

import json
import sys

import pytest
from conftest import git, krefactor
from farm import Farm, usable

pytestmark = pytest.mark.real

KEYS = ("subject", "status", "objects", "errors", "new_warnings", "not_compiled", "not_built")


def test_compile_test_on_a_distcc_farm(real_series, tmp_path):
    why = usable()
    if why:
        pytest.fail(f"no build farm here: {why}")
    repo, _, _ = real_series
    # The first two commits of the writeback series, counted from the base (the
    # series grows as the recipe learns): the AFS and NFS fixes, each with an
    # object of its own (fs/afs/write.o, fs/nfs/write.o).
    second = git(repo, "rev-list", "--reverse", "master..krefactor/writeback-void").split()[1]
    span = f"master..{second}"
    # Locally first (ccache gcc), in the series' own tree.
    local = krefactor("compile-test", "--tree", str(repo), "--range", span,
                      "--json", str(tmp_path / "local.json"))
    assert local.returncode == 0, local.stdout + local.stderr
    # The farm builds in a clone of its own, so that nothing is already built
    # and every object goes through distcc.
    clone = tmp_path / "linux"
    git(tmp_path, "clone", "-q", "--shared", "--no-checkout", str(repo), str(clone))
    git(clone, "branch", "krefactor/writeback-void", "origin/krefactor/writeback-void")
    with Farm(hosts=2) as farm:
        res = farm.run([sys.executable, "-c", "from refactor.cli import main; main()",
                        "compile-test", "--tree", str(clone), "--range", span,
                        "--cc", "distcc gcc", "-j", "4", "--json", str(tmp_path / "farm.json")],
                       # No quiet fallback to compiling here: a host that cannot
                       # compile fails the build.
                       env={"DISTCC_FALLBACK": "0"}, timeout=1800)
        compiled = farm.compiled()
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    # Both hosts compiled objects, and distcc's own log says so.
    assert all(n > 0 for n in compiled), compiled
    farm_data = json.loads((tmp_path / "farm.json").read_text())
    local_data = json.loads((tmp_path / "local.json").read_text())
    # The same verdicts, objects and lines as the local build.
    assert [{k: c[k] for k in KEYS} for c in farm_data["commits"]] \
        == [{k: c[k] for k in KEYS} for c in local_data["commits"]]
    assert len(farm_data["commits"]) == 2
    assert "fs/afs/write.o" in farm_data["commits"][0]["objects"]


def test_boot_test_builds_its_kernels_on_a_distcc_farm(real_series, tmp_path):
    """boot-test's kernels go through the same `--cc`: a cold kernel and an
    incremental one on two distccd hosts, then booted. The range is one commit
    that every boot config builds (fs/mpage.c), so the second kernel differs
    from the first and is built too."""
    why = usable()
    if why:
        pytest.fail(f"no build farm here: {why}")
    repo, _, _ = real_series
    [mpage] = git(repo, "log", "--format=%H", "--fixed-strings",
                  "--grep=mpage: do not start writeback",
                  "master..krefactor/writeback-void").split()
    clone = tmp_path / "linux"
    git(tmp_path, "clone", "-q", "--shared", "--no-checkout", str(repo), str(clone))
    git(clone, "branch", "krefactor/writeback-void", "origin/krefactor/writeback-void")
    out = tmp_path / "farm.json"
    with Farm(hosts=2) as farm:
        res = farm.run([sys.executable, "-c", "from refactor.cli import main; main()",
                        "boot-test", "--recipe", "writeback-void", "--tree", str(clone),
                        "--range", f"{mpage}~1..{mpage}", "--workload", "bdev",
                        "--cc", "distcc gcc", "-j", "4", "--json", str(out)],
                       env={"DISTCC_FALLBACK": "0"}, timeout=2400)
        compiled = farm.compiled()
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert all(n > 0 for n in compiled), compiled
    data = json.loads(out.read_text())
    assert [c["index"] for c in data["commits"]] == [0, 1]
    for c in data["commits"]:
        [w] = c["workloads"]
        assert (w["name"], w["status"]) == ("bdev", "PASS"), (c["index"], w["why"])
        assert w["proof"]["nr_written"] > 0
    # Kbuild kept the farm's compiler in each object's command.
    cmd = clone / ".git" / "krefactor" / "build" / "boot" / "out" / "fs" / ".mpage.o.cmd"
    assert cmd.read_text().startswith("cmd_fs/mpage.o := distcc gcc ")
