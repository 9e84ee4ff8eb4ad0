"""Which files a step reads, and which functions a hand-off reaches: a
reach = "any" step's spatch run, the tree-wide search after it and the run
again of the files it guessed wrong, and the "not reached" claims of the
others checked across the tree.
"""
from __future__ import annotations

import difflib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from . import adhoc, always, callgraph, cocci, ctext
from . import index as code_index
from .callees import Starters, starters
from .recipe import Recipe, Step
from .tree import Sha, Tree

Progress = Callable[[str], None]


def step_files(tree: Tree, commit: Sha, recipe: Recipe, step: Step) -> list[str]:
    """The files a step runs on at `commit`: those that mention its symbols,
    and for a reach = "any" step also every file that defines or passes a
    hand-off function (`.writepage =`, `write_cache_pages(`), so that "found
    nothing to do in it" is said only of code it read."""
    if step.query is not None:
        return adhoc_files(tree, commit, recipe, step)
    files = tree.grep(commit, step.grep, step.paths, fixed=step.grep_fixed,
                      excludes=recipe.excluded_paths)
    h = recipe.handoff
    if not step.reach or h is None:
        return files
    return sorted(set(files) | set(tree.grep(commit, h.grep_patterns, step.paths, fixed=True,
                                             excludes=recipe.excluded_paths)))


def adhoc_files(tree: Tree, commit: Sha, recipe: Recipe, step: Step) -> list[str]:
    """The files spatch's own git grep would give a plain semantic patch: .c
    files (and .h with --include-headers) whose words satisfy its grep query;
    every such file when it has none."""
    globs = ("*.c", "*.h") if step.headers else ("*.c",)
    if not step.query:
        return tree.files(commit, step.paths, globs)
    words = step.grep or adhoc.query_words(step.query)
    if "&&" not in step.query:
        # Any of the words will do: one `git grep -l`.
        return tree.grep(commit, words, step.paths, globs=globs)
    found = tree.grep_words(commit, words, step.paths, globs)
    by_file: dict[str, set[str]] = {}
    for word, paths in found.items():
        for p in paths:
            by_file.setdefault(p, set()).add(word)
    wanted = adhoc.compile_query(step.query)
    return sorted(p for p, mentioned in by_file.items() if wanted(mentioned))


INCLUDE = re.compile(rb'^\s*#\s*include\s+"([^"]+)"', re.M)


def local_headers(tree: Tree, commit: Sha, files: dict[str, bytes],
                  step: Step) -> dict[str, bytes]:
    """The headers spatch's local includes read for `files` (path -> content
    at `commit`; `#include "x.h"` beside each file): none when the semantic
    patch says --no-includes."""
    assert step.options is not None
    if "--no-includes" in step.options or not files:
        return {}
    wanted = set()
    for path, text in files.items():
        for m in INCLUDE.finditer(text):
            name = os.path.normpath(os.path.join(os.path.dirname(path),
                                                 m.group(1).decode(errors="replace")))
            if not name.startswith("..") and name not in files:
                wanted.add(name)
    return tree.read(commit, sorted(wanted), missing_ok=True) if wanted else {}


def first_start(tree: Tree, commits: list[Sha], recipe: Recipe) -> Sha | None:
    """The first of `commits` whose diff adds an indented call to the recipe's
    [handoff] start: from it on, the hand-offs start writeback."""
    h = recipe.handoff
    if h is None or not h.start:
        return None
    call = re.compile(rf"^\+{h.start_call}", re.M)
    return next((sha for sha in commits if call.search(
        tree.git("show", "--format=", "--no-renames", sha).decode(errors="replace"))), None)


def on_every_path(tree: Tree, commit: Sha, recipe: Recipe, who: Starters,
                  names: list[tuple[str, str]], *, jobs: int, timeout: float,
                  progress: Progress) -> list[str]:
    """Of the calls before an exit that may start, those whose callee, on
    every path, starts or ends on its folio or calls a callee that does
    (always.py, asked of the functions on the callees' call paths to a
    start), as "caller file:callee"."""
    assert recipe.handoff is not None
    keys = {(f, g): who.key(f, g) for f, g in names}
    defined: dict[str, str] = {}
    for k in keys.values():
        while k is not None and ":" in k:
            path, fn = k.split(":", 1)
            defined.setdefault(fn, path)
            k = who.via.get(k)
    started = time.monotonic()
    found = always.every_path(tree, commit, recipe.handoff, defined, jobs=jobs,
                              timeout=timeout)
    mine = sorted({g for (_, g) in keys if g in found})
    if mine:
        progress(f"  {len(mine)} of the {len({g for (_, g), k in keys.items() if k})} callees "
                 f"that may start {recipe.handoff.started} start or end it on every path "
                 f"({time.monotonic() - started:.1f}s): "
                 + ", ".join(f"{g}() ({found[g]})" for g in mine))
    return sorted(f"{f}:{g}" for (f, g) in keys if g in found)


