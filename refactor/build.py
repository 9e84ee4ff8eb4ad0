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

import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from unidiff import PatchSet

from . import cross, ctext, kbuild, proc, safety
from .errors import KrefactorError
from .kconfig import configure, kconfig_index
from .tree import Sha, Tree
from .workspace import Workspace, default_cc


@dataclass
class CommitBuild:
    """The compile-test of one commit."""
    sha: str
    subject: str
    status: str = "pass"                       # "pass" or "fail"
    objects: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    new_warnings: list[str] = field(default_factory=list)
    not_compiled: list[str] = field(default_factory=list)   # "file:line"
    why_not: dict[str, str] = field(default_factory=dict)   # file -> why its lines were not
    changed_lines: int = 0                                  # added code lines in .c files
    not_built: list[str] = field(default_factory=list)      # "obj: reason"
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
        return [c for c in self.commits if c.status != "pass"]

    @property
    def uncompiled(self) -> int:
        return sum(len(c.not_compiled) for c in self.commits)

    @property
    def changed(self) -> int:
        return sum(c.changed_lines for c in self.commits)

    def to_json(self) -> str:
        from dataclasses import asdict
        return json.dumps(asdict(self), indent=2)



def changed_symbols(old_text: str, new_text: str, removed: list[int], added: list[int]) -> set[str]:
    """What a header change can break in its users.

    The declarations the changed lines belong to (in the old text for removed
    lines, the new one for added lines), and the macros built on them: a
    caller of an inline function whose body changed compiles the same, one of
    a changed prototype or macro may not. A changed line outside any named
    declaration falls back to the functions it names.
    """
    syms: set[str] = set()
    for text, numbers in ((old_text, removed), (new_text, added)):
        decls = ctext.header_decls(text)
        lines = text.splitlines()
        for n in numbers:
            name = ctext.enclosing(decls, n)
            if name:
                syms.add(name)
            elif n <= len(lines) and lines[n - 1].strip() and \
                    not lines[n - 1].lstrip().startswith(("#", "/*", "*", "//")):
                syms |= {m for m in ctext.IDENT_CALL.findall(lines[n - 1])
                         if m not in ctext.NOT_SYMBOLS}
    macros = [m for text in (old_text, new_text)
              for m in re.finditer(r"^#\s*define\s+([A-Za-z_]\w*)\(.*$",
                                   re.sub(r"\\\n", " ", text), re.M)]
    grown = True
    while grown:
        before = len(syms)
        syms |= {m.group(1) for m in macros
                 if any(re.search(rf"\b{re.escape(s)}\b", m.group(0)) for s in syms)}
        grown = len(syms) > before
    return syms


@dataclass(frozen=True)
class Plan:
    """What one commit needs built."""
    sha: Sha
    parent: Sha
    subject: str
    objects: tuple[str, ...]          # .c sources
    touched_c: tuple[str, ...]
    added_lines: dict[str, list[int]]
    fallback: tuple[str, ...] = ()    # direct includers of a header nothing else covers
    touched: tuple[str, ...] = ()     # every file the commit changed
    texts: dict[str, str] = field(default_factory=dict)   # touched .c files at the commit


@dataclass
class Draft:
    """One commit's diff, read before the users of its header changes are known."""
    sha: Sha
    parent: Sha
    subject: str
    touched_c: list[str]
    added: dict[str, list[int]]
    headers: list[str]
    symbols: set[str]
    touched: list[str] = field(default_factory=list)


