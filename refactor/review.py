"""Review a range like a maintainer: who gets each patch, what checkpatch says,
and what in the diff deserves a second look.

Risk flags are read from the diff with whole-function context (`git show -W`),
so a flag can look at the function around a change, not only at its lines.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from unidiff import PatchSet

from . import ctext, maintainers, proc, reach, safety
from .recipe import Flag, Recipe
from .tree import Sha, Tree

CHECKPATCH_FILES = ("scripts/checkpatch.pl", "scripts/spelling.txt",
                    "scripts/const_structs.checkpatch")


@dataclass
class CommitReview:
    sha: str
    subject: str
    files: list[str] = field(default_factory=list)
    diffstat: dict[str, tuple[int, int]] = field(default_factory=dict)
    subsystems: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    checkpatch: list[str] = field(default_factory=list)
    checkpatch_summary: str = ""
    flags: list[str] = field(default_factory=list)


@dataclass
class ReviewResult:
    base: str
    tip: str
    commits: list[CommitReview] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)


def risk_flags(diff_text: str, risks: tuple[Flag, ...] = ()) -> list[str]:
    """Flags from a diff with whole-function context (`git show -W`): those
    of any change, and the recipe's own `risks`."""
    flags: list[str] = []
    for f in PatchSet(diff_text):
        for hunk in f:
            for func, lines in functions(hunk):
                flags += function_flags(f"{f.path}: {func + '()' if func else 'file scope'}",
                                        lines, risks)
    return flags


def function_flags(where: str, lines, risks: tuple[Flag, ...] = ()) -> list[str]:
    flags = []
    removed = [l.value.rstrip("\n") for l in lines if l.is_removed]
    added = [l.value.rstrip("\n") for l in lines if l.is_added]
    body = "".join(l.value for l in lines if not l.is_removed)
    kept = {a.strip() for a in added}
    for r in removed:
        if ctext.ASSERT.search(r) and r.strip() not in kept:
            flags.append(f"{where}: assertion removed: {r.strip()}")
    names_removed = {m.group(1) for r in removed if (m := ctext.SIGNATURE.match(r))}
    for a in added:
        m = ctext.SIGNATURE.match(a)
        if m and m.group(1) in names_removed:
            flags.append(f"{where}: signature of {m.group(1)}() changed")

    values = [l.value for l in lines]
    at = next((i for i, v in enumerate(values) if ctext.FUNC_HEAD.match(v)), None)
    head = " ".join(values[max(0, at - 1):at + 1]) if at is not None else ""
    # A head whose type sits on a line outside the hunk tells nothing.
    exported = bool(head and re.match(r"^[\w\s\*]+\s[\*]*\w+\s*\(", head)
                    and "static" not in head.split("(")[0])
    def calls(ls: list[str], call: re.Pattern[str]) -> int:
        return sum(1 for l in ls if l[:1].isspace() and call.search(l))

    for risk in risks:
        if calls(removed, risk.call) <= calls(added, risk.call):
            continue
        if (risk.near and re.search(risk.near, body)) or (risk.exported and exported):
            flags.append(f"{where}: {risk.message}")
    return flags


def functions(hunk) -> list[tuple[str, list]]:
    """Split a hunk's lines at function heads: [(name, lines)]."""
    m = ctext.FUNC_HEAD.match(hunk.section_header or "")
    parts: list[tuple[str, list]] = [(m.group(1) if m else "", [])]
    removed_at: dict[str, int] = {}        # name -> its part, for heads removed
    current = 0
    for line in hunk:
        # Heads of removed functions and prototypes start parts too, so that a
        # change is named by the declaration it is in, not by the function the
        # hunk header names; the new form of a removed head joins its part.
        head = ctext.FUNC_HEAD.match(line.value) or ctext.PROTO.match(line.value)
        if head:
            name = head.group(1)
            if line.is_added and name in removed_at:
                current = removed_at[name]
            else:
                parts.append((name, []))
                current = len(parts) - 1
                if line.is_removed:
                    removed_at[name] = current
        parts[current][1].append(line)
    return [(n, ls) for n, ls in parts if ls]


def parse_checkpatch(output: str) -> tuple[list[str], str]:
    """Findings of `checkpatch.pl --terse` (`-:LINE: KIND:TYPE: message`) and a count."""
    findings = [l.strip() for l in output.splitlines()
                if re.match(r"^\S*:\d+: (ERROR|WARNING|CHECK):", l.strip())]
    return findings, summarize(findings)


def summarize(findings: list[str]) -> str:
    counts = {k: sum(f": {k}:" in f for f in findings) for k in ("ERROR", "WARNING", "CHECK")}
    summary = ", ".join(f"{n} {k.lower()}s" for k, n in counts.items()) if findings else "clean"
    inherited = sum(f.startswith(INHERITED) for f in findings)
    if inherited:
        summary += f" ({inherited} inherited)"
    return summary


# A finding the commit kept: the lines it replaces have it too.
INHERITED = "(inherited) "


def _key(finding: str) -> str:
    """A finding without its place in the patch: `KIND:TYPE: message`."""
    return finding.removeprefix(INHERITED).split(": ", 1)[-1]


def mark_inherited(findings: list[str], old: list[str]) -> list[str]:
    """Mark the findings the change carried over rather than made: checkpatch
    says the same (kind, type and message) of the lines the commit removed,
    as often. A semantic patch keeps the original's spacing and names on the
    lines it rewrites, so `XNMLN+1` or a long line stays as it was; the
    maintainer can see it in the `-` line above the `+` line."""
    left: dict[str, int] = {}
    for f in old:
        left[_key(f)] = left.get(_key(f), 0) + 1
    out = []
    for f in findings:
        if left.get(_key(f), 0) > 0:
            left[_key(f)] -= 1
            f = INHERITED + f
        out.append(f)
    return out


