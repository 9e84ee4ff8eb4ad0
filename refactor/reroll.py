"""Re-roll a series as v2, v3, ... the way b4 and `git format-patch -v` do.

Versions live on branches: `krefactor/<recipe>` is v1 and
`krefactor/<recipe>-vN` holds version N; no earlier branch is ever moved.
The new version is compared with the last one by `git patch-id` (identical:
nothing to do) and by `git range-diff`, whose pairing of old and new commits
gives each commit its counterpart and the "Changes in vN" list.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from . import series
from .errors import KrefactorError
from .recipe import Recipe
from .tree import Sha, Tree


@dataclass(frozen=True)
class Version:
    number: int
    branch: str
    base: Sha
    tip: Sha


@dataclass(frozen=True)
class Pair:
    """One line of `git range-diff`: an old commit, a new one, or both."""
    old: int | None              # 1-based position in the previous version
    new: int | None
    old_sha: str
    new_sha: str
    relation: str                # "=", "!", "<" (dropped), ">" (added)
    subject: str
    body: tuple[str, ...] = ()   # the inner diff of a "!" pair


@dataclass
class Reroll:
    """What changed from the previous version to this one."""
    number: int
    previous: Version
    base_moved: bool
    changes: list[str] = field(default_factory=list)
    counterparts: list[dict] = field(default_factory=list)
    range_diff: str = ""


def version_branch(branch: str, number: int) -> str:
    return branch if number == 1 else f"{branch}-v{number}"


def versions(tree: Tree, branch: str, recipe: Recipe) -> list[Version]:
    """The versions of the series on the tree: `branch` (v1), then `branch-v2`, ...
    up to the first number missing after 1."""
    found = []
    for number in itertools.count(1):
        tip = tree.rev(f"refs/heads/{version_branch(branch, number)}")
        if tip is None:
            if number == 1:
                continue
            break
        found.append(Version(number, version_branch(branch, number),
                             series_base(tree, tip, recipe), tip))
    return found


def run(*, tree: Tree, recipe: Recipe, branch: str, jobs: int, timeout: float,
        progress=lambda m: None) -> tuple[series.SeriesResult, Reroll | None]:
    """Make the next version of the series, unless it would be the same as the last."""
    found = versions(tree, branch, recipe)
    if not found:
        raise KrefactorError(f"nothing to re-roll: no branch {branch}; make v1 with "
                             "`krefactor series` first")
    previous = found[-1]
    number = previous.number + 1
    new_branch = version_branch(branch, number)
    res = series.generate(tree=tree, recipe=recipe, branch=new_branch, jobs=jobs,
                          timeout=timeout, progress=progress, update=False)
    if res.nothing_to_do or res.tip is None:
        return res, None
    same_patches = patch_ids(tree, previous.base, previous.tip) == \
        patch_ids(tree, res.base, res.tip)
    same_messages = [m for _, m in tree.log(previous.base, previous.tip)] == \
        [m for _, m in tree.log(res.base, res.tip)]
    if same_patches and same_messages and res.base == previous.base:
        res.nothing_to_do = (f"v{number} would be identical to v{previous.number} on "
                             f"{previous.branch} (same patches by git patch-id, same "
                             "messages, same base)")
        res.branch, res.tip, res.commits = previous.branch, previous.tip, []
        return res, None
    series.publish(tree, res)
    return res, compare(tree, previous, res.base, res.tip, number)


def series_base(tree: Tree, tip: Sha, recipe: Recipe) -> Sha:
    """The commit the series at `tip` was made on: the parent of its oldest
    commit that carries the recipe's Generated-by trailer."""
    for sha, msg in tree.log_fields(["%H", "%B"], "--first-parent", tip):
        if not recipe.marks(msg):
            return Sha(sha)
    raise KrefactorError(f"{tip[:12]}: every commit down to the root carries "
                         f"{recipe.markers[0].strip()!r}; no base found")


def patch_ids(tree: Tree, base: Sha, tip: Sha) -> list[str]:
    """`git patch-id --stable` of each commit of base..tip, oldest first, from one
    `git log -p` (patch-id prints "<patch id> <commit>" per commit it reads)."""
    log = tree.git("log", "--reverse", "-p", "--no-renames", "--format=commit %H",
                   f"{base}..{tip}")
    ids: dict[str, str] = {}
    for line in tree.git("patch-id", "--stable", input=log).decode().splitlines():
        patch_id, commit = line.split()
        ids[commit] = patch_id
    return [ids.get(sha, "") for sha, _ in tree.log(base, tip)]


