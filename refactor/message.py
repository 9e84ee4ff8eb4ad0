"""A step's commit message: its subject with the subsystem's prefix, its
body filled to 72 columns, the sites it left, and the trailers."""
from __future__ import annotations

import re
import textwrap

from . import cocci, letter
from .recipe import Recipe, Step


def commit_message(recipe: Recipe, step: Step, prefix: str,
                   members: list[cocci.FileResult], signer: str) -> str:
    subject = step.subject.replace("{prefix}", prefix)
    paragraphs = fill(step.body)
    left = letter.commit_left(letter.classify(
        ((s, step) for r in members for s in r.sites), recipe))
    if left:
        paragraphs.append(left)
    trailer = recipe.trailer(step)
    return f"{subject}\n\n" + "\n\n".join(paragraphs) + f"\n\n{trailer}\nSigned-off-by: {signer}\n"


def fill(text: str) -> list[str]:
    """The paragraphs of a recipe's text, each filled (see wrap)."""
    return [wrap(p) for p in text.split("\n\n")]


def wrap(paragraph: str) -> str:
    """Fill a paragraph to 72 columns; a list ("- " items) item by item."""
    items = re.split(r"(?m)^- ", paragraph.strip())
    if len(items) > 1 and not items[0].strip():
        return "\n".join(textwrap.fill(" ".join(i.split()), width=72, initial_indent="- ",
                                        subsequent_indent="  ") for i in items[1:])
    return textwrap.fill(" ".join(paragraph.split()), width=72, break_on_hyphens=False,
                         break_long_words=False)