def checkpatch(tree: Tree, commit: Sha, patch: bytes) -> tuple[list[str], str]:
    """Run the tree's own scripts/checkpatch.pl --strict, as of `commit`, on
    one patch, and on the same diff reversed (the removed lines as added) to
    tell the findings the commit made from those it kept."""
    with safety.scratch(tree.git_dir, "checkpatch") as tmp:
        present = tree.read(commit, list(CHECKPATCH_FILES), missing_ok=True)
        if "scripts/checkpatch.pl" not in present:
            return [], "checkpatch.pl not in tree"
        for path, data in present.items():
            dest = Path(tmp, path)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)

        def run(text: bytes, *extra: str) -> list[str]:
            res = proc.run(["perl", str(Path(tmp, "scripts/checkpatch.pl")), "--no-tree",
                            "--terse", "--show-types", "--no-color", "--strict", *extra, "-"],
                           input=text, check=False)
            return parse_checkpatch(res.stdout.decode(errors="replace"))[0]

        findings = run(patch)
        if findings:
            reverse = tree.git("diff", "--no-renames", f"{commit}", f"{commit}^")
            findings = mark_inherited(findings, run(reverse, "--no-signoff"))
        return findings, summarize(findings)


def function_context_diff(tree: Tree, sha: Sha) -> str:
    """`git show -W` with git's C function-name rules, so that a label such as
    `alloc_new:` is not taken for the start of a function."""
    with safety.scratch(tree.git_dir, "attr") as tmp:
        attrs = Path(tmp, "attributes")
        attrs.write_text("*.c diff=cpp\n*.h diff=cpp\n")
        return tree.git("-c", f"core.attributesFile={attrs}", "show", "-W", "--format=",
                        "--no-renames", sha).decode(errors="replace")


def runtime_flags(tree: Tree, base: Sha, commits: list[Sha], recipe: Recipe, *, jobs: int,
                  timeout: float, progress=lambda m: None) -> dict[Sha, list[str]]:
    """Flags that the diff cannot show: at the first commit that adds an
    indented call to the recipe's [handoff] start, run the recipe's reach =
    "any" step on that commit's tree without keeping its changes. Each change
    it would still make is a place that breaks at run time from that commit
    on (writeback-void: an assertion that writeback is not set, or a way out
    without I/O that leaves it set); [handoff.runtime] says what of each kind.
    Checked once, there: later commits may take away what the step looks for
    (writeback-void removes the filesystems' own starts)."""
    h = recipe.handoff
    step = next((s for s in recipe.steps if s.reach), None)
    if h is None or not h.start or step is None:
        return {}
    first = reach.first_start(tree, commits, recipe)
    if first is None:
        return {}
    progress(f"runtime check at {first[:12]}: {step.name} on its tree")
    files = reach.step_files(tree, first, recipe, step)
    reaching = reach.run_reaching(tree, first, recipe, step, files, jobs=jobs,
                                   timeout=timeout, progress=progress, evidence_at=base)
    flags = []
    for r in reaching.results:
        for site in r.sites:
            where = f"{site.file}:{site.line} {site.function}()"
            if site.verdict == "left" and (site.file, site.function) in reaching.reached:
                # Left by the prepare step, and reached from this commit on.
                said = h.says(h.runtime, "left", "{handoff} reaches it, and this exit was left")
                flags.append(f"runtime: NEEDS REVIEW: {where}: {said}: {site.reason}")
            elif site.verdict == "changed":
                said = h.says(h.runtime, site.kind, f"{step.name} would change it on this "
                              f"commit's tree: {site.reason}")
                flags.append(f"runtime: {where}: {said}")
        if r.error:
            flags.append(f"runtime: not checked: {r.error}")
    return {first: flags}


def run(*, tree: Tree, base: Sha, tip: Sha, recipe: Recipe | None = None, jobs: int = 1,
        timeout: float = 120, progress=lambda m: None) -> ReviewResult:
    proc.require("perl", "install perl to run checkpatch.pl")
    result = ReviewResult(base, tip)
    sections = maintainers.sections_at(tree, tip)
    log = tree.log(base, tip)
    runtime = runtime_flags(tree, base, [sha for sha, _ in log], recipe, jobs=jobs, timeout=timeout,
                            progress=progress) if recipe is not None else {}
    for i, (sha, msg) in enumerate(log, 1):
        subject = msg.splitlines()[0]
        progress(f"[{i}] {sha[:12]} {subject}")
        cr = CommitReview(sha, subject)
        diff = tree.git("show", "--format=", "--no-renames", sha).decode(errors="replace")
        for f in PatchSet(diff):
            cr.files.append(f.path)
            cr.diffstat[f.path] = (f.added, f.removed)
        rec = maintainers.recipients(sections, cr.files)
        cr.subsystems, cr.to, cr.cc = list(rec.subsystems), list(rec.to), list(rec.cc)
        cr.flags = risk_flags(function_context_diff(tree, sha),
                              recipe.flags if recipe else ()) + runtime.get(sha, [])
        for a in cr.to:
            if a not in result.to:
                result.to.append(a)
        for a in cr.cc:
            if a not in result.cc:
                result.cc.append(a)
        result.commits.append(cr)
    # checkpatch.pl is most of the time on a long series: one per core.
    started = time.monotonic()

    def check(cr: CommitReview) -> None:
        patch = tree.git("format-patch", "-1", "--stdout", cr.sha)
        cr.checkpatch, cr.checkpatch_summary = checkpatch(tree, Sha(cr.sha), patch)

    proc.pmap(check, result.commits, jobs)
    progress(f"checkpatch: {len(result.commits)} patches in {time.monotonic() - started:.1f}s "
             f"({jobs} at a time)")
    return result
