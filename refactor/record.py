"""The record a series run keeps of its sites, per tip:
`<git dir>/krefactor/series/<tip>.json`. series writes it; coverage and the
mails written again read it, as a SeriesRecord."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .cocci import Site
from .tree import Tree

# Version 2: every site has its kind (the semantic patch's `verdict/kind`);
# an older record cannot tell a site scanned from one to review.
VERSION = 2


@dataclass(frozen=True)
class Skipped:
    """A step that made no commit, and why."""
    step: str
    reason: str


@dataclass(frozen=True)
class Recorded:
    """A site a semantic patch reported, with the commit its step read the
    file at (the site's line numbers are of it) and the step's name."""
    site: Site
    at: str
    step: str


@dataclass
class SeriesRecord:
    recipe: str
    base: str
    tip: str
    sites: list[Recorded] = field(default_factory=list)
    # For each reach = "any" step, the files it looked at.
    analysed: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def left(self) -> list[Recorded]:
        return [r for r in self.sites if r.site.verdict == "left"]


def path(tree: Tree, tip: str) -> Path:
    return tree.git_dir / "krefactor" / "series" / f"{tip}.json"


def save(tree: Tree, rec: SeriesRecord) -> None:
    data = {"version": VERSION, "recipe": rec.recipe, "base": rec.base, "tip": rec.tip,
            "sites": [dict(asdict(r.site), at=r.at, step=r.step) for r in rec.sites],
            "analysed": rec.analysed, "skipped": [asdict(k) for k in rec.skipped],
            "problems": rec.problems}
    p = path(tree, rec.tip)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data, indent=1))


def load(tree: Tree, tip: str) -> SeriesRecord | None:
    """The record of `tip`, or None when there is none of the current version
    (or it does not read)."""
    p = path(tree, tip)
    try:
        data = json.loads(p.read_text()) if p.exists() else None
        if not isinstance(data, dict) or data.get("version", 1) < VERSION:
            return None
        return SeriesRecord(
            str(data["recipe"]), str(data["base"]), str(data["tip"]),
            [Recorded(Site(d["file"], int(d["line"]), int(d["column"]), d["verdict"],
                           d["function"], d["reason"], d.get("kind", "")), d["at"], d["step"])
             for d in data.get("sites", [])],
            {k: list(v) for k, v in data.get("analysed", {}).items()},
            [Skipped(k["step"], k["reason"]) for k in data.get("skipped", [])],
            [str(p) for p in data.get("problems", [])])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