def plan_range(tree: Tree, commits: list[tuple[Sha, str]]) -> list[Plan]:
    """What each commit needs built.

    The users of every commit's changed declarations come from one grep at
    the tip: a file the range does not touch mentions a symbol at every
    commit or at none, and the files it touches are read at each commit.
    """
    drafts, touched = [], set()
    for sha, msg in commits:
        parent = tree.rev(f"{sha}^")
        assert parent is not None
        diff = tree.git("diff", "-U0", "--no-renames", parent, sha).decode(errors="replace")
        d = Draft(sha, parent, msg.splitlines()[0], [], {}, [], set())
        for f in PatchSet(diff):
            touched.add(f.path)
            d.touched.append(f.path)
            if f.path.endswith(".c") and not f.is_removed_file:
                d.touched_c.append(f.path)
                d.added[f.path] = [l.target_line_no for h in f for l in h
                                   if l.is_added and l.target_line_no is not None]
            elif f.path.endswith(".h"):
                d.headers.append(f.path)
                d.symbols |= header_symbols(tree, parent, sha, f)
        drafts.append(d)
    words = tuple(sorted(set().union(*(d.symbols for d in drafts))))
    at_tip = tree.grep_words(commits[-1][0], words, (".",), globs=("*.c",)) if words else {}
    touched_c = sorted(t for t in touched if t.endswith(".c"))
    plans = []
    for d in drafts:
        here = {c: data.decode(errors="replace")
                for c, data in tree.read(d.sha, touched_c, missing_ok=True).items()}
        objects = {f for s in d.symbols for f in at_tip[s] if f not in touched}
        if d.symbols and touched_c:
            mentions = re.compile(r"\b(" + "|".join(map(re.escape, sorted(d.symbols))) + r")\b")
            before = {c: data.decode(errors="replace")
                      for c, data in tree.read(d.parent, touched_c, missing_ok=True).items()}
            objects |= {c for texts in (before, here) for c, text in texts.items()
                        if mentions.search(text)}
        objects |= set(d.touched_c)
        # A sample the commit changed is built when its options can be set
        # (samples/v4l); samples are not searched as users of a header.
        objects = {o for o in objects if buildable(o)
                   or o.startswith("samples/") and o in d.touched_c}
        # When nothing uses what changed (a new declaration, or one whose last
        # user an earlier commit removed), files that include the header
        # directly still prove that it compiles: run() picks two the config builds.
        fallback = [f for h in d.headers for f in includers(tree, d.sha, h)] \
            if not objects else []
        plans.append(Plan(d.sha, d.parent, d.subject, tuple(sorted(objects)),
                          tuple(d.touched_c), d.added, tuple(fallback), tuple(d.touched),
                          {c: here[c] for c in d.touched_c}))
    return plans


def header_symbols(tree: Tree, parent: Sha, sha: Sha, f) -> set[str]:
    """The declarations a header change touched (see changed_symbols)."""
    path = f.path
    texts = [tree.read(rev, [path], missing_ok=True).get(path, b"").decode(errors="replace")
             for rev in (parent, sha)]
    removed = [l.source_line_no for h in f for l in h if l.is_removed]
    added = [l.target_line_no for h in f for l in h if l.is_added]
    return changed_symbols(texts[0], texts[1], removed, added)


CORE = ("mm/", "kernel/", "lib/", "fs/", "init/")


def includers(tree: Tree, sha: Sha, header: str) -> list[str]:
    """Buildable .c files that include `header` directly, top-level core files first."""
    name = header.split("include/", 1)[1] if header.startswith("include/") \
        else header.rsplit("/", 1)[-1]
    found = tree.grep(sha, (rf'#\s*include\s*[<"]{re.escape(name)}[>"]',), (".",),
                      globs=("*.c",), raw=True)
    return sorted((f for f in found if buildable(f)),
                  key=lambda f: (not (f.startswith(CORE) and f.count("/") == 1), f))