RANGE_LINE = re.compile(
    r"^\s*(-|\d+):\s+(-+|[0-9a-f]+) ([=!<>])\s+(-|\d+):\s+(-+|[0-9a-f]+) (.*)$")
# Inside a "!" pair: a section of the commit ("## Commit message ##", "## path ##",
# or a hunk header naming it), and a line of the inner diff that changed.
SECTION = re.compile(r"^    [ +-]?\s*## (.+) ##$")
HUNK = re.compile(r"^    @@ (Metadata|Commit message|[^:\s]+)")
CHANGED = re.compile(r"^    [+-]")


def changed_sections(body: tuple[str, ...]) -> list[str]:
    """The sections of a commit that a range-diff "!" pair changed, in order:
    "Commit message", "Metadata", or file paths."""
    section, changed = "", []
    for line in body:
        m = SECTION.match(line) or HUNK.match(line)
        if m:
            section = m.group(1)
        elif CHANGED.match(line) and section and section not in changed:
            changed.append(section)
    return changed


def parse_range_diff(text: str) -> list[Pair]:
    """Parse `git range-diff --no-color` output into pairs, with each "!" pair's inner diff."""
    pairs: list[Pair] = []
    body: list[str] = []
    for line in text.splitlines():
        m = RANGE_LINE.match(line)
        if m:
            if pairs and body:
                pairs[-1] = Pair(**{**pairs[-1].__dict__, "body": tuple(body)})
            body = []
            old, old_sha, rel, new, new_sha, subject = m.groups()
            pairs.append(Pair(None if old == "-" else int(old), None if new == "-" else int(new),
                              "" if old_sha.startswith("-") else old_sha,
                              "" if new_sha.startswith("-") else new_sha, rel, subject))
        elif pairs:
            body.append(line)
    if pairs and body:
        pairs[-1] = Pair(**{**pairs[-1].__dict__, "body": tuple(body)})
    return pairs


def describe(pair: Pair, old_subjects: dict[int, str], new_subjects: dict[int, str]) -> str | None:
    """One "Changes in vN" line for a pair, or None when the commit is the same.
    (range-diff prints one subject per pair; the subjects come from the logs.)"""
    old = old_subjects.get(pair.old or 0, pair.subject)
    new = new_subjects.get(pair.new or 0, pair.subject)
    if pair.relation == "=":
        return None
    if pair.relation == ">":
        return f"added: {new}"
    if pair.relation == "<":
        return f"dropped: {old}"
    sections = changed_sections(pair.body)
    files = [s for s in sections if s not in ("Commit message", "Metadata")]
    parts = []
    if old != new:
        parts.append(f"reworded: {old!r} -> {new!r}")
    elif "Commit message" in sections:
        parts.append(f"commit message changed: {new}")
    if files:
        parts.append(f"changed in content: {new} ({', '.join(files)})")
    return "; ".join(parts) or f"changed: {new}"


def compare(tree: Tree, previous: Version, base: Sha, tip: Sha, number: int) -> Reroll:
    """The changelog and counterparts of base..tip against the previous version."""
    text = tree.git("range-diff", "--no-color", f"{previous.base}..{previous.tip}",
                    f"{base}..{tip}").decode(errors="replace")
    pairs = parse_range_diff(text)
    old_subjects = {i: msg.splitlines()[0] for i, (_, msg)
                    in enumerate(tree.log(previous.base, previous.tip), 1)}
    new_subjects = {i: msg.splitlines()[0] for i, (_, msg) in enumerate(tree.log(base, tip), 1)}
    r = Reroll(number, previous, base_moved=base != previous.base, range_diff=text)
    if r.base_moved:
        r.changes.append(f"rebased: v{previous.number} was on {previous.base[:12]}, "
                         f"v{number} is on {base[:12]}")
    for p in pairs:
        line = describe(p, old_subjects, new_subjects)
        if line:
            r.changes.append(line)
    new_order = [sha for sha, _ in tree.log(base, tip)]
    by_new = {p.new: p for p in pairs if p.new is not None}
    for i, sha in enumerate(new_order, 1):
        q = by_new.get(i)
        r.counterparts.append({
            "index": i, "sha": sha,
            "previous": None if q is None or q.old is None else
            {"index": q.old, "sha": full_sha(tree, q.old_sha)},
            "relation": {"=": "same", "!": "changed", ">": "added"}.get(q.relation, "?")
            if q else "added"})
    return r


def full_sha(tree: Tree, short: str) -> str:
    return tree.rev(short) or short
