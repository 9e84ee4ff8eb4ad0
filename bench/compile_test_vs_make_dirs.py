"""Time `krefactor compile-test` against rebuilding the touched directories.

Baseline, in the same run and with the same .config: at each commit of the
range, `make O=... <dir>/` for every directory the range touches (the
smallest set: `fs/` covers `fs/afs/`), which is what a careful developer does
without krefactor. krefactor runs first from a clean state (`krefactor
clean`: export, config and `prepare` are in its time) and without ccache; the
baseline then reuses that build directory, config and objects, so both
favour the baseline. krefactor then runs a second time, as on every later
change (export, config and prepare kept; every object still rebuilt). A
baseline run again is no cheaper: going back to the base headers rebuilds
the directories again. Wall and CPU (user+sys of all children) time are
printed: CPU time holds when the machine is busy with something else.

Run by hand; the baseline takes hours on the real tree. With --budget the
baseline stops after that many seconds and its time is a lower bound.

    python3 bench/compile_test_vs_make_dirs.py TREE master..krefactor/writeback-void \
        [--broken master..broken] [--commits N] [--budget SECONDS]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import PurePosixPath

from refactor import tree as tree_mod
from refactor import workspace


class Clock:
    """Wall and children's CPU seconds since creation."""

    def __init__(self) -> None:
        self.wall0, self.cpu0 = time.monotonic(), self.cpu()

    @staticmethod
    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    def read(self) -> tuple[float, float]:
        return time.monotonic() - self.wall0, self.cpu() - self.cpu0


def krefactor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from refactor.cli import main; main()", *args],
                          capture_output=True, text=True)


def krefactor_compile_test(tree: str, rng: str, cold: bool = True) -> tuple[float, float, int]:
    if cold:
        krefactor("clean", "--tree", tree)
    clock = Clock()
    res = krefactor("compile-test", "--tree", tree, "--range", rng, "--cc", "gcc")
    return (*clock.read(), res.returncode)


def touched_dirs(t: tree_mod.Tree, log: list) -> list[str]:
    dirs = {str(PurePosixPath(f).parent) + "/" for sha, _ in log
            for f in t.git("diff", "--name-only", f"{sha}^", sha).decode().split()
            if f.endswith(".c")}
    return sorted(d for d in dirs if not any(d != o and d.startswith(o) for o in dirs))


def baseline(tree: str, rng: str, budget: float | None) -> tuple[float, float, bool, int]:
    """Seconds (wall, CPU), whether make failed, and how many commits were built."""
    t = tree_mod.open_tree(tree)
    base_ref, tip_ref = rng.split("..")
    log = t.log(t.rev(base_ref), t.rev(tip_ref))
    ws = workspace.Workspace(t, jobs=os.cpu_count() or 1, cc=None)
    dirs = touched_dirs(t, log)
    print(f"baseline: make {' '.join(dirs)} at each of {len(log)} commits", flush=True)
    failed, done = False, 0
    clock = Clock()
    for sha, msg in log:
        ws.sync(sha)
        left = None if budget is None else max(budget - clock.read()[0], 1)
        try:
            res = ws.make(*dirs, timeout=left)
        except subprocess.TimeoutExpired:
            print(f"  budget of {budget:.0f}s spent during commit {done + 1}: "
                  "the baseline time is a lower bound", flush=True)
            break
        failed |= res.returncode != 0
        done += 1
        wall, cpu = clock.read()
        print(f"  {done}/{len(log)} {msg.splitlines()[0][:60]}: exit {res.returncode}, "
              f"total {wall:.0f}s wall {cpu:.0f}s cpu", flush=True)
    return (*clock.read(), failed, done)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tree")
    ap.add_argument("range")
    ap.add_argument("--broken")
    ap.add_argument("--commits", type=int, default=None,
                    help="Only the first N commits, on both sides.")
    ap.add_argument("--budget", type=float, default=None,
                    help="Stop the baseline after this many seconds (lower bound).")
    a = ap.parse_args()
    rng = a.range
    t = tree_mod.open_tree(a.tree)
    base_ref, tip_ref = rng.split("..")
    total = len(t.log(t.rev(base_ref), t.rev(tip_ref)))
    if a.commits:
        log = t.log(t.rev(base_ref), t.rev(tip_ref))
        rng = f"{base_ref}..{log[a.commits - 1][0]}"
        total = a.commits
    wall, cpu, rc = krefactor_compile_test(a.tree, rng)
    print(f"krefactor compile-test {rng}, cold: {wall:.0f}s wall, {cpu:.0f}s cpu (exit {rc})",
          flush=True)
    # Run again as on every later change: export, config and prepare are
    # kept, every object is still rebuilt.
    w_wall, w_cpu, w_rc = krefactor_compile_test(a.tree, rng, cold=False)
    print(f"krefactor compile-test {rng}, again: {w_wall:.0f}s wall, {w_cpu:.0f}s cpu "
          f"(exit {w_rc})", flush=True)
    b_wall, b_cpu, failed, done = baseline(a.tree, rng, a.budget)
    bound = ">= " if done < total else ""
    print(f"baseline ({done}/{total} commits): {b_wall:.0f}s wall, {b_cpu:.0f}s cpu "
          f"(make failed: {failed})")
    for name, k_wall, k_cpu in (("cold", wall, cpu), ("again", w_wall, w_cpu)):
        print(f"ratio baseline/krefactor {name}: wall {bound}{b_wall / k_wall:.1f}x, "
              f"cpu {bound}{b_cpu / k_cpu:.1f}x (target >= 20x)")
    if a.broken:
        wall_b, _, rc_b = krefactor_compile_test(a.tree, a.broken)
        _, _, failed_b, _ = baseline(a.tree, a.broken, a.budget)
        print(f"broken series {a.broken}: krefactor exit {rc_b} in {wall_b:.0f}s, "
              f"baseline make failed: {failed_b}")


if __name__ == "__main__":
    main()
