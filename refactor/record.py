"""The record a series run keeps of its sites, per tip:
`<git dir>/krefactor/series/<tip>.json`. series writes it; coverage and the
mails written again read it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .tree import Tree


def path(tree: Tree, tip: str) -> Path:
    return tree.git_dir / "krefactor" / "series" / f"{tip}.json"


def save(tree: Tree, tip: str, data: dict[str, Any]) -> None:
    p = path(tree, tip)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data, indent=1))


def load(tree: Tree, tip: str) -> dict | None:
    p = path(tree, tip)
    return json.loads(p.read_text()) if p.exists() else None
