"""Hand-offs whose exits a step left for review and a later commit settled.

coverage reports a hand-off as NEEDS REVIEW when the series record says the
reach = "any" step left an exit in it. A later commit of the series may
settle that exit (writeback-void's f2fs step ends the VFS's writeback at
f2fs_write_single_data_page()'s exits). This runs the step again, as
review's runtime check does, on the tree of the first commit that starts
the hand-offs' start, on the files of those hand-offs only; where it leaves
no exit in the functions it left them in, the hand-off is prepared by the
last commit before that one that changed its file.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from . import reach
from .linetrack import LineTracker
from .recipe import Recipe
from .status import Disposition
from .tree import Sha, Tree


class Site(Protocol):
    """What settle() changes of a coverage site."""
    disposition: Disposition
    commit: str
    reason: str


@dataclass(frozen=True)
class Recheck:
    """The reach = "any" step run again on the tree of the first commit that
    starts writeback at the hand-offs: the functions in which it still
    leaves an exit, and the files it could not read."""
    at: Sha
    step: str
    started: str        # what the hand-offs start (recipe [handoff] started)
    left: frozenset[tuple[str, str]]
    failed: frozenset[str]


def left_at_start(tree: Tree, recipe: Recipe, base: Sha, commits: list[Sha], files: list[str],
                  *, jobs: int, timeout: float, progress) -> Recheck | None:
    """Run the reach = "any" step on `files` at the first of `commits` that
    starts writeback at the hand-offs (as review's runtime check does): an
    exit the step left when the series was made, and no longer leaves there,
    was settled by a commit in between. None without such a commit."""
    step = next((s for s in recipe.steps if s.reach), None)
    first = reach.first_start(tree, commits, recipe)
    if step is None or first is None or not files:
        return None
    progress(f"hand-offs left for review: {step.name} again at {first[:12]} on "
             f"{len(files)} files")
    done = reach.run_reaching(tree, first, recipe, step, files, jobs=jobs, timeout=timeout,
                              progress=progress, evidence_at=base)
    left = frozenset((s.file, s.function) for r in done.results for s in r.sites
                     if s.verdict == "left" and (s.file, s.function) in done.reached)
    failed = frozenset(r.path for r in done.results if r.error)
    assert recipe.handoff is not None
    return Recheck(first, step.name, recipe.handoff.started, left, failed)


def settle(pending: Sequence[tuple[Site, str, list[str]]], again: Recheck | None,
           tracker: LineTracker, subjects: dict[str, str]) -> None:
    """A hand-off whose left exits the step no longer leaves at `again.at`:
    prepared by the last commit before it that changed its file."""
    if again is None:
        return
    for site, f, names in pending:
        if f in again.failed or any((f, n) in again.left for n in names):
            continue
        # The change that settled them may be in a callee of the same file
        # (nfs_page_async_flush() for nfs_writepage()): the file's last
        # commit before `again.at` is named.
        shas = tracker.touches(f, 1, 1 << 30)
        rank = {str(sha): i for i, (sha, _) in enumerate(tracker.steps)}
        before = [sha for sha in shas if rank[sha] < rank.get(again.at, -1)]
        if not before:
            continue
        sha = max(before, key=lambda s: rank[s])
        where = ", ".join(f"{n}()" for n in names)
        site.disposition = Disposition.PREPARED
        site.commit = f"{sha[:12]} {subjects.get(sha, '')}"
        site.reason = (f"{again.step} left exits in {where} when the series was made "
                       f"({site.reason}); run again on the tree of {again.at[:12]}, the first "
                       f"commit that starts {again.started} at the hand-offs, it leaves none "
                       f"there")
