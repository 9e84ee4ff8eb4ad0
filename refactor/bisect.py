"""boot-test --bisect: the first commit that brings the tip's failure, in
about log2(n) boots, skipping commits that fail in another way."""
from __future__ import annotations

import re
from collections.abc import Callable

from .bootrec import BootResult, CommitBoot, FirstBad, Tested
from .status import Verdict
from .workloads import WorkloadSpec


def loose(signature: str) -> str:
    """A failure's signature without line numbers: the commits before the tip
    may have moved the line that the tip's kernel names."""
    return re.sub(r":\d+", "", signature)


def brings(cb: CommitBoot, tip: CommitBoot) -> bool:
    """Does `cb` fail the way the tip does?"""
    if tip.status == Verdict.BUILD_FAILED:
        return cb.status == Verdict.BUILD_FAILED
    wanted = {(w.name, loose(w.signature)) for w in tip.new_failures}
    return any((w.name, loose(w.signature)) in wanted for w in cb.new_failures)


def bisect(result: BootResult, base_cb: CommitBoot, tip_cb: CommitBoot,
           workloads: list[WorkloadSpec], test: Callable[..., CommitBoot]) -> None:
    """Find the first commit that brings the tip's failure, in about log2(n) boots,
    running only the workloads that failed at the tip. A commit that fails in
    another way (or does not build) says nothing about the tip's failure: it is
    skipped, as `git bisect skip` does, and the next one nearest the middle is
    tested instead."""
    if not tip_cb.new_failures and tip_cb.status != Verdict.BUILD_FAILED:
        result.bisect_note = "nothing to bisect: the tip brings no failure"
        return
    if base_cb.status == Verdict.BUILD_FAILED:
        result.bisect_note = "cannot bisect: the base does not build"
        return
    names = {w.name for w in tip_cb.new_failures}
    only = [w for w in workloads if w.name in names] or workloads
    good, bad = 0, tip_cb.index
    tested = {tip_cb.index: tip_cb}
    skipped: set[int] = set()
    while True:
        left = [i for i in range(good + 1, bad) if i not in skipped]
        if not left:
            break
        mid = min(left, key=lambda i: (abs(2 * i - good - bad), i))
        cb = tested[mid] = test(mid, only)
        if brings(cb, tip_cb):
            bad = mid
        elif cb.status == Verdict.BUILD_FAILED or cb.new_failures:
            skipped.add(mid)
        else:
            good = mid
    first = tested[bad]
    result.first_bad = FirstBad(bad, first.sha, first.subject, failures(first),
                                sorted(i for i in skipped if good < i < bad))
    result.skipped = [Tested(i, tested[i].sha, tested[i].subject, failures(tested[i]))
                      for i in sorted(skipped)]


def failures(cb: CommitBoot) -> list[str]:
    """What a failing commit showed, a line per workload (or its build error)."""
    return [f"{w.name}: {w.why[0] if w.why else 'FAIL'}" for w in cb.new_failures] or \
        [cb.error or "build failed"]
