"""A series as mails: `git format-patch` with the cover letter filled in,
each patch's test results below its `---`, and one series per maintainer
tree (--per-maintainer)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import letter, maintainers
from . import results as test_results
from .message import fill, wrap
from .recipe import Recipe
from .series import SeriesResult
from .tree import Sha, Tree


def cover_letter(result: SeriesResult, recipe: Recipe) -> tuple[str, str]:
    """Subject and blurb for the 0/N mail."""
    paras = fill(recipe.description)
    paras.append(wrap(f"krefactor made every patch of this series with spatch from "
                      f"{recipe.source}."))
    if result.removed:
        paras.append(f"Sites changed by the last step: {len(result.removed)}.")
    left = letter.left_account(left_sites(result, recipe))
    if left:
        paras.append(left)
    if result.skipped:
        lines = ["Steps skipped:"] + [f"  {s.step}: {s.reason}" for s in result.skipped]
        paras.append("\n".join(lines))
    if result.problems:
        lines = ["Files spatch could not process (need review):"]
        lines += [f"  {p}" for p in result.problems]
        paras.append("\n".join(lines))
    return recipe.summary, "\n\n".join(paras)


def left_sites(result: SeriesResult, recipe: Recipe) -> list[letter.Left]:
    """The sites the series left, each with the step that reported it and its kind."""
    steps = {st.name: st for st in recipe.steps}
    return letter.classify(((s, steps[n]) for s, n in zip(result.sites, result.site_steps)
                            if n in steps), recipe)


def write_patches(tree: Tree, result: SeriesResult, recipe: Recipe, output: Path,
                  *, number: int = 1, previous: str | None = None,
                  changes: list[str] | None = None) -> list[Path]:
    """`git format-patch` the series into `output`, with a filled-in cover letter
    (and its Testing section, from the results krefactor kept for these very
    commits: results.py).
    For version `number` > 1: `[PATCH vN k/n]`, "Changes in vN" from `changes`
    and git's range-diff against the `previous` range."""
    assert result.tip is not None
    args = ["format-patch", "--cover-letter", f"--base={result.base}"]
    if number > 1:
        args += [f"-v{number}"]
        if previous:
            args += [f"--range-diff={previous}"]
    out = tree.git(*args, "-o", str(output.resolve()),
                   f"{result.base}..{result.tip}").decode()
    paths = [Path(line) for line in out.splitlines() if line.strip()]
    fill_cover(paths, *cover(tree, result, recipe, number=number, changes=changes))
    test_results.add_notes(tree, paths)
    return paths


def cover(tree: Tree, result: SeriesResult, recipe: Recipe, *, number: int = 1,
          changes: list[str] | None = None) -> tuple[str, str]:
    """The cover letter's subject and text: for version `number` > 1 its
    changes first, and the Testing section of exactly these commits last."""
    assert result.tip is not None
    subject, blurb = cover_letter(result, recipe)
    if number > 1 and changes:
        blurb = f"Changes in v{number}:\n" + "\n".join(f"- {c}" for c in changes) + \
            "\n\n" + blurb
    tested = test_results.testing(tree, Sha(result.base), result.tip)
    if tested:
        blurb += "\n\n" + tested
    return subject, blurb


def fill_cover(paths: list[Path], subject: str, blurb: str) -> None:
    """Put the subject and blurb into format-patch's cover letter among `paths`."""
    for p in paths:
        if re.match(r"^(v\d+-)?0000-", p.name):
            text = p.read_text()
            text = text.replace("*** SUBJECT HERE ***", subject)
            text = text.replace("*** BLURB HERE ***", blurb)
            p.write_text(text)


@dataclass(frozen=True)
class Part:
    """One maintainer tree's share of a series, replayed on the base."""
    slug: str             # its directory name under --output, and b4 branch suffix
    tip: Sha              # its commits replayed on the base (reachable from no ref)
    files: tuple[str, ...]
    subject: str
    blurb: str


def parts(tree: Tree, result: SeriesResult, recipe: Recipe) -> list[Part]:
    """One part per maintainer tree, the way treewide work goes upstream: the
    commits of the MAINTAINERS sections that name one git tree (T:) go
    together, a section without one alone. A part's commits are replayed on
    the base (they touch only its files), so each applies on its own; the
    commits so made are reachable from no ref."""
    assert result.tip is not None
    sections = maintainers.sections_at(tree, result.base)
    author = tree.identity()
    by: dict[str, list[tuple[Sha, str, list[str]]]] = {}
    titles: dict[str, list[str]] = {}
    for sha, msg in tree.log(result.base, result.tip):
        files = tree.git("diff-tree", "--no-commit-id", "--name-only", "-r",
                         sha).decode().split()
        sec = maintainers.owner(sections, files[0]) if files else None
        title = sec.title if sec else msg.split(":")[0]
        key = maintainers.tree_name(sec.trees[0]) if sec and sec.trees else title
        by.setdefault(key, []).append((sha, msg, files))
        if title not in titles.setdefault(key, []):
            titles[key].append(title)
    out = []
    for key, commits in by.items():
        parent = result.base
        files_all: list[str] = []
        for sha, msg, files in commits:
            contents = tree.read(sha, files, missing_ok=True)
            parent = tree.commit(parent, contents, msg, author)
            files_all += files
        slug = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:48] or "rest"
        where = key if titles[key] == [key] else \
            f"the {key} tree (MAINTAINERS: {', '.join(titles[key])})"
        blurb = "\n\n".join(fill(recipe.description) + [
            wrap(f"This is the part for {where} of a treewide change that krefactor made "
                 f"with spatch from {recipe.source}; each maintainer tree "
                 f"(or MAINTAINERS section naming none) gets its own series, which applies "
                 f"on its own on the base below.")])
        subject = commits[0][1].splitlines()[0] if len(commits) == 1 \
            else f"{recipe.summary} ({key})"
        out.append(Part(slug, parent, tuple(files_all), subject, blurb))
    return out


def write_per_maintainer(tree: Tree, result: SeriesResult, recipe: Recipe,
                         output: Path, made: list[Part] | None = None) -> dict[str, list[Path]]:
    """Each part (`parts`, or those `made` already) as its own series in
    `output/<tree or section>/`, with its own cover letter, To/Cc from its
    sections and `base-commit:`."""
    sections = maintainers.sections_at(tree, result.base)
    written: dict[str, list[Path]] = {}
    for part in made if made is not None else parts(tree, result, recipe):
        rec = maintainers.recipients(sections, list(part.files))
        dest = output / part.slug
        args = ["format-patch", "--cover-letter", f"--base={result.base}", "-o",
                str(dest.resolve())]
        args += [f"--to={a}" for a in rec.to] + [f"--cc={a}" for a in rec.cc]
        out = tree.git(*args, f"{result.base}..{part.tip}").decode()
        paths = [Path(line) for line in out.splitlines() if line.strip()]
        fill_cover(paths, part.subject, part.blurb)
        written[part.slug] = paths
    return written
