"""Compile-test every commit of a range with targeted Kbuild builds.

One exported source tree and one out-of-tree build directory per kernel
tree, kept in the git directory (krefactor/build/) and moved from commit to
commit by rewriting only the files that differ; the user's checkout is never
used. A commit needs the objects of the .c files it touched and of the
in-tree users of the declarations a touched header changed. Each object is
built once per distinct input: when the commits after k change only other
.c files (outside its directory), it is built once, at the last of them, in
one make with the other objects built there. An object that warns is built
at its parent's input too, to report only new warnings; the preprocessor's
line markers prove that every added .c line was compiled.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import ctext, kbuild, proc
from .buildrec import BuildResult, CommitBuild, Missed, Unbuilt
from .crossbuild import other_arches
from .errors import KrefactorError
from .impact import plan_range, with_includers
from .kconfig import configure
from .objects import Built, last_same, obj, read_makefile, run_groups, same_input
from .status import verdict
from .tree import Sha, Tree
from .workspace import Workspace, default_cc


def run(*, tree: Tree, base: Sha, tip: Sha, config: str = "defconfig", jobs: int = 2,
        cc: str | None = None, progress: Callable[[str], None] = lambda m: None,
        status: Callable[[str, int, int], None] = lambda m, done, total: None) -> BuildResult:
    """Compile-test each commit of base..tip.

    `progress` hears a line per stage and commit, `status` a transient one per
    object (for a progress bar)."""
    for tool in ("make", "gcc"):
        proc.require(tool, "install the kernel build tools (scripts/setup.sh)")
    if config != "defconfig" and not Path(config).is_file():
        raise KrefactorError(f"--config {config}: no such file (give defconfig or a .config)")
    commits = tree.log(base, tip)
    if not commits:
        raise KrefactorError(f"{base[:12]}..{tip[:12]} holds no commits")
    ws = Workspace(tree, jobs, cc if cc is not None else default_cc())
    # The export (disk-bound) and the plan (git reads) overlap.
    started = time.monotonic()
    fresh = ws.at() is None
    with ThreadPoolExecutor(max_workers=1) as pool:
        export = pool.submit(ws.sync, tip)
        plans = plan_range(tree, commits)
        export.result()
    progress(f"{'export and plan' if fresh else 'plan'}: {len(commits)} commits, "
             f"{time.monotonic() - started:.1f}s")
    gates: dict[str, frozenset[str]] = {}
    for src in sorted({o for p in plans for o in p.objects}):
        gates[src] = kbuild.gating_symbols(src, lambda d: read_makefile(ws.src, d))[0]
    result = BuildResult(base, tip, config)
    progress(f"config: {config} plus the options of {len(gates)} source files")
    started = time.monotonic()
    result.enabled, result.unmet, result.disabled = configure(
        ws, config, set().union(*gates.values()), progress)
    progress(f"config: {time.monotonic() - started:.1f}s")
    have = kbuild.read_config((ws.out / ".config").read_text())
    started = time.monotonic()
    plans = [with_includers(p, ws, have, gates) for p in plans]
    progress(f"users of the changed headers: {time.monotonic() - started:.1f}s")
    shas = [base] + [p.sha for p in plans]
    touched: list[frozenset[str]] = [frozenset()] + [frozenset(p.touched) for p in plans]
    needs: list[list[str]] = [[]]                   # per commit: the .c files to build
    for plan in plans:
        cb = CommitBuild(plan.sha, plan.subject)
        srcs = []
        for src in plan.objects:
            missing = sorted(s for s in gates.get(src, ()) if s not in have)
            if missing:
                cb.not_built.append(Unbuilt(src, f"{', '.join(missing)} not set"))
            else:
                srcs.append(src)
        cb.objects = [obj(src) for src in srcs]
        result.commits.append(cb)
        needs.append(srcs)
    # Each object is built once per distinct input: at the last commit up to
    # which nothing it depends on changes (see same_input). Its parent's
    # build is elsewhere only when the commit changed that input.
    at = [{src: last_same(k, src, touched) for src in needs[k]} for k in range(len(shas))]
    parent_at = [{src: None if same_input(touched[k], src) else last_same(k - 1, src, touched)
                  for src in needs[k]} for k in range(len(shas))]
    groups: dict[int, dict[str, list[int]]] = {}
    for k in range(1, len(shas)):
        for src in needs[k]:
            group = groups.setdefault(at[k][src], {})
            group.setdefault(obj(src), []).append(k)
            if src in plans[k - 1].touched_c:
                group.setdefault(src[:-2] + ".i", []).append(k)
    built: dict[tuple[int, str], Built] = {}
    seconds = [0.0] * len(shas)
    run_groups(ws, shas, groups, built, seconds, progress, status, "")
    # Warnings and failures are compared with the parent's, object for
    # object; an object is built at its parent's input only when it warned or
    # failed here. One that fails at the parent too does not build on its own
    # (a .c #included by another, one built by another directory's Makefile):
    # that is no fault of the commit, and its lines are not compiled.
    parents: dict[int, dict[str, list[int]]] = {}
    for k in range(1, len(shas)):
        for src in needs[k]:
            before = parent_at[k][src]
            here = built[(at[k][src], obj(src))]
            if before is not None and here.needs_parent() and (before, obj(src)) not in built:
                parents.setdefault(before, {}).setdefault(obj(src), []).append(k)
    run_groups(ws, shas, parents, built, seconds, progress, status, "parent ")
    for k in range(1, len(shas)):
        cb, plan = result.commits[k - 1], plans[k - 1]
        alone: set[str] = set()          # sources that do not build on their own
        for src in needs[k]:
            if at[k][src] != k and at[k][src] not in cb.built_at:
                cb.built_at.append(at[k][src])
            here = built[(at[k][src], obj(src))]
            at_parent = parent_at[k][src]
            prior = built[(at_parent, obj(src))] \
                if at_parent is not None and here.needs_parent() else None
            why = here.alone(prior)
            if why:
                cb.not_built.append(Unbuilt(src, why, alone=True))
                alone.add(src)
                continue
            cb.errors += [str(d) for d in here.errors]
            if here.failed:
                cb.failed_objects.append(obj(src))
            cb.new_warnings += [str(d) for d in here.new_warnings(prior)]
        for src, lines in plan.added_lines.items():
            # A line is compiled when the preprocessor kept it and the object
            # built: the .i of a file that does not build alone proves nothing.
            pre = built.get((at[k][src], src[:-2] + ".i")) \
                if src in at[k] and src not in alone else None
            kept = pre.kept if pre is not None else set()
            code = ctext.code_lines(plan.texts.get(src, ""))
            cb.changed_lines += sum(1 for n in lines if n in code)
            cb.not_compiled += [Missed(src, n) for n in lines if n in code and n not in kept]
        cb.errors = sorted(set(cb.errors))
        cb.new_warnings = sorted(set(cb.new_warnings))
        cb.failed_objects = sorted(set(cb.failed_objects))
        if cb.failed_objects and not cb.errors:
            cb.errors = [f"{o}: not built" for o in cb.failed_objects]
    other_arches(ws, shas, result, seconds, progress, status)
    for k, cb in enumerate(result.commits, 1):
        cb.status = verdict(bool(cb.errors or cb.failed_objects))
        cb.seconds = round(seconds[k], 1)
    return result


