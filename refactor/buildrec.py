"""The records compile-test hands on: a commit's build and the whole run."""
from __future__ import annotations

from dataclasses import dataclass, field

from .status import Verdict


@dataclass(frozen=True)
class Missed:
    """A changed code line the build did not compile."""
    src: str
    line: int

    def __str__(self) -> str:
        return f"{self.src}:{self.line}"


@dataclass(frozen=True)
class Unbuilt:
    """A source the commit needs whose object was not built, and why. `alone`:
    it fails at the parent too, so it does not build on its own (a .c
    #included by another), which is no fault of the commit."""
    src: str
    why: str
    alone: bool = False

    def __str__(self) -> str:
        return f"{self.src}: {self.why}"


@dataclass
class CommitBuild:
    """The compile-test of one commit."""
    sha: str
    subject: str
    status: Verdict = Verdict.PASS
    objects: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    new_warnings: list[str] = field(default_factory=list)
    not_compiled: list[Missed] = field(default_factory=list)
    why_not: dict[str, str] = field(default_factory=dict)   # file -> why its lines were not
    changed_lines: int = 0                                  # added code lines in .c files
    not_built: list[Unbuilt] = field(default_factory=list)
    failed_objects: list[str] = field(default_factory=list)
    built_at: list[int] = field(default_factory=list)       # other commits whose tree built them
    seconds: float = 0.0


@dataclass
class BuildResult:
    base: str
    tip: str
    config: str
    enabled: list[str] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)     # CONFIG_WERROR
    commits: list[CommitBuild] = field(default_factory=list)

    @property
    def failed(self) -> list[CommitBuild]:
        return [c for c in self.commits if c.status != Verdict.PASS]

    @property
    def uncompiled(self) -> int:
        return sum(len(c.not_compiled) for c in self.commits)

    @property
    def changed(self) -> int:
        return sum(c.changed_lines for c in self.commits)
