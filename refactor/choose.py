"""What a command acts on when the user does not say: the range BASE..TIP
and the recipe, from the tree's krefactor/ series branches."""
from __future__ import annotations

import re

from . import recipe as recipe_mod
from .errors import KrefactorError
from .tree import Sha, Tree


def resolve_range(t: Tree, rng: str | None,
                  recipe: str | None = None) -> tuple[Sha, Sha]:
    """BASE..TIP from --range, or HEAD..the latest version of the series of the
    recipe named, or of the one recipe whose series branches the tree has."""
    spec = rng or f"HEAD..{default_branch(t, recipe)}"
    base_ref, _, tip_ref = spec.partition("..")
    base, tip = t.rev(base_ref or "HEAD"), t.rev(tip_ref or "HEAD")
    if base is None or tip is None:
        raise KrefactorError(f"--range {spec}: unknown revision; make the series first "
                             "or give --range BASE..TIP")
    return base, tip


def chosen_recipe(t: Tree, recipe: str | None) -> recipe_mod.Recipe:
    """The recipe named, or the one whose series the tree has (krefactor/NAME);
    with neither, the user is asked to name one."""
    rec = series_recipe(t, recipe)
    if rec is None:
        raise KrefactorError(f"which recipe? give --recipe NAME (built-in: "
                             f"{', '.join(recipe_mod.builtins())}) or a directory holding "
                             "recipe.toml; none is inferred from this tree's branches")
    return rec


def series_recipe(t: Tree, recipe: str | None) -> recipe_mod.Recipe | None:
    """The recipe named, or the one whose series the tree has; None if neither."""
    if recipe is not None:
        return recipe_mod.load(recipe)
    try:
        m = re.fullmatch(r"krefactor/(.+?)(?:-v\d+)?", default_branch(t, None))
        return recipe_mod.load(m.group(1)) if m else None
    except KrefactorError:
        return None


def default_branch(t: Tree, recipe: str | None) -> str:
    """krefactor/RECIPE, or krefactor/RECIPE-vN for the latest re-roll."""
    names = t.git("for-each-ref", "--format=%(refname:short)",
                  "refs/heads/krefactor/").decode().split()
    series_of: dict[str, list[tuple[int, str]]] = {}
    for name in names:
        m = re.fullmatch(r"krefactor/(.+?)(?:-v(\d+))?", name)
        if m:
            series_of.setdefault(m.group(1), []).append((int(m.group(2) or 1), name))
    if recipe is not None:
        name = recipe_mod.load(recipe).name
        versions = series_of.get(name)
        return max(versions)[1] if versions else f"krefactor/{name}"
    if len(series_of) == 1:
        return max(next(iter(series_of.values())))[1]
    if not series_of:
        raise KrefactorError("no krefactor series on this tree: make one with `krefactor "
                             "series`, or give --range BASE..TIP")
    raise KrefactorError(f"several series on this tree ({', '.join(sorted(series_of))}): "
                         "give --recipe NAME or --range BASE..TIP")
