"""Apply a recipe's steps to a kernel tree as a series of commits on a branch.

Each step reads the files that mention its symbols at the previous commit,
runs its semantic patch on them, and writes one commit (or one per
subsystem). Nothing is checked out: see tree.py.
"""
from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from unidiff import PatchSet

from . import cocci, maintainers, record
from .errors import KrefactorError
from .message import commit_message
from .reach import check_claims, local_headers, run_reaching, step_files
from .recipe import Recipe, Step
from .record import Skipped
from .tree import Sha, Tree


@dataclass(frozen=True)
class Commit:
    sha: Sha
    subject: str
    step: str
    files: tuple[str, ...]


@dataclass
class SeriesResult:
    """What `series` did: the commits, the steps skipped, and every site reported."""
    recipe: str
    version: str
    base: Sha
    branch: str
    old_tip: Sha | None = None
    tip: Sha | None = None
    commits: list[Commit] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    sites: list[cocci.Site] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    nothing_to_do: str | None = None
    hunks: int = 0                 # places changed across the series
    # For each site, the commit its step read the file at (its line numbers are of it).
    site_commits: list[str] = field(default_factory=list)
    site_steps: list[str] = field(default_factory=list)
    # For each reach = "any" step, the files it looked at.
    analysed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def left(self) -> list[cocci.Site]:
        return [s for s in self.sites if s.verdict == "left"]

    @property
    def removed(self) -> list[cocci.Site]:
        return [s for s in self.sites if s.verdict == "removed"]


Progress = Callable[[str], None]


def generate(*, tree: Tree, recipe: Recipe, branch: str, force: bool = False,
             jobs: int = os.cpu_count() or 1, timeout: float = 120,
             progress: Progress = lambda msg: None, update: bool = True) -> SeriesResult:
    """Make the recipe's series on `branch`, from the tree's HEAD. With
    `update` false the commits are made but no ref is written (see publish)."""
    base = tree.rev("HEAD")
    if base is None:
        raise KrefactorError(f"{tree.path} has no commits: nothing to build a series on")
    version = tree.kernel_version(base)
    result = SeriesResult(recipe.name, version, base, branch)
    if recipe.requires and not tree.grep(base, recipe.requires, (".",)):
        raise KrefactorError(
            f"recipe {recipe.name} cannot apply to Linux {version}: the tree never mentions "
            f"{', '.join(recipe.requires)} (too old a kernel?)")

    existing = tree.rev(f"refs/heads/{branch}")
    result.old_tip = existing
    if existing is not None and not force:
        if holds_series(tree, base, existing, recipe):
            result.nothing_to_do = (f"branch {branch} already holds the {recipe.name} "
                                    f"series on {base[:12]}")
            result.tip = existing
            if not restore_sites(tree, result):
                remake_sites(tree, recipe, result, jobs=jobs, timeout=timeout,
                             progress=progress)
            return result
        other = "an earlier version of" if holds_series(tree, None, existing, recipe) \
            else "something other than"
        raise KrefactorError(
            f"branch {branch} exists and holds {other} the {recipe.name} series on HEAD; "
            f"pass --reroll to make the next version (v2, v3, ...) beside it, --branch NAME "
            f"for another branch, or --force to replace it")

    if tree.git("rev-parse", "--is-shallow-repository").strip() == b"true":
        progress("note: shallow clone: subject prefixes are the MAINTAINERS defaults where "
                 "the history is cut (git fetch --unshallow for the subsystems' own)")
    author = tree.identity()
    parent = base
    for step in recipe.steps:
        started = time.monotonic()
        files = step_files(tree, parent, recipe, step)
        if step.reach:
            result.analysed[step.name] = files
            results = run_reaching(tree, parent, recipe, step, files, jobs=jobs,
                                   timeout=timeout, progress=progress).results
        elif step.options is not None:
            progress(f"[{step.index}/{len(recipe.steps)}] {step.name}: spatch on "
                     f"{len(files)} files chosen by its grep query, -j {jobs}")
            texts = tree.read(parent, files)
            results = cocci.run_dir(step.cocci, texts,
                                    git_dir=tree.git_dir, jobs=jobs, timeout=timeout,
                                    mode=step.mode, options=step.options,
                                    headers=local_headers(tree, parent, texts, step),
                                    checked=recipe.adhoc)
        else:
            results = cocci.run(step.cocci, tree.read(parent, files), git_dir=tree.git_dir,
                                jobs=jobs, timeout=timeout, batch=step.batch)
            results = check_claims(tree, parent, recipe, results, progress)
        for r in results:
            result.sites.extend(r.sites)
            result.site_commits.extend(parent for _ in r.sites)
            result.site_steps.extend(step.name for _ in r.sites)
            if r.error:
                result.problems.append(f"{step.name}: {r.error}")
        changed = [r for r in results if r.changed]
        if not changed:
            reason = ("no file mentions its symbols" if not files else
                      "no change: already applied, or nothing it can convert")
            if step.required:
                raise KrefactorError(f"step {step.name} matched nothing ({reason})")
            result.skipped.append(Skipped(step.name, reason))
            progress(f"[{step.index}/{len(recipe.steps)}] {step.name}: skipped, {reason}")
            continue
        for group, members in groups(step, changed, tree, parent, recipe.first):
            prefix = prefix_for(tree, parent, group) if group else ""
            message = commit_message(recipe, step, prefix, members, str(author))
            parent = tree.commit(parent, {r.path: r.after for r in members}, message, author)
            result.commits.append(Commit(parent, message.splitlines()[0], step.name,
                                         tuple(r.path for r in members)))
        progress(f"[{step.index}/{len(recipe.steps)}] {step.name}: {len(files)} files, "
                 f"{len(changed)} changed, {time.monotonic() - started:.1f}s")

    if not result.commits:
        result.nothing_to_do = f"every step of {recipe.name} is already applied in {base[:12]}"
        return result
    result.tip = parent
    diff = tree.git("diff", "-U0", "--no-renames", base, parent).decode(errors="replace")
    result.hunks = sum(len(f) for f in PatchSet(diff))
    if update:
        publish(tree, result)
    return result