@dataclass(frozen=True)
class Reaching:
    """A reach = "any" step's results, and the functions a hand-off reaches."""
    results: list[cocci.FileResult]
    reached: frozenset[tuple[str, str]]      # (file, function)


def run_reaching(tree: Tree, commit: Sha, recipe: Recipe, step: Step, files: list[str], *,
                 jobs: int, timeout: float, progress: Progress,
                 evidence_at: Sha | None = None) -> Reaching:
    """A step that changes only what a hand-off reaches on some path: list the
    candidate functions and patch them as if all were reached (one run,
    reached=*), search the tree for each, keep the patch of a file where that
    held, and run the semantic patch again on the reached ones elsewhere. A
    candidate left for want of a path gets the search's own reason.

    Whether a call before an exit may start writeback is asked of the tree at
    `evidence_at` (default `commit`), which must not yet start writeback at
    the hand-offs: once it does, every caller of write_cache_pages() reaches
    a start, and the question no longer tells anything (review asks it of
    the range's base)."""
    assert recipe.handoff is not None
    h = recipe.handoff
    contents = tree.read(commit, files)
    at = evidence_at or commit
    code_index.for_commit(tree, at, progress)      # made here once, so that its time is shown
    # Which functions reach a start, known before spatch runs: a callee
    # outside them is inert (clears the exit after it) on a tree that does not
    # start writeback at the hand-offs yet.
    who = None
    clears = False
    who_seconds = 0.0
    if h.starts and not started_at_handoffs(tree, at, recipe):
        started = time.monotonic()
        who = starters(tree, at, h, h.starts)
        who_seconds = time.monotonic() - started
        clears = not started_at_handoffs(tree, commit, recipe)
    starter_names = sorted({k.split(":", 1)[1] for k in who.via}) if who and clears else None
    # One run lists the candidates and patches every file as if a hand-off
    # reached them all (reached=*); the file is run again only where that
    # guess was wrong.
    listed_at = time.monotonic()
    first = cocci.run(step.cocci, contents, git_dir=tree.git_dir, jobs=jobs,
                      timeout=timeout, batch=step.batch,
                      defines={"reached": "*", "inert": "-", "always": "-",
                               "starters": names_value(starter_names)})
    found = [listing(r) for r in first]
    firsts = {r.path: r for r in first}
    candidates = sorted({(s.file, s.function) for r in found for s in r.sites
                         if s.verdict == "candidate" and s.function})
    progress(f"  listed {len(candidates)} candidate functions in {len(files)} files, "
             f"patched as if all were reached ({time.monotonic() - listed_at:.1f}s)")
    # The calls an exit comes after: by the call graph, may they start writeback?
    callees: dict[tuple[str, int, int], list[str]] = {}
    for r in found:
        for s in r.sites:
            if s.verdict == "callee":
                callees.setdefault((s.file, s.line, s.column), []).append(s.reason)
    inert: list[str] = []
    every: list[str] = []
    if callees and who is not None:
        names = sorted({(f, g) for (f, _, _), gs in callees.items() for g in gs})
        clear = [f"{f}:{g}" for f, g in names if who.path(f, g) is None]
        # The path of a call that may start writeback names the evidence
        # either way; clearing the others is for a tree before the VFS start.
        if clears:
            inert = clear
        what = h.started
        progress(f"  {len(who.via)} functions reach a start of {what} "
                 f"({who_seconds:.1f}s); of the {len(names)} calls "
                 f"before an exit, {len(clear)} reach none"
                 + ("" if inert or not clear else
                    f" (not cleared: the tree already starts {what} at the hand-offs)"))
        # Asked of `commit` itself: the code there decides what its paths do.
        every = on_every_path(tree, commit, recipe, who, names, jobs=jobs, timeout=timeout,
                              progress=progress)
    started = time.monotonic()
    graph = callgraph.CallGraph(tree, commit, h, carry=True)
    answers = graph.reach_all(candidates)
    reached = sorted(f"{f}:{fn}" for (f, fn), a in answers.items() if a.reached)
    progress(f"  searched the tree for {len(candidates)} candidate functions in "
             f"{time.monotonic() - started:.1f}s: {len(reached)} reached from "
             f"{h.description}")
    description = h.description
    # Only a file where a hand-off reaches a candidate is patched. In one
    # where it reaches none, patch mode changes nothing and reports each
    # candidate, as listed, left and unreached (the reach step's contract,
    # see unreached()): that is written here. The first run's patch holds
    # for a file unless it changed a candidate no hand-off reaches, or one of
    # its callees starts writeback on every path (-D always=); see guessed().
    listed = {r.path: r for r in found}
    near = {f for (f, _), a in answers.items() if a.reached}
    with_candidates = sorted({f for f, _ in candidates})
    settled = set(every)
    ends_all = {f for (f, _, _), gs in callees.items() for g in gs if f"{f}:{g}" in settled}
    kept: dict[str, cocci.FileResult] = {}
    for path in with_candidates:
        if path in near and path not in ends_all:
            if (held := guessed(firsts[path], answers, description)) is not None:
                kept[path] = held
    todo = {path: contents[path] for path in with_candidates
            if path not in kept and (path in near or listed[path].error)}
    patched_at = time.monotonic()
    patched = cocci.run(step.cocci, todo, git_dir=tree.git_dir, jobs=jobs, timeout=timeout,
                        batch=step.batch, defines={"reached": ",".join(reached) or "-",
                                 "inert": ",".join(inert) or "-",
                                 "always": ",".join(every) or "-",
                                 "starters": "-"}) if todo else []
    by_path = {r.path: r for r in patched} | kept
    results = [by_path[path] if path in by_path else unreached(listed[path], description)
               for path in with_candidates]
    progress(f"  patched {len(by_path)} of the {len(with_candidates)} files with candidates: "
             f"{len(kept)} by the first run, {len(todo)} run again "
             f"({time.monotonic() - patched_at:.1f}s)"
             + (f"; no hand-off reaches one in the other {len(with_candidates) - len(by_path)}"
                if len(by_path) < len(with_candidates) else ""))
    noun, what = recipe.handoff.carried.noun, recipe.handoff.started

    def judged(s: cocci.Site) -> cocci.Site:
        assert recipe.handoff is not None
        if s.verdict != "left":
            return s
        # A candidate no hand-off reaches is not a site of this change: it is
        # unaffected. One whose callers are not all known is left, to look at.
        # (Its exits may come after calls too; that is no reason to name them.)
        if s.kind == "unreached":
            a = answers.get((s.file, s.function))
            if a is None:
                return s
            return replace(checked(s, a, description),
                           verdict="unaffected" if a.reached is False else "left")
        # An exit left after a call: the call path by which it may start writeback.
        gs = callees.get((s.file, s.line, s.column))
        if gs and who is not None:
            risky = [g for g in gs if who.path(s.file, g) is not None]
            if risky:
                return replace(s, reason=f"the {noun} leaves after {risky[0]}(), "
                               f"{who.reason(s.file, risky[0])}")
            if not inert:
                return replace(s, reason=f"the {noun} leaves after {gs[0]}(), which reaches "
                               f"no start of {what}, but the tree already starts it at "
                               f"the hand-offs: {gs[0]}() may hand on a {noun} under "
                               f"{what} to I/O")
        return s

    out = [replace(r, sites=tuple(judged(s) for s in r.sites)) for r in results]
    errors = [replace(r, sites=()) for r in found if r.error and r.path not in by_path]
    return Reaching(out + errors, frozenset(q for q, a in answers.items() if a.reached))


