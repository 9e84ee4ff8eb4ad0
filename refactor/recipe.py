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
    # on some path through the tree; series runs it once with -D reached=*
    # (list the candidates, patch as if all were reached), searches the tree,
    # and runs again with -D reached=file:fn,... where that guess was wrong.
    reach: str = ""
    # A plain semantic patch (adhoc.py): spatch's grep query ("" for every
    # file; None: choose files by `grep`), its own spatch options (None:
    # krefactor's --no-includes), its mode (None: it declares none), whether
    # .h files are candidates, and its Generated-by trailer.
    query: str | None = None
    options: tuple[str, ...] | None = None
    mode: str | None = "patch"
    headers: bool = False
    trailer: str = ""
    # What a site this step leaves as it is means, where the recipe knows it
    # is safe ("keep the filesystem's own start ..."): such sites are counted
    # in the cover letter, not listed for review (letter.py).
    kept: str = ""
    # Its semantic patch keys what its Python rules keep by file (positions
    # with their file), so that one spatch can go through many files.
    batch: bool = False

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
class Carried:
    """The object a hand-off passes on, as series follows it through calls:
    the types of the parameters that hold it, the calls that give it another
    name (`x = page_folio(NAME)`), and the argument forms that pass it on;
    NAME is a name known to hold it."""
    noun: str = "object"
    types: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    passed: tuple[str, ...] = ("NAME",)


@dataclass(frozen=True)
class HandOff:
    """Where the code a recipe changes is entered from: its hand-off points.

    A site its semantic patches see no hand-off reach within the file they
    report as `left/unreached`; series checks that claim across the tree
    (callgraph.py) and prints what is true instead."""
    description: str                        # "a ->writepage method or ... callback"
    initializers: tuple[str, ...]           # struct fields: `.writepage = f`
    callbacks: tuple[tuple[str, int], ...]  # (function, 1-based argument)
    start: str = ""        # the call a series adds at hand-offs (review's runtime check)
    # What review's runtime check says of a site, by the kind its semantic
    # patch gives it ("left": an exit left in code a hand-off reaches).
    runtime: tuple[tuple[str, str], ...] = ()
    # The calls that start what the hand-off must not leave started (callees.py):
    # a call before an exit that reaches none of them leaves the exit safe to change.
    starts: tuple[str, ...] = ()
    started: str = "it"    # what they start, in reasons: "which may start {started} on it"
    carried: Carried = Carried()
    # What coverage says of the hand-off references its inventory reports
    # (coverage.dispose and implementations name the keys and what is said
    # without them).
    coverage: tuple[tuple[str, str], ...] = ()
    # What ends what the starts start, each with the test that it is set
    # (test, end): a path of a callee that ends it, or tests and ends it,
    # leaves nothing started for its caller (always.py).
    ends: tuple[tuple[str, str], ...] = ()

    def says(self, table: tuple[tuple[str, str], ...], key: str, default: str,
             **names: str) -> str:
        """The text `table` (`runtime` or `coverage`) gives for `key`, else
        `default`, with {handoff} (the description), {start} and `names` filled."""
        text = dict(table).get(key, default)
        for k, v in {"handoff": self.description, "start": self.start, **names}.items():
            text = text.replace("{" + k + "}", v)
        return text

    @property
    def grep_patterns(self) -> tuple[str, ...]:
        """Fixed strings that find every file with a hand-off (`.writepage`,
        `write_cache_pages(`), for git grep; the regexps of the caller decide."""
        return tuple(f".{i}" for i in self.initializers) + \
            tuple(f"{fn}(" for fn, _ in self.callbacks)

    @property
    def start_call(self) -> str:
        """A regexp for a line calling `start` (indented: not its definition)."""
        return rf"\s+.*\b{re.escape(self.start)}\s*\("


@dataclass(frozen=True)
class Flag:
    """A risk review flags in a function whose diff removes more indented
    calls to one of `removed` than it adds: when `near` (a regexp) matches
    what the function keeps, or with `exported`, when it is not static."""
    removed: tuple[str, ...]
    message: str
    near: str = ""
    exported: bool = False

    @property
    def call(self) -> re.Pattern[str]:
        return re.compile(rf"\b({'|'.join(map(re.escape, self.removed))})\s*\(")


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
    flags: tuple[Flag, ...] = ()
    # Subsystems (directories) whose commits lead a split = "subsystem" step.
    first: tuple[str, ...] = ()
    # Paths whose references are not the recipe's to change: (path, reason).
    excludes: tuple[tuple[str, str], ...] = ()
    # Made from plain semantic patches (series --cocci), not from a recipe.toml.
    adhoc: bool = False

    @property
    def excluded_paths(self) -> tuple[str, ...]:
        return tuple(p for p, _ in self.excludes)

    def trailer(self, step: Step) -> str:
        """The Generated-by line of a step's commits."""
        return step.trailer or f"Generated by: semantic_patches/{self.name}/{step.cocci.name}"

    @property
    def markers(self) -> tuple[str, ...]:
        """Text every commit of this recipe's series carries (one of them)."""
        if self.adhoc:
            return tuple(self.trailer(s) + "\n" for s in self.steps)
        return (f"Generated by: semantic_patches/{self.name}/",)

    @property
    def source(self) -> str:
        """Where the series' semantic patches come from, for a cover letter."""
        if self.adhoc:
            return ", ".join(s.trailer.removeprefix("Generated by: ") for s in self.steps)
        return f"the semantic patches in semantic_patches/{self.name}/"

    def marks(self, message: str) -> bool:
        return any(m in message for m in self.markers)


