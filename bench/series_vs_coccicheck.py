"""Time `krefactor series` against what a developer would run by hand.

Baseline, measured in the same run: each of the recipe's .cocci files through
`spatch --dir TREE --use-gitgrep -j CORES` (what `make coccicheck MODE=patch`
does), on a checked-out copy of the tree. Then `krefactor series --output` on
a fresh shared clone: every step, the commits and format-patch included.
Prints both times and the ratio. Then the oracle: the same .cocci files run
by hand on exactly the files the series touched (one spatch per file, as
many at once as there are cores), which no tool that must first find those
files can beat; krefactor's cost should grow with the files touched, not
with the tree. Run by hand:

    python3 bench/series_vs_coccicheck.py ~/.cache/krefactor/linux-6.1 [RECIPE] [CAP]
    python3 bench/series_vs_coccicheck.py --oracle-only TREE [RECIPE]

`--oracle-only` leaves out the whole-tree baseline (over ten minutes on
6.1) and compares the series with the oracle alone. Then `series` runs a
second time in the same clone, its branch deleted first (spatch's kept
results and the code index are warm), and that time is printed too.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from refactor import recipe as recipe_mod


def defines(step: recipe_mod.Step) -> list[str]:
    """The -D values a step's .cocci needs to run at all: spatch skips the
    initialize rule of a semantic patch whose virtual.NAME has no value, and
    its later Python then fails on every file. A reach step runs once, listing
    and patching as if every candidate were reached (reached=*), the one run
    a developer would make by hand; every other value is "-" (none)."""
    names = sorted(set(re.findall(r"<<\s*virtual\.(\w+)", step.cocci.read_text())))
    return [a for n in names for a in ("-D", f"{n}={'*' if n == 'reached' else '-'}")]


def main(tree: str, recipe_name: str = "writeback-void", cap: float = 1200,
         oracle_only: bool = False) -> None:
    """`cap`: seconds after which one baseline spatch run is stopped; the
    baseline time then is a lower bound."""
    rec = recipe_mod.load(recipe_name)
    cores = str(os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="krefactor-bench-") as tmp:
        checkout = Path(tmp, "checkout")
        subprocess.run(["git", "clone", "-q", "--shared", tree, str(checkout)], check=True)
        t0 = time.monotonic()
        capped = []
        for step in ([] if oracle_only else rec.steps):
            s0 = time.monotonic()
            try:
                subprocess.run(["spatch", "--very-quiet", "-D", "patch", *defines(step),
                                "--sp-file",
                                str(step.cocci), "--dir", str(checkout), "--use-gitgrep",
                                "-j", cores], cwd=tmp, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=cap)
            except subprocess.TimeoutExpired:
                subprocess.run(["pkill", "-f", str(step.cocci)], check=False)
                capped.append(step.name)
            print(f"  baseline {step.name}: {time.monotonic() - s0:.1f}s"
                  + (" (stopped at the cap)" if step.name in capped else ""), flush=True)
        baseline = time.monotonic() - t0

        clone = Path(tmp, "clone")
        subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", tree, str(clone)],
                       check=True)
        for k, v in (("user.name", "Bench"), ("user.email", "bench@example.org")):
            subprocess.run(["git", "-C", str(clone), "config", k, v], check=True)

        def series(out: str) -> float:
            """`krefactor series` in the clone: its wall time."""
            t0 = time.monotonic()
            subprocess.run([sys.executable, "-c", "from refactor.cli import main; main()",
                            "series", "--tree", str(clone), "--recipe", recipe_name,
                            "--output", str(Path(tmp, out))],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return time.monotonic() - t0

        ours = series("out")
        again = None
        if oracle_only:
            # Its branch goes first: on a branch that holds the series,
            # `series` only says there is nothing to do.
            subprocess.run(["git", "-C", str(clone), "branch", "-D", f"krefactor/{rec.name}"],
                           check=True, stdout=subprocess.DEVNULL)
            again = series("out2")
        touched = subprocess.run(["git", "-C", str(clone), "diff", "--name-only", "master",
                                  f"krefactor/{rec.name}"], capture_output=True, text=True,
                                 check=True).stdout.split()
        t0 = time.monotonic()
        for step in rec.steps:
            res = subprocess.run(["xargs", "-P", cores, "-n", "1", "spatch", "--very-quiet",
                                  "--no-includes", "-D", "patch", *defines(step),
                                  "--sp-file", str(step.cocci)],
                                 input="\n".join(touched), text=True, cwd=checkout,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            # A semantic patch that failed on a file did none of its work there.
            if res.returncode != 0:
                sys.exit(f"oracle: spatch failed with {step.cocci.name}: "
                         f"{res.stderr.strip().splitlines()[-1:]}")
        oracle = time.monotonic() - t0
    bound = ">= " if capped else ""
    if not oracle_only:
        print(f"baseline (spatch --dir --use-gitgrep -j {cores}, {len(rec.steps)} .cocci): "
          f"{bound}{baseline:.1f}s" + (f", stopped at {cap:.0f}s: {', '.join(capped)}"
                                       if capped else ""))
        print(f"ratio krefactor/baseline: {'<= ' if capped else ''}{ours / baseline:.3f} "
              f"(target <= 1.00)")
    print(f"krefactor series --output (commits and patches included): {ours:.1f}s")
    print(f"oracle (each .cocci on exactly the {len(touched)} files touched, -P {cores}): "
          f"{oracle:.1f}s")
    print(f"ratio krefactor/oracle: {ours / oracle:.2f} (target <= 1.2)")
    if again is not None:
        print(f"series again in the same clone, branch deleted (warm): {again:.1f}s, "
              f"ratio to the oracle {again / oracle:.2f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    only = "--oracle-only" in args
    args = [a for a in args if a != "--oracle-only"]
    main(args[0], *(args[1:2] or ["writeback-void"]), *(float(a) for a in args[2:3] or [1200]),
         oracle_only=only)