LISTED = ("candidate", "callee")


def names_value(names: list[str] | None) -> str:
    """-D starters=: "-" when not given, else the names (possibly none)."""
    if names is None:
        return "-"
    return ",".join(names) or ","


def listing(r: cocci.FileResult) -> cocci.FileResult:
    """What a reached=* run listed: the file unchanged, its candidates and callees."""
    return replace(r, after=r.before, stdout="",
                   sites=tuple(s for s in r.sites if s.verdict in LISTED))


def guessed(r: cocci.FileResult, answers: dict[tuple[str, str], callgraph.Answer],
            description: str) -> cocci.FileResult | None:
    """What the run with the reached set would give a file, from its reached=*
    run, or None when that cannot be known without running it.

    The two runs differ only at the candidates no hand-off reaches: the *
    run may change them, where the other leaves each as `left/unreached`.
    Every change is a `changed` site. Such a change is undone here, unless
    the function is also a callee before an exit of the file (whether it
    starts or ends writeback on every way out then depends on the change),
    or the change cannot be told apart from another in the diff. Each
    candidate's sites follow its `candidate` line, so the sites are
    written in order."""
    if r.error:
        return None
    sites: list[cocci.Site] = []
    callees = {s.reason for s in r.sites if s.verdict == "callee"}
    away: set[str] = set()          # functions whose changes are undone
    gone = False                    # the current candidate is not reached
    for s in r.sites:
        if s.verdict == "candidate":
            a = answers.get((s.file, s.function))
            gone = not (a is not None and a.reached)
            if gone:
                sites.append(left_unreached(s, description))
        elif s.verdict == "callee":
            continue
        elif not gone:
            sites.append(s)
        elif s.verdict == "changed":
            if s.function in callees or not s.function:
                return None
            away.add(s.function)
    after = undone(r.before, r.after, away) if away else r.after
    if after is None:
        return None
    return replace(r, after=after, sites=tuple(sites), stdout="")