def builtins() -> list[str]:
    return sorted(d.name for d in BUILTIN.iterdir() if (d / "recipe.toml").is_file())


def resolve(name_or_path: str) -> Path:
    """Find a recipe directory: a built-in name, or a directory the user names."""
    p = Path(name_or_path)
    if p.is_dir() and (p / "recipe.toml").is_file():
        return p.resolve()
    if "/" not in name_or_path and (BUILTIN / name_or_path / "recipe.toml").is_file():
        return BUILTIN / name_or_path
    known = ", ".join(builtins())
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
        # A plain semantic patch's step (recipe new --from): spatch's grep
        # query, its own options and mode, as series --cocci runs it.
        query = field(raw, "query", str, ctx, "\0")
        options = strings(raw, "options", ctx, ["\0"])
        mode = field(raw, "mode", str, ctx, "patch")
        if mode not in ("patch", "none"):
            raise KrefactorError(f"{where}: {ctx}field 'mode' must be 'patch' or 'none', "
                                 f"not '{mode}'")
        if "options" not in raw and ("query" in raw or "mode" in raw):
            raise KrefactorError(f"{where}: {ctx}fields 'query' and 'mode' go with "
                                 "'options' (a plain semantic patch's step)")
        steps.append(Step(
            index=i, cocci=cocci, reach="" if reach == "none" else reach,
            query=None if query == "\0" else query,
            options=None if options == ("\0",) else options,
            mode=None if mode == "none" else mode,
            headers=field(raw, "headers", bool, ctx, False),
            grep=strings(raw, "grep", ctx, [] if "options" in raw else None),
            grep_fixed=field(raw, "grep_fixed", bool, ctx, False),
            paths=strings(raw, "paths", ctx, ["."]),
            split=split, subject=subject,
            body=field(raw, "body", str, ctx).strip(),
            required=field(raw, "required", bool, ctx, False),
            kept=" ".join(field(raw, "kept", str, ctx, "").split()),
            batch=field(raw, "batch", bool, ctx, False),
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

        def texts(key: str, what: str) -> tuple[tuple[str, str], ...]:
            table = field(raw, key, dict, ctx, {})
            if not all(isinstance(v, str) and v.strip() for v in table.values()):
                raise KrefactorError(f"{where}: {ctx}field '{key}' must map {what}")
            return tuple(sorted(table.items()))

        carried = Carried()
        if "carried" in raw:
            c, cctx = field(raw, "carried", dict, ctx), "handoff.carried: "
            carried = Carried(field(c, "noun", str, cctx), strings(c, "types", cctx),
                              strings(c, "aliases", cctx, []), strings(c, "passed", cctx))
            if not all("NAME" in f for f in carried.aliases + carried.passed):
                raise KrefactorError(f"{where}: {cctx}each of 'aliases' and 'passed' "
                                     "needs NAME, the name that holds the object")
        ends = []
        for e in field(raw, "ends", list, ctx, []):
            if not (isinstance(e, dict) and isinstance(e.get("test"), str)
                    and isinstance(e.get("end"), str) and e["test"] and e["end"]):
                raise KrefactorError(f"{where}: {ctx}each of 'ends' needs a 'test' and an "
                                     "'end' function name")
            ends.append((e["test"], e["end"]))
        handoff = HandOff(field(raw, "description", str, ctx),
                          strings(raw, "initializers", ctx, []), tuple(callbacks),
                          field(raw, "start", str, ctx, ""),
                          texts("runtime", "site kinds to what review says of them"),
                          strings(raw, "starts", ctx, []),
                          field(raw, "started", str, ctx, "it"), carried,
                          texts("coverage", "hand-off site kinds to what coverage says "
                                "of them"), tuple(ends))
    flags = []
    for i, raw in enumerate(field(data, "flags", list, "", []), 1):
        ctx = f"flags {i}: "
        if not isinstance(raw, dict):
            raise KrefactorError(f"{where}: {ctx}must be a table ([[flags]])")
        near = field(raw, "near", str, ctx, "")
        try:
            re.compile(near)
        except re.error as e:
            raise KrefactorError(f"{where}: {ctx}field 'near' is not a regexp: {e}") from e
        exported = field(raw, "exported", bool, ctx, False)
        if bool(near) == exported:
            raise KrefactorError(f"{where}: {ctx}give 'near' or 'exported = true', one of them")
        flags.append(Flag(strings(raw, "removed", ctx), field(raw, "message", str, ctx),
                          near, exported))
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
        first=strings(data, "first", "", []),
        symbols=strings(data, "symbols", "", []),
        steps=tuple(steps),
        directory=directory,
        boot=boot,
        handoff=handoff,
        flags=tuple(flags),
        excludes=tuple(excludes),
    )
