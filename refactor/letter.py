"""What the mails say: commit messages and the cover letter's account of the
sites a series left as they are.

A site a step reports as left is one of three kinds:
- scanned: the semantic patch looked at the function and no hand-off reaches
  it (kind `unreached` in the semantic patch's verdict, checked across the tree
  by series).
  Nothing was to be changed there: no commit message names it, and the
  cover letter only counts it.
- kept: the step's recipe says what leaving such a site means and why it is
  safe (the step's `kept`). Counted by reason.
- review: anything else. A human has to look: listed with its reason.
The full inventory stays in `series --json`.
"""
from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .cocci import Site
from .recipe import Recipe, Step


@dataclass(frozen=True)
class Left:
    site: Site
    step: Step
    kind: str          # "scanned", "kept" or "review"


def kind_of(site: Site, step: Step, recipe: Recipe) -> str:
    if site.kind == "unreached":
        return "scanned"
    return "kept" if step.kept else "review"


def classify(pairs: Iterable[tuple[Site, Step]], recipe: Recipe) -> list[Left]:
    """The left sites among `pairs` (site, the step that reported it), each with its kind."""
    return [Left(s, st, kind_of(s, st, recipe)) for s, st in pairs if s.verdict == "left"]


def category(reason: str) -> str:
    """A reason without what is particular to its site: the text before its
    evidence (a call path after ':', a parenthesis), function names as '…()'
    except those the text names as the place of a hand-off, line numbers as N."""
    head = re.split(r": | \(", reason, maxsplit=1)[0]
    head = re.sub(r"^\w+\(\) is\b", "its function is", head)
    head = re.sub(r"after \w+\(\)", "after a call", head)
    return re.sub(r"\b\d+\b", "N", head)


def items(sites: list[Site]) -> list[str]:
    """The sites, one item per function and reason (its lines together),
    each filled to 72 columns."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for s in sites:
        groups.setdefault((s.file, s.function, s.reason), []).append(s.line)
    out = []
    for (file, fn, reason), lines in groups.items():
        where = ",".join(str(n) for n in sorted(set(lines)))
        out.append(textwrap.fill(f"{file}:{where}{f' {fn}()' if fn else ''}: {reason}",
                                 width=72, initial_indent="  ", subsequent_indent="    ",
                                 break_long_words=False, break_on_hyphens=False))
    return out


def left_account(left: list[Left], *, limit: int = 25) -> str:
    """The cover letter's paragraphs on the left sites: counts by kind and
    reason, and the sites that need review listed (at most `limit`)."""
    if not left:
        return ""
    review = [x for x in left if x.kind == "review"]
    bullets = []
    if len(review) < len(left):
        if review:
            bullets.append(f"{len(review)} {'needs' if len(review) == 1 else 'need'} "
                           f"review, listed below")
        kept_steps: dict[str, list[Left]] = {}
        for x in left:
            if x.kind == "kept":
                kept_steps.setdefault(x.step.name, []).append(x)
        for xs in kept_steps.values():
            bullets.append(f"{len(xs)} {xs[0].step.kept}: {counted(xs)}")
        scanned = [x for x in left if x.kind == "scanned"]
        if scanned:
            bullets.append(f"{len(scanned)} in functions the semantic patches looked at "
                           f"and changed nothing in: {counted(scanned)}")
    paras = []
    if bullets:
        lines = [f"Sites left as they are: {len(left)}."]
        lines += [textwrap.fill(f"- {b}{'.' if i == len(bullets) - 1 else ';'}", width=72,
                                subsequent_indent="  ", break_long_words=False,
                                break_on_hyphens=False) for i, b in enumerate(bullets)]
        lines.append("`krefactor series --json FILE` lists every site with its reason.")
        paras.append("\n".join(lines))
    if review:
        shown = review[:limit]
        head = (f"Left as they are, for review ({len(review)}):" if len(review) <= limit else
                f"Left as they are, for review ({len(review)}; the first {limit}):")
        paras.append("\n".join([head] + items([x.site for x in shown])))
    return "\n\n".join(paras)


def counted(left: list[Left]) -> str:
    """`n reason; m reason` over the sites' reasons without their particulars."""
    reasons = Counter(category(x.site.reason) for x in left)
    return "; ".join(f"{n} {r}" for r, n in reasons.most_common())


def commit_left(left: list[Left]) -> str:
    """A commit message's paragraph on the sites in its own files that its
    step considered and left: never a function it merely scanned."""
    shown = [x for x in left if x.kind != "scanned"]
    if not shown:
        return ""
    kept = [x for x in shown if x.kind == "kept"]
    review = [x for x in shown if x.kind == "review"]
    paras = []
    if review:
        paras.append("\n".join(["Left as they are, for review:"] + items([x.site for x in review])))
    if kept:
        head = textwrap.fill(f"Left as they are: {kept[0].step.kept}:", width=72,
                             break_on_hyphens=False)
        paras.append("\n".join([head] + items([x.site for x in kept])))
    return "\n\n".join(paras)
