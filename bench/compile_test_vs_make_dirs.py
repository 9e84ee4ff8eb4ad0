"""Time `krefactor compile-test` against rebuilding the touched directories.

Baseline, in the same run and with the same .config: at each commit of the
range, `make O=... <dir>/` for every directory the series touches (what a
careful developer does without krefactor). Prints both times and the ratio,
and whether each approach caught the broken series when one is given.
Run by hand; the baseline takes long on the real tree:

    python3 bench/compile_test_vs_make_dirs.py TREE master..krefactor/writeback-void \
        [--broken master..broken] [--commits N]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import PurePosixPath

from refactor import build, tree as tree_mod


def krefactor_compile_test(tree: str, rng: str) -> tuple[float, int]:
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-c", "from refactor.cli import main; main()",
                          "compile-test", "--tree", tree, "--range", rng, "--cc", "gcc"],
                         capture_output=True, text=True)
    return time.monotonic() - t0, res.returncode


def baseline(tree: str, rng: str, commits: int | None) -> tuple[float, bool]:
    t = tree_mod.open_tree(tree)
    base_ref, tip_ref = rng.split("..")
    base, tip = t.rev(base_ref), t.rev(tip_ref)
    log = t.log(base, tip)[:commits]
    ws = build.Workspace(t, jobs=build.os.cpu_count() or 1, cc=None)
    dirs = sorted({str(PurePosixPath(f).parent) + "/" for sha, _ in log
                   for f in t.git("diff", "--name-only", f"{sha}^", sha).decode().split()
                   if f.endswith(".c")})
    failed = False
    t0 = time.monotonic()
    for sha, _ in log:
        ws.sync(sha)
        res = ws.make(*dirs)
        failed |= res.returncode != 0
    return time.monotonic() - t0, failed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tree")
    ap.add_argument("range")
    ap.add_argument("--broken")
    ap.add_argument("--commits", type=int, default=None,
                    help="Only the first N commits for the baseline (it is slow).")
    a = ap.parse_args()
    rng = a.range
    if a.commits:
        # Both sides on the same first N commits.
        t = tree_mod.open_tree(a.tree)
        base_ref, tip_ref = rng.split("..")
        log = t.log(t.rev(base_ref), t.rev(tip_ref))
        rng = f"{base_ref}..{log[a.commits - 1][0]}"
    # krefactor runs first, without ccache, and its time includes making the
    # config and `prepare`; the baseline then reuses that build directory and
    # whatever krefactor compiled in it. Both favour the baseline.
    ours, rc = krefactor_compile_test(a.tree, rng)
    print(f"krefactor compile-test {rng}: {ours:.0f}s (exit {rc})")
    theirs, failed = baseline(a.tree, rng, None)
    print(f"baseline make <dir>/ at each commit of {rng}: {theirs:.0f}s (failed: {failed})")
    print(f"ratio baseline/krefactor: {theirs / ours:.1f}x (target >= 20x)")
    if a.broken:
        ours_b, rc_b = krefactor_compile_test(a.tree, a.broken)
        _, failed_b = baseline(a.tree, a.broken, None)
        print(f"broken series {a.broken}: krefactor exit {rc_b} in {ours_b:.0f}s, "
              f"baseline failed: {failed_b}")


if __name__ == "__main__":
    main()
