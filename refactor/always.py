"""Which callees start what a recipe's `starts` start on every path.

The call graph (callees.py) says a callee *may* start writeback on the folio
it is handed: some path of it reaches a start. An exit of a ->writepage
method after such a call is left for review, because the folio may leave it
without I/O. When the callee is defined in another file, the semantic patch
cannot look inside it; this module does, with a semantic patch written from
the recipe's `starts` and carried types: a callee whose body calls a start
on its folio parameter on every path from entry to return hands the folio
back with the start done (the VFS's start and its own are one), so the exit
after it needs nothing. Only a callee with one parameter of the carried
types qualifies, so that the started folio is the one the caller passed.
"""
from __future__ import annotations

import re

from . import cocci, safety
from .recipe import HandOff
from .tree import Sha, Tree

TAG = "krefactor-always:"


def smpl(names: list[str], handoff: HandOff) -> str:
    """The semantic patch: for each carried type, a callee among `names` that
    calls a start on its parameter of that type, and a path of it that does
    not; prints the first start of the callees with no such path."""
    starts = "\\|".join(f"{s}@p(X, ...)" for s in handoff.starts)
    avoid = "\n      ".join(f"when != {s}(X, ...)" for s in handoff.starts)
    out = ["virtual report", "",
           "@initialize:python@", "@@",
           "first = {}", "avoided = set()", ""]
    among = ", ".join(sorted(names))
    for i, ty in enumerate(handoff.carried.types):
        out += [f"@start{i}@",
                f"identifier F = {{{among}}};",
                "identifier X;", "position p;", "@@",
                f"F(..., {ty} *X, ...) {{",
                f"  <+... \\({starts}\\) ...+>", "}", "",
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
    """Of the callees in `defined` (name -> the file that defines it), those
    that start on their one carried parameter on every path, each with the
    file:line of its first start there."""
    if not defined or not handoff.starts or not handoff.carried.types:
        return {}
    texts = tree.read(commit, sorted(set(defined.values())))
    names = [n for n, f in defined.items()
             if one_carried(texts[f].decode(errors="replace"), n, handoff.carried.types)]
    if not names:
        return {}
    with safety.scratch(tree.git_dir, "always") as tmp:
        sp = tmp / "always.cocci"
        sp.write_text(smpl(names, handoff))
        results = cocci.run(sp, {f: t for f, t in texts.items()
                                 if f in {defined[n] for n in names}},
                            git_dir=tree.git_dir, jobs=jobs, timeout=timeout, mode="report")
    found = {}
    for r in results:
        for line in r.stdout.splitlines():
            if line.startswith(TAG):
                name, path, at = line[len(TAG):].split(":")
                if defined.get(name) == r.path:
                    found[name] = f"{path}:{at}"
    return found
