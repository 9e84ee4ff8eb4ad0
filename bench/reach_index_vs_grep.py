"""The reachability questions of a writeback-void series, answered from the
code index (GNU Global, refactor/index.py) and with `git grep`, in the same
process.

The questions are the ones `series` asks, taken from its record
(`<git dir>/krefactor/series/<tip>.json`), at the commit where it asked them:
- the starts: every function that reaches `[handoff] starts` (callees.py),
  uncached;
- the candidates of the prepare step (reach = "any"), with the folio carried;
- the 'not reached' claims of the later steps.
Printed: the index's build time (once per base), each set's time either way,
their sum against the target (10 s), and every answer that differs, with
both versions, for a reader to judge.

    python3 bench/reach_index_vs_grep.py TREE [--branch krefactor/writeback-void]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from refactor import callees, callgraph, index, safety  # noqa: E402
from refactor import recipe as recipe_mod  # noqa: E402
from refactor import tree as tree_mod  # noqa: E402

TARGET = 10.0


def questions(record: dict) -> dict[str, tuple[str, list[tuple[str, str]], bool]]:
    """Per question set: the commit asked at, the (file, function) pairs, carried?"""
    sets: dict[str, tuple[str, list[tuple[str, str]], bool]] = {}
    reach = [s for s in record["sites"] if s["step"].startswith("06-prepare") and s["function"]]
    claims = [s for s in record["sites"] if s["kind"] == "unreached" and s["function"]
              and not s["step"].startswith("06-prepare")]
    if reach:
        sets["candidates"] = (reach[0]["at"], sorted({(s["file"], s["function"])
                                                      for s in reach}), True)
    if claims:
        sets["claims"] = (claims[0]["at"], sorted({(s["file"], s["function"])
                                                   for s in claims}), False)
    return sets


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tree")
    ap.add_argument("--branch", default="krefactor/writeback-void")
    args = ap.parse_args()
    tree = tree_mod.open_tree(args.tree)
    tip = tree.rev(args.branch)
    if tip is None:
        sys.exit(f"no branch {args.branch} in {args.tree}: run `krefactor series` first")
    path = tree.git_dir / "krefactor" / "series" / f"{tip}.json"
    if not path.is_file():
        sys.exit(f"no series record {path}")
    record = json.loads(path.read_text())
    recipe = recipe_mod.load(record["recipe"])
    assert recipe.handoff is not None
    sets = questions(record)
    at = sets["candidates"][0]
    index_dir = index.index_root(tree)
    if index_dir.exists():
        safety.remove(index_dir, tree.git_dir)
    started = time.monotonic()
    index.CodeIndex.open(tree, at)
    print(f"index: gtags over the C files of {at[:12]}: {time.monotonic() - started:.1f}s")
    answers: dict[str, dict[str, object]] = {}
    totals = {}
    for mode in ("grep", "gtags"):
        os.environ["KREFACTOR_INDEX"] = mode
        index._open.clear()
        total = 0.0
        cache = callees.cache_file(tree, at, recipe.handoff.starts)
        if cache.exists():
            cache.unlink()
        t0 = time.monotonic()
        who = callees.starters(tree, at, recipe.handoff, recipe.handoff.starts)
        took = time.monotonic() - t0
        total += took
        answers.setdefault("starts", {})[mode] = who.via
        print(f"{mode:5}  starts: {len(who.via)} functions reach one, {took:.1f}s")
        for name, (commit, qs, carry) in sets.items():
            t0 = time.monotonic()
            graph = callgraph.CallGraph(tree, commit, recipe.handoff, carry=carry)
            got = graph.reach_all(qs)
            took = time.monotonic() - t0
            total += took
            answers.setdefault(name, {})[mode] = {f"{f}:{fn}": (a.reached, a.path, a.unknown[:2])
                                                 for (f, fn), a in got.items()}
            print(f"{mode:5}  {name}: {len(qs)} functions at {commit[:12]}, {took:.1f}s")
        totals[mode] = total
        if mode == "gtags":
            used = {id(ix): ix for ix in index._open.values()}.values()
            looked = sum(ix.queries for ix in used)
            spent = sum(ix.query_seconds for ix in used)
        print(f"{mode:5}  all questions: {total:.1f}s")
        if cache.exists():
            cache.unlink()
    print(f"index/grep: {totals['gtags'] / totals['grep']:.2f}; "
          f"with the index {totals['gtags']:.1f}s, target <= {TARGET:.0f}s: "
          f"{'met' if totals['gtags'] <= TARGET else 'NOT met'}; "
          f"{looked} names looked up in the index in {spent:.1f}s")
    for name, both in answers.items():
        g, x = both["grep"], both["gtags"]
        assert isinstance(g, dict) and isinstance(x, dict)
        differ = sorted(k for k in set(g) | set(x) if g.get(k) != x.get(k))
        print(f"{name}: {len(differ)} of {len(set(g) | set(x))} answers differ")
        for k in differ:
            print(f"  {k}\n    grep:  {g.get(k)}\n    index: {x.get(k)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
