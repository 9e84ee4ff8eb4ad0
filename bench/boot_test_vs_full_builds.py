"""Time `krefactor boot-test` against a full kernel build and a boot per commit.

krefactor runs cold (after `krefactor clean`: export, tinyconfig, every
build in its time) with `--each` (or base and tip with --ends), through
ccache as it does by default. The baseline, in the same run, does what a
developer without krefactor does: at each commit, a full `make bzImage`
from an empty O= directory with the very .config krefactor made (no
ccache), and one boot running the same workloads through the same QEMU
code. Printed: wall times, the ratio, and the issue's targets (boot to the
first workload <= 10 s, all workloads on one commit <= 2 min, cold base +
tip <= 10 min, --each on 13 commits <= 25 min).

Run by hand; a full build is minutes per commit. --commits N limits the
baseline to the first N commits (its per-commit mean is extrapolated and
printed as such), --budget SECONDS stops it early (a lower bound).

    python3 bench/boot_test_vs_full_builds.py TREE master..krefactor/writeback-void \\
        [--ends] [--workload NAME ...] [--commits N] [--budget SECONDS]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from refactor import bootrec, guest, safety, workspace
from refactor import recipe as recipe_mod
from refactor import tree as tree_mod
from refactor.workloads import load_workloads


def krefactor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from refactor.cli import main; main()", *args],
                          capture_output=True, text=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tree")
    ap.add_argument("range")
    ap.add_argument("--ends", action="store_true", help="krefactor tests base and tip only")
    ap.add_argument("--workload", action="append", default=[])
    ap.add_argument("--commits", type=int, default=None)
    ap.add_argument("--budget", type=float, default=None)
    a = ap.parse_args()
    wl = [x for w in a.workload for x in ("--workload", w)]

    krefactor("clean", "--tree", a.tree)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "boot.json"
        started = time.monotonic()
        res = krefactor("boot-test", "--tree", a.tree, "--range", a.range,
                        *([] if a.ends else ["--each"]), *wl, "--json", str(out))
        k_wall = time.monotonic() - started
        if not out.exists():
            sys.exit(f"krefactor boot-test failed: {res.stderr[-2000:]}")
        data = json.loads(out.read_text())
    commits = sorted(data["commits"], key=lambda c: c["index"])
    print(f"krefactor boot-test {'base+tip' if a.ends else '--each'} ({len(commits)} kernels, "
          f"QEMU {data['accel']}), cold: {k_wall:.0f}s wall (exit {res.returncode})")
    for c in commits:
        first = c["boot_to_first_workload"]          # None: not booted (same kernel)
        print(f"  [{c['index']:2}] build {c['build_seconds']:5.0f}s  boots {c['boots']} "
              f"{c['boot_seconds']:5.0f}s  first workload at "
              f"{'-' if first is None else f'{first}s'}  "
              f"{c['status']}  {c['subject'][:50]}")
    firsts = [c["boot_to_first_workload"] for c in commits if c["boot_to_first_workload"]]
    print(f"boot to the first workload: max {max(firsts):.1f}s (target <= 10s)")
    print(f"all workloads on one commit: max {max(c['boot_seconds'] for c in commits):.0f}s "
          "(target <= 120s)")
    print(f"{'cold base + tip' if a.ends else '--each'}: {k_wall:.0f}s (target "
          f"{'<= 600s' if a.ends else '<= 1500s on 13 commits'})")

    # Baseline: a full build and a boot per commit, same config and workloads.
    t = tree_mod.open_tree(a.tree)
    rec = recipe_mod.load("writeback-void")
    workloads = load_workloads(rec, tuple(a.workload))
    ws = workspace.Workspace(t, jobs=os.cpu_count() or 1, cc="gcc", out="boot/bench-out")
    config = (workspace.Workspace(t, 1, None, out="boot/out").out / ".config").read_bytes()
    shas = [c["sha"] for c in commits][: a.commits]  # None: all of them
    done, started = 0, time.monotonic()
    for sha in shas:
        if a.budget is not None and time.monotonic() - started > a.budget:
            print(f"  budget of {a.budget:.0f}s spent: the baseline time is a lower bound")
            break
        if ws.out.exists():
            safety.remove(ws.out, t.git_dir)
        ws.out.mkdir(parents=True)
        (ws.out / ".config").write_bytes(config)
        ws.sync(tree_mod.Sha(sha))
        ws.make("olddefconfig", keep_going=False)
        kernels = guest.Kernels(ws, f"bench-{time.time_ns()}", lambda m: None)
        cb = bootrec.CommitBoot(sha, "", done)
        guest.test_commit(ws, kernels, cb, workloads, rec, data["accel"], lambda m: None)
        safety.remove(kernels.dir(sha), t.git_dir)
        done += 1
        print(f"  baseline {done}/{len(shas)}: build {cb.build_seconds:.0f}s, boot "
              f"{cb.boot_seconds:.0f}s, total {time.monotonic() - started:.0f}s", flush=True)
    b_wall = time.monotonic() - started
    per = b_wall / max(done, 1)
    full = per * len(commits)
    bound = "" if done == len(commits) else f" (extrapolated from {done} commits)"
    print(f"baseline: {b_wall:.0f}s for {done} commits; {full:.0f}s for {len(commits)}{bound}")
    print(f"ratio baseline/krefactor: {full / k_wall:.1f}x")


if __name__ == "__main__":
    main()