def publish(tree: Tree, result: SeriesResult) -> None:
    """Point the result's branch at its tip, and keep its record for coverage."""
    assert result.tip is not None
    tree.update_branch(result.branch, result.tip, result.old_tip)
    save_record(tree, result)


def save_record(tree: Tree, result: SeriesResult) -> None:
    """Keep the sites of a generated series, for coverage to give their reasons
    and for its mails written again (restore_sites)."""
    record.save(tree, record.SeriesRecord(
        result.recipe, result.base, result.tip or "",
        [record.Recorded(s, at, step)
         for s, at, step in zip(result.sites, result.site_commits, result.site_steps)],
        result.analysed, result.skipped, result.problems))


def restore_sites(tree: Tree, result: SeriesResult) -> bool:
    """The sites of a series made before, from its record, so that its mails
    written again (after compile-test and boot-test, say) account for them
    as the first time. False when there is no record of this base, or one
    an older krefactor wrote (its sites have no kinds)."""
    rec = record.load(tree, result.tip or "")
    if rec is None or rec.base != result.base:
        return False
    for r in rec.sites:
        result.sites.append(r.site)
        result.site_commits.append(r.at)
        result.site_steps.append(r.step)
    result.analysed, result.skipped = rec.analysed, rec.skipped
    result.problems = rec.problems
    return True


def remake_sites(tree: Tree, recipe: Recipe, result: SeriesResult, *, jobs: int,
                 timeout: float, progress: Progress) -> None:
    """No current record of a series the branch holds: make the series again,
    without touching a ref, and when it comes out as the same tree, take its
    sites and keep them as the branch tip's record."""
    assert result.tip is not None
    progress(f"no current record of the sites of {result.branch}: making the series again "
             "to account for them (no ref is changed)")
    again = generate(tree=tree, recipe=recipe, branch=result.branch, force=True, jobs=jobs,
                     timeout=timeout, progress=progress, update=False)
    mine = [result.base] + [sha for sha, _ in tree.log(Sha(result.base), Sha(result.tip))]
    made = [result.base] + [c.sha for c in again.commits]
    if again.tip is None or len(made) != len(mine) or \
            tree.tree_of(again.tip) != tree.tree_of(result.tip):
        progress(f"note: the series made now differs from {result.branch}: its mails "
                 "account for no sites (make it again with --reroll)")
        return
    # The same commits, one for one: a site's commit is the branch's own.
    same: dict[str, str] = dict(zip(made, mine))
    result.sites, result.site_commits = again.sites, [same.get(c, c)
                                                      for c in again.site_commits]
    result.site_steps, result.analysed = again.site_steps, again.analysed
    result.skipped, result.problems = again.skipped, again.problems
    save_record(tree, result)


