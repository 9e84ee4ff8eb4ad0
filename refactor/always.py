"""Which callees start or end what a recipe's `starts` start, on every path.

The call graph (callees.py) says a callee *may* start writeback on the folio
it is handed: some path of it reaches a start. An exit of a ->writepage
method after such a call is left for review, because the folio may leave it
without I/O and with the VFS's writeback set. This module looks inside the
callee, with a semantic patch written from the recipe's `starts`, `ends`
and carried types: a callee that on every path from entry to return starts
writeback on its folio parameter (the VFS's start and its own are one),
ends it, or tests and ends it, hands the folio back with nothing of the
VFS's left started, so the exit after it needs nothing. A call to a callee
found so counts the same, so the functions on a call path are asked
deepest first, round after round (nfs_page_async_flush() once
nfs_set_page_writeback() is known). Only a function with one parameter of
the carried types qualifies, so that the folio is the one the caller
passed.
"""
from __future__ import annotations

import re

from . import cocci, safety
from .recipe import HandOff
from .tree import Sha, Tree

TAG = "krefactor-always:"


def smpl(names: list[str], handoff: HandOff, known: tuple[str, ...] | list[str] = ()) -> str:
    """The semantic patch: for each carried type, a callee among `names` that
    starts, ends, or calls a `known` callee on its parameter of that type,
    and a path of it that does none of these (a test and end, `if (TEST(X))
    END(X);`, counts as done on both of its branches); prints the first
    such call of the callees with no such path."""
    calls = [*handoff.starts, *(end for _, end in handoff.ends), *known]
    done = "\\|".join(f"{c}@p(..., X, ...)" for c in calls)
    avoid = "\n      ".join([f"when != {c}(..., X, ...)" for c in calls] +
                            [f"when != if ({test}(X)) {end}(X);" for test, end in handoff.ends])
    out = ["virtual report", "",
           "@initialize:python@", "@@",
           "first = {}", "avoided = set()", ""]
    among = ", ".join(sorted(names))
    for i, ty in enumerate(handoff.carried.types):
        out += [f"@start{i}@",
                f"identifier F = {{{among}}};",
                "identifier X;", "position p;", "@@",
                f"F(..., {ty} *X, ...) {{",
                f"  <+... \\({done}\\) ...+>", "}", "",
                "@script:python@", f"F << start{i}.F;", f"p << start{i}.p;", "@@",
                "first.setdefault(F, (p[0].file, int(p[0].line)))",
                "first[F] = min(first[F], (p[0].file, int(p[0].line)))", "",
                f"@avoid{i} exists@",
                f"identifier start{i}.F, start{i}.X;", "position q;", "@@",
                f"F@q(..., {ty} *X, ...) {{",
                f"  ... {avoid}", "}", "",
                "@script:python@", f"F << start{i}.F;", f"q << avoid{i}.q;", "@@",
                "avoided.add(F)", ""]
    out += ["@finalize:python@", "@@",
            "for f, (path, line) in sorted(first.items()):",
            "    if f not in avoided:",
            f"        print('{TAG}%s:%s:%s' % (f, path, line))", ""]
    return "\n".join(out)


def one_carried(text: str, name: str, types: tuple[str, ...]) -> bool:
    """The definition of `name` in `text` has exactly one parameter of the
    carried types."""
    m = re.search(rf"^\w[^;{{]*\b{re.escape(name)}\s*\(([^)]*)\)\s*\{{", text, re.M)
    if m is None:
        return False
    params = m.group(1).split(",")
    return sum(1 for p in params
               if any(re.match(rf"\s*(const\s+)?{re.escape(t)}\s*\*", p) for t in types)) == 1


def every_path(tree: Tree, commit: Sha, handoff: HandOff, defined: dict[str, str], *,
               jobs: int, timeout: float) -> dict[str, str]:
    """Of the functions in `defined` (name -> the file that defines it), those
    that on every path start, end, or call one found before on their one
    carried parameter, each with the file:line of its first such call; run
    again with what each round found until a round finds nothing new."""
    if not defined or not handoff.starts or not handoff.carried.types:
        return {}
    texts = tree.read(commit, sorted(set(defined.values())))
    names = [n for n, f in defined.items()
             if one_carried(texts[f].decode(errors="replace"), n, handoff.carried.types)]
    found: dict[str, str] = {}
    while todo := [n for n in names if n not in found]:
        new = one_round(tree, handoff, todo, sorted(found),
                        {f: t for f, t in texts.items() if f in {defined[n] for n in todo}},
                        {n: defined[n] for n in todo}, jobs=jobs, timeout=timeout)
        if not new:
            break
        found.update(new)
    return found


def one_round(tree: Tree, handoff: HandOff, todo: list[str], known: list[str],
              texts: dict[str, bytes], defined: dict[str, str], *,
              jobs: int, timeout: float) -> dict[str, str]:
    """One spatch run over the files of `todo`, with `known` counted as
    starts. A file spatch fails on finds nothing: its functions stay asked."""
    with safety.scratch(tree.git_dir, "always") as tmp:
        sp = tmp / "always.cocci"
        sp.write_text(smpl(todo, handoff, known))
        results = cocci.run(sp, texts, git_dir=tree.git_dir, jobs=jobs, timeout=timeout,
                            mode="report")
    found = {}
    for r in results:
        for line in r.stdout.splitlines():
            if line.startswith(TAG):
                name, path, at = line[len(TAG):].split(":")
                if defined.get(name) == r.path:
                    found[name] = f"{path}:{at}"
    return found
