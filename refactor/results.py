"""Test results kept per commit, for the mails.

compile-test and boot-test record what they found for each commit they
tested, keyed by the commit's sha (and, for builds, the config; for boots,
the workload): `<git dir>/krefactor/results/<kind>/<sha>.json`, the latest
run winning. `series --output` then puts a short "Testing" section in the
cover letter, built from the records of exactly the commits it sends: a
commit rebuilt (another sha) has no record, so a stale result is never
shown as this series' own.
"""
from __future__ import annotations

import json
import re
import textwrap
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from . import safety
from .status import Outcome, Verdict
from .tree import Sha, Tree

WIDTH = 72
T = TypeVar("T")


def _dir(tree: Tree, kind: str) -> Path:
    return safety.state_dir(tree.git_dir) / "results" / kind


def _load(tree: Tree, kind: str, sha: str) -> dict[str, Any]:
    try:
        data = json.loads((_dir(tree, kind) / f"{sha}.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Compiled:
    """compile-test's record of one commit under one config."""
    status: Verdict
    changed: int                # added code lines in .c files
    not_compiled: int
    when: str


@dataclass(frozen=True)
class Booted:
    """boot-test's record of one workload at one commit."""
    status: Outcome
    carried: bool               # not run here: an earlier commit's result
    same_kernel: bool           # the same kernel bytes as an earlier commit's
    accel: str
    when: str


def _typed(tree: Tree, kind: str, sha: str,
           make: Callable[[dict[str, Any]], T]) -> dict[str, T]:
    """The `kind` records of `sha`, each made typed by `make`; an entry that
    does not read is left out."""
    out = {}
    for key, e in _load(tree, kind, sha).items():
        try:
            out[key] = make(e)
        except (KeyError, TypeError, ValueError):
            continue
    return out


def compiled(tree: Tree, sha: str) -> dict[str, Compiled]:
    """{config: record} of `sha`."""
    return _typed(tree, "compile", sha, lambda e: Compiled(
        Verdict(e["status"]), int(e["changed"]), int(e["not_compiled"]),
        str(e.get("when", ""))))


def booted(tree: Tree, sha: str) -> dict[str, Booted]:
    """{workload: record} of `sha`."""
    return _typed(tree, "boot", sha, lambda e: Booted(
        Outcome(e["status"]), bool(e["carried"]), bool(e["same_kernel"]),
        str(e.get("accel", "")), str(e.get("when", ""))))


def _update(tree: Tree, kind: str, sha: str, entries: dict[str, Any]) -> None:
    d = _dir(tree, kind)
    d.mkdir(parents=True, exist_ok=True)
    data = {**_load(tree, kind, sha), **entries}
    tmp = d / f"{sha}.json.new"
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(d / f"{sha}.json")


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def record_build(tree: Tree, result: Any) -> None:
    """compile-test's verdict per commit (a buildrec.BuildResult), under its config."""
    for c in result.commits:
        _update(tree, "compile", c.sha, {result.config: asdict(Compiled(
            c.status, c.changed_lines, len(c.not_compiled), now()))})


def record_commit_boot(tree: Tree, c: Any, accel: str) -> None:
    """boot-test's verdicts at one commit (a bootrec.CommitBoot) per workload, as
    soon as it is tested (boot.run's `tested`): an interrupted --each keeps
    the records of the commits it finished. A workload not run at the
    commit, its result carried from an earlier one, is kept as carried."""
    entries = {}
    for w in c.workloads:
        if w.status == Outcome.NOT_RUN:
            continue
        entries[w.name] = asdict(Booted(w.status, w.carried_from is not None,
                                        c.same_kernel_as is not None, accel, now()))
    if entries:
        _update(tree, "boot", c.sha, entries)


def testing(tree: Tree, base: Sha, tip: Sha) -> str:
    """The cover letter's Testing section for base..tip, from the records of
    exactly these commits; empty when none was tested."""
    shas = [str(sha) for sha, _ in tree.log(base, tip)]
    lines = build_lines(tree, shas) + boot_lines(tree, base, shas)
    if not lines:
        return ""
    return "\n".join([f"Testing (krefactor, on these {len(shas)} commits):", *lines])


def bullet(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent="- ", subsequent_indent="  ",
                         break_on_hyphens=False, break_long_words=False)


def build_lines(tree: Tree, shas: list[str]) -> list[str]:
    per = [compiled(tree, s) for s in shas]
    configs = sorted({cfg for p in per for cfg in p})
    out = []
    for cfg in configs:
        got = [p[cfg] for p in per if cfg in p]
        built = sum(1 for g in got if g.status == Verdict.PASS)
        changed = sum(g.changed for g in got)
        missing = sum(g.not_compiled for g in got)
        text = f"compile-test, {cfg}: {built} of {len(shas)} commits build"
        if len(got) < len(shas):
            text += f" ({len(shas) - len(got)} not compile-tested)"
        if changed:
            text += (f"; {changed - missing} of {changed} changed lines compiled "
                     f"({100 * (changed - missing) / changed:.1f}%)")
        failed = [i for i, p in enumerate(per, 1) if cfg in p and p[cfg].status != Verdict.PASS]
        if failed:
            text += "; fails at " + ", ".join(f"{i}/{len(shas)}" for i in failed)
        out += bullet(text + ".")
    return out


def boot_lines(tree: Tree, base: str, shas: list[str]) -> list[str]:
    per = [booted(tree, s) for s in shas]
    names = sorted({w for p in per for w in p})
    if not names:
        return []
    accel = sorted({e.accel.upper() for p in per for e in p.values() if e.accel})
    at_base = booted(tree, base)
    ran = sum(1 for p in per if any(not e.carried and not e.same_kernel for e in p.values()))
    out = bullet(f"boot-test (QEMU {'/'.join(accel) or '?'}, x86_64): the base"
                 f"{' and' if ran else ''} {ran} of {len(shas)} commits booted, "
                 f"{len(names)} workload{'' if len(names) == 1 else 's'}; a commit not "
                 "booted has the results of the one before it (the same kernel, or "
                 "changes no workload executes, by gcov).")
    every, failing, partial = [], [], []
    for n in names:
        got = [(i, p[n]) for i, p in enumerate(per, 1) if n in p]
        bad = [i for i, e in got if e.status != Outcome.PASS]
        if bad:
            failing.append(f"{n} at {', '.join(f'{i}/{len(shas)}' for i in bad)}"
                           + (" (also at the base)" if n in at_base
                              and at_base[n].status != Outcome.PASS else ""))
        elif len(got) == len(shas):
            every.append(n)
        else:
            partial.append(f"{n} ({len(got)} of {len(shas)})")
    if every:
        out += bullet("PASS at every commit: " + ", ".join(every) + ".")
    if partial:
        out += bullet("PASS where run, not at every commit: " + ", ".join(partial) + ".")
    if failing:
        out += bullet("FAIL: " + "; ".join(failing) + ".")
    return out


def note(tree: Tree, sha: str) -> str:
    """One line for below a patch's `---`: this commit's own records, or "" if none."""
    parts = []
    for cfg, g in sorted(compiled(tree, sha).items()):
        text = f"builds on {cfg}" if g.status == Verdict.PASS else f"FAILS to build on {cfg}"
        if g.changed:
            text += f" ({g.changed - g.not_compiled}/{g.changed} changed lines compiled)"
        parts.append(text)
    boots = booted(tree, sha)
    if boots:
        bad = sorted(n for n, e in boots.items() if e.status != Outcome.PASS)
        ran = any(not e.carried and not e.same_kernel for e in boots.values())
        text = (f"{len(boots) - len(bad)}/{len(boots)} boot workloads PASS"
                + ("" if ran else " (carried from an earlier commit)"))
        parts.append(text + (f", FAIL: {', '.join(bad)}" if bad else ""))
    return f"krefactor: {'; '.join(parts)}" if parts else ""


def add_notes(tree: Tree, paths: list[Path]) -> None:
    """Put each patch's note (see note) below its `---` line, as git notes would be."""
    for p in paths:
        if re.match(r"^(v\d+-)?0000-", p.name):
            continue
        text = p.read_text()
        m = re.match(r"From ([0-9a-f]{40}) ", text)
        if not m or "\n---\n" not in text:
            continue
        line = note(tree, m.group(1))
        if line:
            p.write_text(text.replace("\n---\n", f"\n---\n{line}\n\n", 1))


# One character per commit in the matrix: how its kept record came about.
CELLS = {
    "P": "booted here and passed",
    "F": "booted here and failed",
    "=": "the same kernel bytes as an earlier commit's: its result",
    ".": "not run: the commit changes only code this workload did not enter at the "
         "tip (gcov); the result before it",
    "f": "a failure taken from an earlier commit (same kernel, or not reached)",
    "-": "no record",
}


def cell(e: Booted | None) -> str:
    if e is None:
        return "-"
    if e.status != Outcome.PASS:
        return "f" if e.carried or e.same_kernel else "F"
    return "=" if e.same_kernel else "." if e.carried else "P"


def matrix(tree: Tree, base: Sha, tip: Sha) -> dict[str, Any]:
    """The kept records of base and every commit of base..tip, one row per
    compile-test config and per boot workload, one cell per commit (the base
    first): what `krefactor results` shows. The records may come from
    several runs (each keeps the newest per workload)."""
    commits = [(str(base), "(base)")] + [(str(s), m.splitlines()[0] if m else "")
                                         for s, m in tree.log(base, tip)]
    boots = [booted(tree, s) for s, _ in commits]
    builds = [compiled(tree, s) for s, _ in commits]
    rows = []
    for cfg in sorted({c for b in builds for c in b}):
        rows.append({"kind": "compile", "name": cfg, "cells": [
            "-" if cfg not in b else "P" if b[cfg].status == Verdict.PASS else "F"
            for b in builds]})
    for name in sorted({w for b in boots for w in b}):
        rows.append({"kind": "boot", "name": name, "cells": [cell(b.get(name)) for b in boots]})
    return {"base": str(base), "tip": str(tip),
            "commits": [{"index": i, "sha": s, "subject": subj}
                        for i, (s, subj) in enumerate(commits)],
            "rows": rows, "legend": CELLS}


def matrix_text(m: dict[str, Any]) -> str:
    """The matrix as text: rows of one character per commit, in groups of ten
    after the base's, then the legend and the commits by number."""
    n = len(m["commits"]) - 1
    if not m["rows"]:
        return (f"no compile-test or boot-test records for {m['base'][:12]}..{m['tip'][:12]} "
                f"({n} commits): run them first")

    def groups(cells: list[str]) -> str:
        return " ".join("".join(cells[i:i + 10]) for i in range(0, len(cells), 10))

    label = [f"compile {r['name']}" if r["kind"] == "compile" else r["name"] for r in m["rows"]]
    width = max(len(s) for s in [*label, "workload"])
    heads = [f"{i + 1}-{min(i + 10, n)}".ljust(min(10, n - i)) for i in range(0, n, 10)]
    lines = [f"Kept results for {m['base'][:12]}..{m['tip'][:12]} ({n} commits), "
             "the newest per cell:", "",
             f"{'':{width}}  base  {' '.join(heads)}".rstrip()]
    for lab, r in zip(label, m["rows"]):
        cells = r["cells"]
        here = sum(1 for c in cells[1:] if c != "-")
        bad = sum(1 for c in cells[1:] if c in "Ff")
        tail = f"{here}/{n}" + (f", {bad} failed" if bad else "")
        lines.append(f"{lab:{width}}  {cells[0]:4}  {groups(cells[1:])}  {tail}")
    lines += ["", *(f"  {k}  {v}" for k, v in m["legend"].items()), ""]
    lines += [f"{c['index']:4}  {c['sha'][:12]}  {c['subject']}" for c in m["commits"][1:]]
    return "\n".join(lines)
