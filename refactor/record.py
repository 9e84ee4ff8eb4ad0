"""The record a series run keeps of its sites, per tip:
`<git dir>/krefactor/series/<tip>.json`. series writes it; coverage and the
mails written again read it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .tree import Tree

# Version 2: every site has its kind (the semantic patch's `verdict/kind`);
# an older record cannot tell a site scanned from one to review.
VERSION = 2


def path(tree: Tree, tip: str) -> Path:
    return tree.git_dir / "krefactor" / "series" / f"{tip}.json"


def save(tree: Tree, tip: str, data: dict[str, Any]) -> None:
    data = {"version": VERSION, **data}
    p = path(tree, tip)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data, indent=1))


def load(tree: Tree, tip: str) -> dict | None:
    """The record of `tip`, or None when there is none of the current version."""
    p = path(tree, tip)
    data = json.loads(p.read_text()) if p.exists() else None
    return data if isinstance(data, dict) and data.get("version", 1) >= VERSION else None