def buildable(path: str, arch: str = "x86") -> bool:
    """Whether a .c file can be part of this architecture's kernel build."""
    top = path.split("/", 1)[0]
    if top == "arch":
        return path.startswith(f"arch/{arch}/")
    return top not in ("tools", "scripts", "samples", "Documentation", "usr")


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
    with ThreadPoolExecutor(max_workers=1) as pool:
        export = pool.submit(ws.sync, tip)
        plans = plan_range(tree, commits)
        export.result()
    gates: dict[str, frozenset[str]] = {}
    for src in sorted({o for p in plans for o in p.objects}):
        gates[src] = kbuild.gating_symbols(src, lambda d: read_makefile(ws.src, d))[0]
    result = BuildResult(base, tip, config)
    progress(f"config: {config} plus the options of {len(gates)} source files")
    result.enabled, result.unmet, result.disabled = configure(
        ws, config, set().union(*gates.values()), progress)
    have = kbuild.read_config((ws.out / ".config").read_text())
    plans = [with_includers(p, ws, have, gates) for p in plans]
    shas = [base] + [p.sha for p in plans]
    touched: list[frozenset[str]] = [frozenset()] + [frozenset(p.touched) for p in plans]
    needs: list[list[str]] = [[]]                   # per commit: the .c files to build
    for plan in plans:
        cb = CommitBuild(plan.sha, plan.subject)
        srcs = []
        for src in plan.objects:
            missing = sorted(s for s in gates.get(src, ()) if s not in have)
            if missing:
                cb.not_built.append(f"{src}: {', '.join(missing)} not set")
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
                cb.not_built.append(f"{src}: {why}")
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
            cb.not_compiled += [f"{src}:{n}" for n in lines if n in code and n not in kept]
        cb.errors = sorted(set(cb.errors))
        cb.new_warnings = sorted(set(cb.new_warnings))
        cb.failed_objects = sorted(set(cb.failed_objects))
        if cb.failed_objects and not cb.errors:
            cb.errors = [f"{o}: not built" for o in cb.failed_objects]
    other_arches(ws, shas, result, seconds, progress, status)
    for k, cb in enumerate(result.commits, 1):
        cb.status = "fail" if cb.errors or cb.failed_objects else "pass"
        cb.seconds = round(seconds[k], 1)
    return result


