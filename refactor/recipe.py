"""Recipes are data: a TOML file naming steps, their semantic patches and scope.

Recipes hold semantic patches, and semantic patches can hold
`@script:python@` rules, which run code: a recipe is loaded only from
krefactor's own semantic_patches/ or from a path the user names.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import KrefactorError

BUILTIN = Path(__file__).resolve().parent.parent / "semantic_patches"
SPLITS = ("none", "subsystem", "maintainers")


@dataclass(frozen=True)
class Step:
    """One semantic patch, the files it may touch, and its commit message."""
    index: int
    cocci: Path
    grep: tuple[str, ...]
    grep_fixed: bool
    paths: tuple[str, ...]
    split: str
    subject: str
    body: str
    required: bool
    # "any": the semantic patch changes only functions that a hand-off reaches
    # on some path through the tree; series runs it once in report mode for
    # its candidates, searches the tree, and passes -D reached=file:fn,...
    reach: str = ""

    @property
    def name(self) -> str:
        return self.cocci.stem


@dataclass(frozen=True)
class Boot:
    """What boot-test needs from a recipe: its workload scripts and the guest."""
    workloads: Path               # directory of *.sh workloads
    config: tuple[str, ...]       # options on top of boot-test's own (no CONFIG_ prefix)
    disks: tuple[int, ...]        # MiB each, as /dev/vda, /dev/vdb, ...
    memory: int                   # MiB of guest memory
    # Directories whose code no workload can run here, and why.
    cannot_run: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HandOff:
    """Where the code a recipe changes is entered from: its hand-off points.

    `unreached` is the reason its semantic patches print for a site they see
    no hand-off reach within the file; series checks that claim across the
    tree (callgraph.py) and prints what is true instead."""
    description: str                        # "a ->writepage method or ... callback"
    initializers: tuple[str, ...]           # struct fields: `.writepage = f`
    callbacks: tuple[tuple[str, int], ...]  # (function, 1-based argument)
    unreached: str = ""
    start: str = ""        # the call a series adds at hand-offs (review's runtime check)
    # The calls that start what the hand-off must not leave started (callees.py):
    # a call before an exit that reaches none of them leaves the exit safe to change.
    starts: tuple[str, ...] = ()

    @property
    def start_call(self) -> str:
        """A regexp for a line calling `start` (indented: not its definition)."""
        return rf"\s+.*\b{re.escape(self.start)}\s*\("


@dataclass(frozen=True)
class Recipe:
    """A named, ordered list of steps."""
    name: str
    summary: str
    description: str
    requires: tuple[str, ...]
    symbols: tuple[str, ...]
    steps: tuple[Step, ...]
    directory: Path
    boot: Boot | None = None
    handoff: HandOff | None = None
    # Paths whose references are not the recipe's to change: (path, reason).
    excludes: tuple[tuple[str, str], ...] = ()

    @property
    def excluded_paths(self) -> tuple[str, ...]:
        return tuple(p for p, _ in self.excludes)


def resolve(name_or_path: str) -> Path:
    """Find a recipe directory: a built-in name, or a directory the user names."""
    p = Path(name_or_path)
    if p.is_dir() and (p / "recipe.toml").is_file():
        return p.resolve()
    if "/" not in name_or_path and (BUILTIN / name_or_path / "recipe.toml").is_file():
        return BUILTIN / name_or_path
    known = ", ".join(sorted(d.name for d in BUILTIN.iterdir() if (d / "recipe.toml").is_file()))
    raise KrefactorError(
        f"no recipe '{name_or_path}': give a built-in name ({known}) "
        "or a directory holding recipe.toml")


def load(name_or_path: str) -> Recipe:
    directory = resolve(name_or_path)
    path = directory / "recipe.toml"
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise KrefactorError(f"{path}: not valid TOML: {e}") from e
    return parse(data, directory, str(path))


def parse(data: dict, directory: Path, where: str) -> Recipe:
    """Validate a decoded recipe.toml; errors name the field."""
    def field(table: dict, key: str, kind: type, ctx: str, default=None):
        if key not in table:
            if default is not None:
                return default
            raise KrefactorError(f"{where}: {ctx}missing field '{key}'")
        value = table[key]
        if not isinstance(value, kind):
            raise KrefactorError(
                f"{where}: {ctx}field '{key}' must be a {kind.__name__}, "
                f"not {type(value).__name__}")
        return value

    def strings(table: dict, key: str, ctx: str, default=None) -> tuple[str, ...]:
        value = field(table, key, list, ctx, default)
        if not all(isinstance(v, str) and v for v in value):
            raise KrefactorError(f"{where}: {ctx}field '{key}' must list non-empty strings")
        return tuple(value)

    raw_steps = field(data, "steps", list, "")
    if not raw_steps:
        raise KrefactorError(f"{where}: field 'steps' is empty")
    steps = []
    for i, raw in enumerate(raw_steps, 1):
        ctx = f"step {i}: "
        if not isinstance(raw, dict):
            raise KrefactorError(f"{where}: {ctx}must be a table ([[steps]])")
        cocci = directory / field(raw, "cocci", str, ctx)
        if not cocci.is_file():
            raise KrefactorError(f"{where}: {ctx}field 'cocci': no file {cocci}")
        split = field(raw, "split", str, ctx, "none")
        if split not in SPLITS:
            raise KrefactorError(
                f"{where}: {ctx}field 'split' must be one of {', '.join(SPLITS)}, not '{split}'")
        subject = field(raw, "subject", str, ctx)
        if split != "none" and "{prefix}" not in subject:
            raise KrefactorError(
                f"{where}: {ctx}field 'subject' needs {{prefix}} when split = \"{split}\"")
        reach = field(raw, "reach", str, ctx, "none")
        if reach not in ("none", "any"):
            raise KrefactorError(f"{where}: {ctx}field 'reach' must be 'none' or 'any', "
                                 f"not '{reach}'")
        if reach == "any" and "handoff" not in data:
            raise KrefactorError(f"{where}: {ctx}reach = \"any\" needs a [handoff] table")
        steps.append(Step(
            index=i, cocci=cocci, reach="" if reach == "none" else reach,
            grep=strings(raw, "grep", ctx),
            grep_fixed=field(raw, "grep_fixed", bool, ctx, False),
            paths=strings(raw, "paths", ctx, ["."]),
            split=split, subject=subject,
            body=field(raw, "body", str, ctx).strip(),
            required=field(raw, "required", bool, ctx, False),
        ))
    boot = None
    if "boot" in data:
        raw = field(data, "boot", dict, "")
        ctx = "boot: "
        workloads = directory / field(raw, "workloads", str, ctx, "boot")
        if not workloads.is_dir():
            raise KrefactorError(f"{where}: {ctx}field 'workloads': no directory {workloads}")
        disks = field(raw, "disks", list, ctx, [])
        if not all(isinstance(d, int) and 0 < d <= 65536 for d in disks):
            raise KrefactorError(f"{where}: {ctx}field 'disks' must list sizes in MiB")
        memory = field(raw, "memory", int, ctx, 256)
        if not 64 <= memory <= 8192:
            raise KrefactorError(f"{where}: {ctx}field 'memory' must be 64 to 8192 MiB")
        cannot = field(raw, "cannot_run", dict, ctx, {})
        if not all(isinstance(v, str) and v.strip() for v in cannot.values()):
            raise KrefactorError(f"{where}: {ctx}field 'cannot_run' must map directories "
                                 "to the reason no workload runs them")
        boot = Boot(workloads, strings(raw, "config", ctx, []), tuple(disks), memory,
                    tuple(sorted((k.rstrip("/"), v.strip()) for k, v in cannot.items())))
    handoff = None
    if "handoff" in data:
        raw = field(data, "handoff", dict, "")
        ctx = "handoff: "
        callbacks = []
        for cb in field(raw, "callbacks", list, ctx, []):
            if not (isinstance(cb, dict) and isinstance(cb.get("function"), str)
                    and isinstance(cb.get("argument"), int) and cb["argument"] > 0):
                raise KrefactorError(f"{where}: {ctx}each of 'callbacks' needs a 'function' "
                                     "name and an 'argument' number from 1")
            callbacks.append((cb["function"], cb["argument"]))
        handoff = HandOff(field(raw, "description", str, ctx),
                          strings(raw, "initializers", ctx, []), tuple(callbacks),
                          field(raw, "unreached", str, ctx, ""),
                          field(raw, "start", str, ctx, ""),
                          strings(raw, "starts", ctx, []))
    excludes = []
    for i, raw in enumerate(field(data, "exclude", list, "", []), 1):
        ctx = f"exclude {i}: "
        if not isinstance(raw, dict):
            raise KrefactorError(f"{where}: {ctx}must be a table ([[exclude]])")
        path = field(raw, "path", str, ctx).strip("/")
        if not path or path.startswith(".") or ".." in path.split("/"):
            raise KrefactorError(f"{where}: {ctx}field 'path' must be a path in the tree")
        excludes.append((path, field(raw, "reason", str, ctx)))
    return Recipe(
        name=field(data, "name", str, ""),
        summary=field(data, "summary", str, ""),
        description=field(data, "description", str, "").strip(),
        requires=strings(data, "requires", "", []),
        symbols=strings(data, "symbols", "", []),
        steps=tuple(steps),
        directory=directory,
        boot=boot,
        handoff=handoff,
        excludes=tuple(excludes),
    )
