"""Time `krefactor series --cocci` against spatch's own whole-tree run, for
six of the tree's scripts/coccinelle patch-mode scripts, and check that both
leave the same tree.

Baseline, measured in the same process, per script: what `make coccicheck
MODE=patch COCCI=FILE` runs, `spatch --sp-file FILE -D patch --dir .` with
the tree's .cocciconfig options (--timeout 200 --use-gitgrep) and the
script's own `// Options:`, `-j CORES --chunksize 1`, --in-place on a
checkout, with spatch's re-spacing of the lines it changed undone as
krefactor does (respace.py; the same reference as tests/test_adhoc_real.py,
applied after the timing). Then `krefactor series --cocci FILE` run in a second checkout of
the same commit, as a developer runs it in theirs, commits included (it
writes only its branch there). Prints per script: commits, files changed, both times, the ratio
(target <= 1.0) and whether the trees are equal. Run by hand:

    python3 bench/adhoc_vs_spatch_dir.py ~/.cache/krefactor/linux-6.1
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from refactor import adhoc, respace

SCRIPTS = ["free/ifnulldev_put.cocci", "iterators/for_each_child.cocci",
           "api/debugfs/debugfs_simple_attr.cocci", "misc/irqf_oneshot.cocci",
           "api/d_find_alias.cocci", "iterators/device_node_continue.cocci"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True).stdout


def main(tree: str) -> None:
    cores = str(os.cpu_count() or 1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="krefactor-bench-") as tmp:
        checkout = Path(tmp, "checkout")
        subprocess.run(["git", "clone", "-q", "--shared", tree, str(checkout)], check=True)
        conf = adhoc.cocciconfig_options((checkout / ".cocciconfig").read_text())
        clone = Path(tmp, "clone")
        subprocess.run(["git", "clone", "-q", "--shared", tree, str(clone)], check=True)
        for k, v in (("user.name", "Bench"), ("user.email", "bench@example.org")):
            git(clone, "config", k, v)
            git(checkout, "config", k, v)
        for script in SCRIPTS:
            given = f"scripts/coccinelle/{script}"
            header = adhoc.read_header(checkout / given)
            git(checkout, "checkout", "-q", "-f", "HEAD")
            git(checkout, "clean", "-q", "-fdx")
            t0 = time.monotonic()
            subprocess.run(["spatch", "--very-quiet", "--sp-file", given, "-D", "patch",
                            "--dir", ".", "--in-place", "--no-show-diff", *conf,
                            *header.options, "-j", cores, "--chunksize", "1"],
                           cwd=checkout, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            baseline = time.monotonic() - t0
            # krefactor keeps the original spacing where spatch re-spaced.
            for path in git(checkout, "diff", "--name-only").split():
                orig = subprocess.run(["git", "-C", str(checkout), "show", f"HEAD:{path}"],
                                      check=True, capture_output=True).stdout
                f = checkout / path
                f.write_bytes(respace.respace(orig, f.read_bytes()))
            git(checkout, "add", "-A")
            reference = git(checkout, "write-tree").strip()
            name = Path(script).stem
            t0 = time.monotonic()
            subprocess.run([sys.executable, "-c", "from refactor.cli import main; main()",
                            "series", "--cocci", given],
                           cwd=clone, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            ours = time.monotonic() - t0
            branch = f"krefactor/{name}"
            tip_tree = git(clone, "rev-parse", f"{branch}^{{tree}}").strip()
            row = {"script": given, "commits": int(git(clone, "rev-list", "--count",
                                                       f"HEAD..{branch}")),
                   "files": len(git(clone, "diff", "--name-only", "HEAD", branch).split()),
                   "spatch_dir_s": round(baseline, 1), "series_s": round(ours, 1),
                   "ratio": round(ours / baseline, 2), "same_tree": tip_tree == reference,
                   "checkout_untouched": git(clone, "status", "--porcelain") == ""}
            rows.append(row)
            print(f"{given}: {row['commits']} commits, {row['files']} files; spatch --dir "
                  f"{baseline:.1f}s, series --cocci {ours:.1f}s, ratio {ours / baseline:.2f}; "
                  f"{'same tree' if row['same_tree'] else 'TREES DIFFER'}"
                  f"{'' if row['checkout_untouched'] else ', CHECKOUT CHANGED'}", flush=True)
            git(checkout, "reset", "-q", "--hard", "HEAD")
    total_b = sum(r["spatch_dir_s"] for r in rows)
    total_s = sum(r["series_s"] for r in rows)
    print(f"all six: spatch --dir {total_b:.1f}s, series --cocci {total_s:.1f}s, "
          f"ratio {total_s / total_b:.2f}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main(*sys.argv[1:])
