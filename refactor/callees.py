"""Can a callee start what a recipe's `starts` start (writeback, for
writeback-void) on the object it is handed? Answered from the call graph, not
from the callee's name.

A semantic patch sees an exit of a ->writepage method after a call that takes
the folio, and cannot tell from one file whether the callee starts I/O on it.
So the tree is asked the other way round: every function that calls one of
the starts, directly or through other functions, is found by a backward
search to its fixpoint (callgraph.CallGraph.callers, a `git grep` a level).
A callee in that set may start writeback, and the path to the start is the
evidence; a callee outside it reaches no start through direct calls. Calls
through function pointers are outside what a text search can follow, and
the reason says so.

The set depends only on the tree, so it is kept per tree hash in the git
directory (on 6.1.192: 499 functions, 65 s to compute on 2 cores).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from . import index as code_index
from .callgraph import CallGraph
from .recipe import HandOff
from .tree import Sha, Tree

Node = tuple[str, str]          # (file, function)


@dataclass(frozen=True)
class Starters:
    """The functions that reach a start, each with the next one on its way."""
    starts: tuple[str, ...]
    via: dict[str, str]          # "file:function" -> the "file:function" or start it calls
    started: str = "it"          # what the starts start (recipe [handoff] started)

    def key(self, path: str, name: str) -> str | None:
        """"file:function" of `name` called from `path`, if it reaches a start."""
        key: str | None = f"{path}:{name}"
        if key not in self.via:
            # A non-static function defined in another file.
            key = next((k for k in sorted(self.via) if k.split(":", 1)[1] == name), None)
        return key

    def path(self, path: str, name: str) -> list[str] | None:
        """The call path from `name` (called from `path`) to a start, or None."""
        key = self.key(path, name)
        if key is None:
            return None
        chain = [f"{key.split(':', 1)[1]}()"]
        while key in self.via:
            key = self.via[key]
            chain.append(f"{key.split(':', 1)[-1]}()")
        return chain

    def reason(self, path: str, name: str) -> str:
        """Why an exit after `name()` is, or is not, left alone: checkable from the tree."""
        chain = self.path(path, name)
        if chain:
            return f"which may start {self.started} on it: {' -> '.join(chain)}"
        return (f"which starts no {self.started}: it is not among the {len(self.via)} functions "
                f"that call {', '.join(f'{s}()' for s in self.starts)}, directly or through "
                f"other functions (calls through pointers aside)")


def cache_file(tree: Tree, commit: Sha, starts: tuple[str, ...]) -> Path:
    """Per tree hash, starts and search: the code index and `git grep` differ
    where a comment names a function (index.py)."""
    top = tree.tree_of(commit)
    search = "index" if code_index.enabled() else "grep"
    key = hashlib.sha256(" ".join([*sorted(starts), search]).encode()).hexdigest()[:12]
    return tree.git_dir / "krefactor" / "cache" / f"starters-{top}-{key}.json"


def starters(tree: Tree, commit: Sha, handoff: HandOff, starts: tuple[str, ...]) -> Starters:
    """Every function of the tree at `commit` that calls one of `starts`, directly
    or through other functions; cached per tree hash."""
    cache = cache_file(tree, commit, starts)
    if cache.is_file():
        data = json.loads(cache.read_text())
        if data.get("starts") == sorted(starts):
            return Starters(starts, data["via"], handoff.started)
    graph = CallGraph(tree, commit, handoff)
    via: dict[str, str] = {}
    graph.prefetch(list(starts))
    # A start defined in a header: any file that mentions it stands for all.
    level: list[Node] = [(graph.hits[s][0], s) for s in starts if graph.hits[s]]
    seen: set[Node] = set(level)
    while level:
        graph.prefetch([n for _, n in level])
        graph.read([f for node in level for f in graph.files_of(*node)])
        nxt = []
        for node in level:
            found, _ = graph.callers(*node)
            for caller in sorted(found):
                if caller in seen or caller[1] in starts:
                    continue
                seen.add(caller)
                via[f"{caller[0]}:{caller[1]}"] = node[1] if node[1] in starts else \
                    f"{node[0]}:{node[1]}"
                nxt.append(caller)
        level = nxt
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"starts": sorted(starts), "via": via}))
    return Starters(starts, via, handoff.started)