def other_arches(ws: Workspace, shas: list[Sha], result: BuildResult, seconds: list[float],
                 progress: Callable[[str], None], status: Callable[[str, int, int], None]) -> None:
    """Compile on other architectures the changed lines the host's build did not
    (see cross.py), and give each line still not compiled its reason."""
    pending: dict[str, dict[int, set[int]]] = {}
    tried: dict[str, list[str]] = {}
    for k, cb in enumerate(result.commits, 1):
        for item in cb.not_compiled:
            src, line = item.rsplit(":", 1)
            pending.setdefault(src, {}).setdefault(k, set()).add(int(line))
        for item in cb.not_built:
            src, why = item.split(": ", 1)
            tried.setdefault(src, [f"x86_64: {why}"])
    if not pending:
        return
    # A file the host built whose lines its preprocessor dropped stays here:
    # another architecture is tried for what the host could not build at all.
    for src in list(pending):
        if src not in tried and buildable(src):
            tried[src] = ["x86_64: built, but #if'd out in this config"]
            del pending[src]
        elif "does not build on its own" in tried.get(src, [""])[0]:
            del pending[src]
        else:
            tried.setdefault(src, [])
    gates = {src: kbuild.gating_symbols(src, lambda d: read_makefile(ws.src, d))[0]
             for src in pending}
    homes: dict[str, set[str] | None] = {}
    if pending:             # the Kconfig index is read only when a file is left
        index = kconfig_index(ws)
        homes = {s: index.homes({g.removeprefix("CONFIG_") for g in gates[s]})
                 for s in pending}
    for arch in cross.ARCHES:
        files = [s for s in pending if arch in cross.candidates(s, homes[s])]
        if not files:
            continue
        pre = cross.prefix(arch)
        if pre is None:
            for s in files:
                tried[s].append(f"{arch.name}: no cross compiler ({arch.package} not installed)")
            continue
        # One job: some architectures' Makefiles reach a directory twice
        # (arch/sh/drivers/), and a parallel make then builds one object twice
        # at once, failing at random. These builds are a few objects each.
        aws = Workspace(ws.tree, 1, cross.compiler(ws.cc, arch, pre),
                        out=f"cross/{arch.name}", make_vars=arch.make_vars(pre))
        progress(f"{arch.name}: {len(files)} files with changed lines not compiled yet")
        configure(aws, arch.defconfig, set().union(*(gates[s] for s in files)), progress)
        have = kbuild.read_config((aws.out / ".config").read_text())
        groups: dict[int, dict[str, list[int]]] = {}
        for s in files:
            missing = sorted(g.removeprefix("CONFIG_") for g in gates[s] if g not in have)
            if missing:
                tried[s].append(f"{arch.name}: {', '.join(missing)} not set")
                continue
            for k in pending[s]:
                group = groups.setdefault(k, {})
                group.setdefault(obj(s), []).append(k)
                group.setdefault(s[:-2] + ".i", []).append(k)
        built: dict[tuple[int, str], Built] = {}
        run_groups(aws, shas, groups, built, seconds, progress, status, f"{arch.name} ")
        parents: dict[int, dict[str, list[int]]] = {}
        for k, targets in groups.items():
            for t in targets:
                if t.endswith(".o") and built[(k, t)].needs_parent():
                    parents.setdefault(k - 1, {}).setdefault(t, []).append(k)
        run_groups(aws, shas, parents, built, seconds, progress, status, f"{arch.name} parent ")
        for k, targets in sorted(groups.items()):
            cb = result.commits[k - 1]
            for t in (t for t in targets if t.endswith(".o")):
                s, here, prior = t[:-2] + ".c", built[(k, t)], built.get((k - 1, t))
                alone = here.alone(prior)
                if alone:
                    tried[s].append(f"{arch.name}: {alone}")
                    continue
                cb.objects.append(f"{t} ({arch.name})")
                if here.failed:
                    cb.failed_objects.append(f"{t} ({arch.name})")
                    cb.errors += [f"{arch.name}: {d}" for d in here.errors] or \
                        [f"{arch.name}: {t}: not built"]
                cb.new_warnings += [f"{arch.name}: {d}" for d in here.new_warnings(prior)]
                pre_i = built.get((k, s[:-2] + ".i"))
                done = pending[s][k] & (pre_i.kept if pre_i is not None else set())
                if done:            # the host's "not set" is no longer the story
                    cb.not_built = [n for n in cb.not_built if not n.startswith(s + ": ")]
                cb.not_compiled = [n for n in cb.not_compiled
                                   if not (n.startswith(s + ":") and int(n.rsplit(":", 1)[1])
                                           in done)]
                pending[s][k] -= done
                if pending[s][k]:
                    tried[s].append(f"{arch.name}: built, but #if'd out there"
                                    if pre_i is not None and not pre_i.failed else
                                    f"{arch.name}: built, but its .i was not made")
        for s in list(pending):
            pending[s] = {k: lines for k, lines in pending[s].items() if lines}
            if not pending[s]:
                del pending[s]
    for cb in result.commits:
        for s in sorted({n.rsplit(":", 1)[0] for n in cb.not_compiled}):
            cb.why_not[s] = "; ".join(tried[s]) or cross.unavailable(s)


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


def with_includers(plan: Plan, ws: Workspace, have: dict[str, str],
                   gates: dict[str, frozenset[str]]) -> Plan:
    """`plan` plus two of its fallback includers that this config builds
    (found in `gates`, which gains their gating symbols)."""
    if not plan.fallback:
        return plan
    chosen: list[str] = []
    for src in plan.fallback:
        if src not in gates:
            symbols, notes = kbuild.gating_symbols(src, lambda d: read_makefile(ws.src, d))
            if notes:                 # no Makefile rule builds it (kernel/bounds.c)
                continue
            gates[src] = symbols
        if all(s in have for s in gates[src]):
            chosen.append(src)
            if len(chosen) == 2:
                break
    return replace(plan, objects=tuple(sorted(set(plan.objects) | set(chosen))))


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
