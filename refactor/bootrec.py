"""The records boot-test hands on: a workload's result, a commit's boot, the
directories the range changes, bisect's finding, and the whole run. report.py
renders them; results.py keeps a commit's verdicts for the mails."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from . import gcov
from .status import Outcome, Verdict


@dataclass
class WorkloadResult:
    name: str
    status: Outcome = Outcome.NOT_RUN
    why: list[str] = field(default_factory=list)
    proof: dict[str, int] = field(default_factory=dict)
    splat: list[str] = field(default_factory=list)        # the first splat's lines
    decoded: list[str] = field(default_factory=list)      # its stack decoded to file:line
    signature: str = ""
    also_at_base: bool = False
    seconds: float = 0.0
    carried_from: int | None = None       # not run here: the result of that commit


def workload_result(record: dict[str, Any]) -> WorkloadResult:
    """A WorkloadResult from its JSON form (a kept pass), its status typed."""
    return replace(WorkloadResult(**record), status=Outcome(record["status"]))


@dataclass
class CommitBoot:
    """The boot-test of one commit (index 0 is the base)."""
    sha: str
    subject: str
    index: int
    status: Verdict = Verdict.PASS
    build_seconds: float = 0.0
    boot_seconds: float = 0.0
    boots: int = 0
    boot_to_first_workload: float | None = None
    workloads: list[WorkloadResult] = field(default_factory=list)
    error: str = ""
    logs: str = ""                        # the directory of its console logs, one per boot
    same_kernel_as: int | None = None     # index of the commit whose kernel is byte-identical

    @property
    def new_failures(self) -> list[WorkloadResult]:
        return [w for w in self.workloads if w.status == Outcome.FAIL and not w.also_at_base]


@dataclass
class Area:
    """A directory the range changes: built into the boot kernel and run, or why not."""
    path: str
    files: int
    sources: int                      # .c files among them
    built: bool
    reason: str = ""                  # the recipe's, when no workload can run it
    ran_by: dict[str, int] = field(default_factory=dict)   # gcov: workload -> lines executed
    changed: int = 0                  # gcov: lines its files added or changed
    code: int = 0                     # gcov: of those, lines gcov has a count for


@dataclass(frozen=True)
class Tested:
    """A commit bisect tested, and what it showed: a line per failing workload,
    or its build error."""
    index: int
    sha: str
    subject: str
    failures: list[str]


@dataclass(frozen=True)
class FirstBad(Tested):
    """The first commit that brings the tip's failure; `or_before` holds the
    skipped commits between the last good one and it, any of which may be."""
    or_before: list[int] = field(default_factory=list)


@dataclass
class BootResult:
    base: str
    tip: str
    mode: str
    accel: str = ""
    accel_note: str = ""
    config: list[str] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    commits: list[CommitBoot] = field(default_factory=list)
    first_bad: FirstBad | None = None
    bisect_note: str = ""
    skipped: list[Tested] = field(default_factory=list)   # bisect: commits that fail otherwise
    commit_count: int = 0
    gcov: gcov.GcovResult | None = None
    areas: list[Area] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(c.index > 0 and (c.status == Verdict.BUILD_FAILED or c.new_failures)
                   for c in self.commits)
