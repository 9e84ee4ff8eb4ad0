"""Targets built at commits: one make per group of objects (and .i files)
at one commit, each target's diagnostics placed, and its time shared among
the commits it serves. compile-test's host and cross builds both use it."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import kbuild, proc, safety
from .tree import Sha
from .workspace import Workspace


def obj(src: str) -> str:
    return src[:-2] + ".o"


def same_input(touched: frozenset[str], src: str) -> bool:
    """Whether a commit that changed `touched` builds `src` as its parent did:
    it changed only other .c files, none in the directory of `src` (which
    could include them). A header, Makefile or Kconfig change counts."""
    here = src.rsplit("/", 1)[0]
    return all(f.endswith(".c") and f != src and f.rsplit("/", 1)[0] != here for f in touched)


def last_same(k: int, src: str, touched: list[frozenset[str]]) -> int:
    """The last commit (0 is the base) that builds `src` as commit k does."""
    while k + 1 < len(touched) and same_input(touched[k + 1], src):
        k += 1
    return k


@dataclass
class Built:
    """One target built at one commit."""
    errors: list[kbuild.Diagnostic]
    warnings: list[kbuild.Diagnostic]
    failed: bool
    kept: set[int] = field(default_factory=set)      # for a .i: the source lines it kept

    def needs_parent(self) -> bool:
        """Whether its parent's build is wanted: to tell its own warnings and
        failures from those it inherited."""
        return self.failed or bool(self.warnings)

    def alone(self, parent: Built | None) -> str | None:
        """Why it fails without blame when it failed at the parent too (a .c
        #included by another, one built by another directory's Makefile), else None."""
        if self.failed and parent is not None and parent.failed:
            return ("does not build on its own, at the parent either "
                    f"({self.errors[0] if self.errors else 'no object'})")
        return None

    def new_warnings(self, parent: Built | None) -> list[kbuild.Diagnostic]:
        """Its warnings the parent's build did not have (none without the parent's)."""
        if parent is None:
            return []
        old = {(d.file, d.message) for d in parent.warnings}
        return [d for d in self.warnings if (d.file, d.message) not in old]


def run_groups(ws: Workspace, shas: list[Sha], groups: dict[int, dict[str, list[int]]],
               built: dict[tuple[int, str], Built], seconds: list[float],
               progress: Callable[[str], None], status: Callable[[str, int, int], None],
               what: str) -> None:
    """Build each group's targets at its commit; share its time among the commits served."""
    n = len(shas) - 1
    for g, at in enumerate(sorted(groups), 1):
        targets = groups[at]
        served = sorted({k for ks in targets.values() for k in ks})
        where = f"commit {at}/{n}" if at else "the base"
        label = ", ".join(map(str, served)) if len(served) < 4 else f"{served[0]}-{served[-1]}"
        head = f"[{g}/{len(groups)}] {what}build at {where} {shas[at][:12]}"
        progress(f"{head}: {len(targets)} targets for commit{'s' if len(served) > 1 else ''} "
                 f"{label}")
        started = time.monotonic()
        ws.sync(shas[at])
        # Objects before .i files: an object's rule may generate a header
        # the .i needs too (drivers/eisa/devlist.h), and make goes in order.
        order = sorted(targets, key=lambda t: (t.endswith(".i"), t))
        def each(done: int, total: int, o: str, head: str = head) -> None:
            status(f"{head}: {o}", done, total)
        run = build(ws, order, each)
        for target in targets:
            file = ws.out / target
            diags = run.per_target.get(target, [])
            failed = target in run.failed or not file.exists()
            errors = [d for d in diags if d.kind == "error"]
            if failed and not errors and run.rc:
                errors = [kbuild.Diagnostic(target, 0, "error", run.tail)]
            b = Built(errors, [d for d in diags if d.kind == "warning"], failed)
            if target.endswith(".i") and file.exists():
                b.kept = kbuild.compiled_lines(file.read_text(errors="replace"),
                                               target[:-2] + ".c")
            built[(at, target)] = b
        spent = time.monotonic() - started
        pairs = [k for ks in targets.values() for k in ks]
        for k in pairs:
            seconds[k] += spent / len(pairs)
        progress(f"      {'failed' if run.rc else 'done'}, {spent:.1f}s")


@dataclass(frozen=True)
class MakeRun:
    rc: int
    per_target: dict[str, list[kbuild.Diagnostic]]
    tail: str
    failed: list[str] = field(default_factory=list)


def build(ws: Workspace, targets: list[str],
          tick: Callable[[int, int, str], None] = lambda done, total, obj: None) -> MakeRun:
    """Build `targets` from scratch; `tick` hears each one as make reaches it."""
    if not targets:
        return MakeRun(0, {}, "", [])
    for t in targets:
        safety.remove(ws.out / t, ws.tree.git_dir)
    wanted, seen = set(targets), set()

    def on_line(line: str) -> None:
        obj = kbuild.echoed_target(line)
        if obj in wanted and obj not in seen:
            seen.add(obj)
            tick(len(seen), len(wanted), obj)

    res = ws.make(*targets, on_line=on_line)
    text = res.stdout.decode(errors="replace")
    blocks = kbuild.by_target(text)
    # What make said outside any object's block (prepare, a missing rule)
    # cannot be placed: it counts for every target.
    anywhere = kbuild.diagnostics(blocks.pop(""), str(ws.src))
    per_target = {t: anywhere + kbuild.diagnostics(blocks.get(t, ""), str(ws.src))
                  for t in targets}
    return MakeRun(res.returncode, per_target, proc.tail(res.stdout),
                   kbuild.failed_objects(text))


INCLUDE = re.compile(r"^\s*-?include\s+\$\((?:src|srctree)\)/(?:\$\(src\)/)?(\S+)\s*$", re.M)


def read_makefile(src: Path, directory: str) -> str | None:
    """The Kbuild or Makefile of `directory`, with the files it includes from
    its own directory inlined (arch/arm/mach-s3c/Makefile.s3c64xx)."""
    d = src if directory == "." else src / directory
    for name in ("Kbuild", "Makefile"):
        f = d / name
        if f.is_file():
            text = f.read_text(errors="replace")
            if directory == "." and name == "Kbuild" and (d / "Makefile").is_file():
                text += "\n" + (d / "Makefile").read_text(errors="replace")
            return INCLUDE.sub(lambda m: (d / m.group(1)).read_text(errors="replace")
                               if (d / m.group(1)).is_file() else m.group(0), text)
    return None