def groups(step: Step, changed: list[cocci.FileResult], tree: Tree, commit: Sha,
           first: tuple[str, ...] = ()
           ) -> list[tuple[maintainers.Subsystem | None, list[cocci.FileResult]]]:
    if step.split == "none":
        return [(None, changed)]
    if step.split == "maintainers":
        return list(maintainer_groups(changed, tree, commit))
    by: dict[maintainers.Subsystem, list[cocci.FileResult]] = {}
    for r in changed:
        by.setdefault(maintainers.subsystem_of(r.path), []).append(r)
    # The recipe's `first` subsystems lead (writeback-void: mm, the core side
    # of a change reads best before its users); then by directory.
    def rank(sub: maintainers.Subsystem) -> tuple[int, str]:
        return (first.index(sub.key) if sub.key in first else len(first), sub.key)

    ordered: list[tuple[maintainers.Subsystem | None, list[cocci.FileResult]]] = [
        (sub, rs) for sub, rs in sorted(by.items(), key=lambda kv: rank(kv[0]))]
    return ordered


def maintainer_groups(changed: list[cocci.FileResult], tree: Tree, commit: Sha
                      ) -> list[tuple[maintainers.Subsystem, list[cocci.FileResult]]]:
    """One group per MAINTAINERS section (the most specific one of each file);
    a file no section owns goes by its directory. The group's key is the
    directory its files share, for the prefix from history."""
    sections = maintainers.sections_at(tree, commit)
    by: dict[str, list[cocci.FileResult]] = {}
    for r in changed:
        sec = maintainers.owner(sections, r.path)
        by.setdefault(sec.title if sec else f"dir:{os.path.dirname(r.path)}", []).append(r)
    out = []
    for _, members in by.items():
        paths = [m.path for m in members]
        # A section's files in trees apart share no directory: the first's.
        common = os.path.commonpath([os.path.dirname(p) or "." for p in paths]) \
            or os.path.dirname(sorted(paths)[0]) or "."
        out.append((maintainers.Subsystem(common, maintainers.default_prefix(paths)), members))
    names = distinct_prefixes([(g.prefix, Path(m[0].path if len(m) == 1 else g.key).stem)
                               for g, m in out],
                              [Path(m[0].path).parent.name if len(m) == 1
                               else Path(m[0].path).stem for g, m in out])
    out = [(replace(g, prefix=name), m) for (g, m), name in zip(out, names)]
    return sorted(out, key=lambda kv: (kv[0].key, kv[1][0].path))


def distinct_prefixes(groups: list[tuple[str, str]], dirs: list[str] | None = None) -> list[str]:
    """Two sections with one prefix: say which part each commit touches,
    `prefix: name`, except where the name says the prefix again (the drm core
    directory keeps "drm:" beside "drm: drm_mipi_dsi"). Names that still
    collide take the name in `dirs`: a lone file's directory (three drivers'
    main.c: mlx4, mlx5), or the first file of several."""
    seen = Counter(p for p, _ in groups)
    named = [p if seen[p] == 1 else p if n == p.rsplit("/", 1)[-1] else f"{p}: {n}"
             for p, n in groups]
    again = Counter(named)
    named = [f"{p}: {n}" if again[x] > 1 else x for (p, n), x in zip(groups, named)]
    if dirs is None:
        return named
    again = Counter(named)
    return [f"{p}: {d}" if again[x] > 1 and d else x
            for (p, _), d, x in zip(groups, dirs, named)]


def prefix_for(tree: Tree, commit: Sha, group: maintainers.Subsystem) -> str:
    """The subsystem's own subject prefix from its history, else the default."""
    subjects = tree.git("log", "-n", "50", "--format=%s", commit, "--", group.key)
    return maintainers.prefix_from_subjects(subjects.decode().splitlines()) or group.prefix


def holds_series(tree: Tree, base: Sha | None, tip: Sha, recipe: Recipe) -> bool:
    """Does base..tip consist of this recipe's commits, built directly on base?
    With no base: does `tip` hold the recipe's series on any base?"""
    if base is None:
        msg = tree.git("log", "-1", "--format=%B", tip).decode(errors="replace")
        return recipe.marks(msg)
    if tip == base or not tree.is_ancestor(base, tip):
        return False
    commits = tree.log(base, tip)
    if not commits or tree.rev(f"{commits[0][0]}^") != base:
        return False
    return all(recipe.marks(msg) for _, msg in commits)