def undone(before: bytes, after: bytes, away: set[str]) -> bytes | None:
    """`after` with what changed inside the functions `away` taken back: each
    run of changed lines of the diff is placed in the function of `before`
    that holds it (ctext.functions). None when one lies outside any function
    or across two."""
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    funcs = ctext.functions(before.decode(errors="replace"))
    out: list[bytes] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new,
                                                       autojunk=False).get_opcodes():
        if tag == "equal":
            out += new[j1:j2]
            continue
        # Lines from 1: those replaced, or the two an insertion goes between.
        first, last = (i1 + 1, i2) if i2 > i1 else (i1, i1 + 1)
        f = ctext.enclosing_function(funcs, first)
        if f is None or not f.first < first <= last <= f.last:
            return None
        out += old[i1:i2] if f.name in away else new[j1:j2]
    return b"".join(out)


UNREACHED = "not reached from {}"


def unreached(listed: cocci.FileResult, description: str) -> cocci.FileResult:
    """What a reach step's patch mode gives a file whose candidates no hand-off
    reaches, from its listing: the file unchanged, each candidate left as
    `left/unreached`, "not reached from <the hand-off's description>", in the
    order listed. A reach step's semantic patch must do the same."""
    return replace(listed, after=listed.before, stdout="", sites=tuple(
        left_unreached(s, description) for s in listed.sites if s.verdict == "candidate"))


def left_unreached(candidate: cocci.Site, description: str) -> cocci.Site:
    """A listed candidate as a reach step's patch mode reports it unreached."""
    return replace(candidate, verdict="left", kind="unreached",
                   reason=UNREACHED.format(description))


def started_at_handoffs(tree: Tree, commit: Sha, recipe: Recipe) -> bool:
    """Does the tree already call the recipe's hand-off start (an indented call,
    not its definition)? Then the filesystems' own starts may be gone, and a
    callee that no longer reaches one may still hand the folio to I/O: the
    call graph cannot clear it, and every such exit stays as it is."""
    h = recipe.handoff
    if h is None or not h.start:
        return False
    call = re.compile(f"^{h.start_call}")
    out = tree.git("grep", "-h", "-w", "-F", h.start, commit, "--", "*.c", check=False)
    return any(call.match(l) for l in out.decode(errors="replace").splitlines())


def check_claims(tree: Tree, commit: Sha, recipe: Recipe, results: list[cocci.FileResult],
                 progress: Progress) -> list[cocci.FileResult]:
    """Replace each "not reached from a hand-off" reason, which a semantic patch
    can only know of its own file, by what a tree-wide search finds."""
    handoff = recipe.handoff
    if handoff is None:
        return results
    claims = [s for r in results for s in r.sites if s.verdict == "left" and s.kind == "unreached"]
    if not claims:
        return results
    code_index.for_commit(tree, commit, progress)
    started = time.monotonic()
    graph = callgraph.CallGraph(tree, commit, handoff)
    answers = graph.reach_all([(s.file, s.function) for s in claims])
    progress(f"  checked {len(claims)} 'not reached' claims ({len(answers)} functions) across "
             f"the tree in "
             f"{time.monotonic() - started:.1f}s: "
             f"{sum(a.reached is True for a in answers.values())} reached, "
             f"{sum(a.reached is False for a in answers.values())} not reached, "
             f"{sum(a.reached is None for a in answers.values())} unknown")
    out = []
    for r in results:
        sites = tuple(checked(s, a, handoff.description)
                      if s.kind == "unreached" and (a := answers.get((s.file, s.function)))
                      else s for s in r.sites)
        out.append(replace(r, sites=sites))
    return out


def checked(site: cocci.Site, answer: callgraph.Answer, description: str) -> cocci.Site:
    """A "not reached" claim with what the tree-wide search found: its reason,
    and its kind, which it keeps unless a hand-off does reach the function
    (from another file)."""
    return replace(site, reason=answer.reason(description),
                   kind="" if answer.reached is True else "unreached")
