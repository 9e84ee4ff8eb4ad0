"""Text and JSON renderings of a series result."""
from __future__ import annotations

import json
import textwrap
from collections import Counter
from dataclasses import asdict

from .bootrec import Area, BootResult
from .buildrec import BuildResult
from .cocci import site_fn
from .coverage import CoverageResult
from .gcov import GcovResult
from .reroll import Reroll
from .review import INHERITED, ReviewResult
from .series import SeriesResult
from .status import Disposition, Outcome, Verdict


def to_json(r: BuildResult | BootResult | ReviewResult | CoverageResult) -> str:
    """A stage's result as the JSON that `--json FILE` writes."""
    data = asdict(r)
    if isinstance(r, BuildResult):
        # Lines and sources as "file:line" and "file: why", as always.
        for c, d in zip(r.commits, data["commits"]):
            d["not_compiled"] = [str(m) for m in c.not_compiled]
            d["not_built"] = [str(u) for u in c.not_built]
    if isinstance(r, CoverageResult):
        data.update(counts=dict(r.counts), accounted=r.accounted)
    return json.dumps(data, indent=2)


def series_text(r: SeriesResult) -> str:
    lines = []
    if r.nothing_to_do:
        return f"nothing to do: {r.nothing_to_do}"
    files = {f for c in r.commits for f in c.files}
    lines.append(f"{r.recipe} on Linux {r.version} ({r.base[:12]}): "
                 f"{len(r.commits)} commits, {len(files)} files")
    for i, c in enumerate(r.commits, 1):
        lines.append(f"  {i:2}/{len(r.commits)} {c.sha[:12]} {c.subject}")
    if r.skipped:
        lines.append("skipped steps:")
        lines += [f"  {s.step}: {s.reason}" for s in r.skipped]
    verdicts = Counter(s.verdict for s in r.sites)
    reported = ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items()))
    lines.append(f"sites changed: {r.hunks} hunks" +
                 (f"; sites the semantic patches reported: {reported}" if reported else ""))
    if r.left:
        lines.append("left as they are:")
        lines += [f"  {s.file}:{s.line}{site_fn(s)}: {s.reason}" for s in r.left]
    if r.problems:
        lines.append("need review (spatch could not process):")
        lines += [f"  {p}" for p in r.problems]
    old = r.old_tip[:12] if r.old_tip else "(new)"
    lines.append(f"branch {r.branch}: {old} -> {r.tip[:12] if r.tip else '?'}")
    if r.old_tip:
        lines.append(f"undo: git update-ref refs/heads/{r.branch} {r.old_tip}")
    else:
        lines.append(f"undo: git branch -D {r.branch}")
    return "\n".join(lines)


def series_json(r: SeriesResult, rr: Reroll | None = None) -> str:
    data = asdict(r)
    if rr is not None:
        data["reroll"] = {"version": rr.number, "previous": asdict(rr.previous),
                          "base_moved": rr.base_moved, "changes": rr.changes,
                          "commits": rr.counterparts}
    return json.dumps(data, indent=2, default=str)


def reroll_text(rr: Reroll) -> str:
    lines = [f"v{rr.number} against v{rr.previous.number} ({rr.previous.branch}, "
             f"{rr.previous.base[:12]}..{rr.previous.tip[:12]}):"]
    if rr.base_moved:
        lines.append(f"note: the base moved: v{rr.previous.number} was made on "
                     f"{rr.previous.base[:12]}; tell reviewers the tree moved")
    lines.append(f"Changes in v{rr.number}:")
    lines += [f"- {c}" for c in rr.changes] or ["- (none)"]
    return "\n".join(lines)


def build_text(r: BuildResult) -> str:
    lines = [f"compile-test {r.base[:12]}..{r.tip[:12]} on {r.config}"]
    if r.enabled:
        lines.append("enabled: " + " ".join(s.removeprefix("CONFIG_") for s in r.enabled))
    if r.disabled:
        lines.append("disabled: " + " ".join(s.removeprefix("CONFIG_") for s in r.disabled)
                     + " (new warnings are reported, not turned into errors)")
    for u in r.unmet:
        lines.append(f"could not enable {u}")
    for i, c in enumerate(r.commits, 1):
        lines.append(f"{i:2}/{len(r.commits)} {c.status.upper():4} {c.sha[:12]} {c.subject}")
        shared = (f", built in the tree of commit {', '.join(map(str, c.built_at))} "
                  "(same input)") if c.built_at else ""
        lines.append(f"       {len(c.objects)} objects, {c.seconds}s{shared}")
        if c.failed_objects:
            lines.append(f"       failed: {' '.join(c.failed_objects)}")
        lines += [f"       {e}" for e in c.errors]
        lines += [f"       new warning: {w}" for w in c.new_warnings]
        lines += [f"       NOT COMPILED: {n}" for n in c.not_compiled]
        lines += [f"         {f}: {why}" for f, why in c.why_not.items()]
        lines += [f"       not built: {n}" for n in c.not_built]
    verdict = "FAIL" if r.failed else "PASS"
    share = f" ({100 * (r.changed - r.uncompiled) / r.changed:.1f}% compiled)" if r.changed else ""
    lines.append(f"{verdict}: {len(r.commits) - len(r.failed)}/{len(r.commits)} commits build, "
                 f"{r.uncompiled} of {r.changed} changed lines not compiled{share}")
    return "\n".join(lines)


def _wrapped(label: str, items: list[str], width: int = 80) -> list[str]:
    if not items:
        return []
    return textwrap.wrap(", ".join(items), width=width, initial_indent=f"  {label:<12}",
                         subsequent_indent=" " * 14, break_on_hyphens=False)


def review_text(r: ReviewResult) -> str:
    lines = []
    for i, c in enumerate(r.commits, 1):
        lines.append(textwrap.shorten(f"[{i}/{len(r.commits)}] {c.sha[:12]} {c.subject}", 80))
        for f, (add, rem) in c.diffstat.items():
            lines.append(f"  {f:<60.60} +{add} -{rem}")
        lines += _wrapped("subsystems:", c.subsystems)
        lines += _wrapped("To:", c.to)
        lines += _wrapped("Cc:", c.cc)
        lines.append(f"  checkpatch: {c.checkpatch_summary or 'no summary'}")
        lines += [textwrap.shorten(f"    {f}", 80) for f in c.checkpatch]
        for flag in c.flags:
            lines += textwrap.wrap(flag, 80, initial_indent="  RISK: ",
                                   subsequent_indent="        ")
        lines.append("")
    if any(f.startswith(INHERITED) for c in r.commits for f in c.checkpatch):
        lines.append(f"checkpatch --strict; {INHERITED.strip()}: the lines the commit "
                     "replaces have it too")
    lines += summary_table(r)
    lines.append(f"series: {len(r.commits)} commits")
    lines += _wrapped("To:", r.to)
    lines += _wrapped("Cc:", r.cc)
    return "\n".join(lines)


def summary_table(r: ReviewResult) -> list[str]:
    """One row per subsystem (subject prefix): patches, To, Cc, checkpatch."""
    rows: dict[str, list] = {}
    for c in r.commits:
        prefix = c.subject.rsplit(": ", 1)[0] if ": " in c.subject else "(none)"
        row = rows.setdefault(prefix, [0, [], [], []])
        row[0] += 1
        row[1] += [a for a in c.to if a not in row[1]]
        row[2] += [a for a in c.cc if a not in row[2]]
        row[3].append(c.checkpatch_summary or "?")
    if not rows:
        return []
    out = [f"{'subsystem':<20} {'n':>3}  {'To':<18} {'Cc':<18} checkpatch"]
    for prefix, (n, to, cc, checks) in rows.items():
        clean = sum(ch == "clean" for ch in checks)
        unrun = sum(ch.startswith("checkpatch.pl not") for ch in checks)
        status = "clean" if clean == n else "not run" if unrun == n else \
            f"{n - clean - unrun}/{n} findings"
        first = lambda xs: (xs[0] + (f" +{len(xs) - 1}" if len(xs) > 1 else "")) if xs else "-"
        out.append(f"{prefix[:20]:<20} {n:>3}  {first(to)[:18]:<18} {first(cc)[:18]:<18} "
                   f"{status[:16]}")
    return out + [""]


def coverage_text(r: CoverageResult) -> str:
    lines = []
    for s in r.sites:
        where = f"{s.file}:{s.line}"
        fn = f" {s.function}()" if s.function else ""
        lines.append(f"{s.disposition:<12} {where}{fn} [{s.kind} {s.symbol}]")
        detail = "; ".join(x for x in (s.commit, s.reason) if x)
        if detail:
            lines.append(f"{'':12} {detail}")
    lines.append("")
    if r.parse_failures:
        lines.append("spatch could not parse:")
        lines += [f"  {p}" for p in r.parse_failures]
    counts = r.counts
    lines.append(f"{len(r.sites)} sites: " + ", ".join(
        f"{counts[d]} {d}" for d in Disposition
        if counts[d] or d not in (Disposition.PREPARED, Disposition.UNAFFECTED,
                                  Disposition.EXCLUDED)) +
        f"; {r.accounted:.0%} accounted for")
    lines.append(f"also mentioned: {r.comments} times in comments, "
                 f"{r.documentation} in Documentation/")
    return "\n".join(lines)


def bar(label: str, done: int, total: int, columns: int = 80) -> str:
    """`[#####.....] 5/10 label`, cut to fit `columns`."""
    width = 20
    filled = width * done // total if total else width
    text = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}"
    return text[:max(columns - 1, 10)]


def boot_text(r: BootResult) -> str:
    modes = {"ends": "base and tip", "each": "every commit", "bisect": "base, tip and bisect",
             "gcov": "gcov at the tip only"}
    lines = [f"boot-test {r.base[:12]}..{r.tip[:12]} ({r.commit_count} commits): "
             f"{modes.get(r.mode, r.mode)}, QEMU {r.accel.upper()} ({r.accel_note})",
             f"config: tinyconfig + {len(r.config)} options: "
             + " ".join(s.removeprefix("CONFIG_") for s in r.config)]
    for u in r.unmet:
        lines.append(f"could not enable {u}")
    for c in sorted(r.commits, key=lambda c: c.index):
        name = "base" if c.index == 0 else f"{c.index}/{r.commit_count}"
        timing = f"build {c.build_seconds:.0f}s, {c.boots} boot(s) {c.boot_seconds:.0f}s"
        if c.same_kernel_as is not None:
            timing = (f"build {c.build_seconds:.0f}s, same kernel as "
                      f"{'base' if c.same_kernel_as == 0 else c.same_kernel_as}: its results")
        if c.boot_to_first_workload is not None:
            timing += f", first workload at {c.boot_to_first_workload:.1f}s"
        lines.append(f"{name:>6} {c.sha[:12]} {c.subject}  [{c.status}; {timing}]")
        if c.error:
            lines.append(f"         {c.error}")
        if c.status == Verdict.FAIL and c.logs:
            lines.append(f"         console logs: {c.logs}")
        decoded_in: dict[str, str] = {}
        carried = [w for w in c.workloads if w.carried_from is not None]
        if carried:
            why = next((n for n in carried[0].why if n.startswith("note: not run: ")), "")
            at = ", ".join(sorted({"base" if w.carried_from == 0 else str(w.carried_from)
                                   for w in carried}))
            lines += textwrap.wrap(f"not run, results as at {at}: " + ", ".join(
                w.name + (f" {w.status}" if w.status != Outcome.PASS else "") for w in carried),
                80, initial_indent=" " * 9, subsequent_indent=" " * 11,
                break_on_hyphens=False)
            if why:
                lines += textwrap.wrap(why.removeprefix("note: not run: "), 78,
                                       initial_indent="           ",
                                       subsequent_indent="           ")
        for w in c.workloads:
            if w.carried_from is not None:
                continue
            proof = " ".join(f"{k} +{v}" for k, v in w.proof.items())
            status = w.status + (" (also at base)" if w.also_at_base else "")
            took = f"{w.seconds:5.1f}s " if w.seconds else ""
            lines.append(f"         {w.name:<12} {status:<8} {took}{proof}")
            for why in w.why:
                lines.append(f"           {why}")
            if w.status == Outcome.FAIL and w.decoded:
                if w.signature.split(":", 1)[-1] in decoded_in:
                    lines.append(f"           decoded: as for "
                                 f"{decoded_in[w.signature.split(':', 1)[-1]]}")
                    continue
                decoded_in[w.signature.split(":", 1)[-1]] = w.name
                lines.append("           decoded:")
                lines += [f"             {d}" for d in w.decoded[:12]]
    if r.first_bad:
        fb = r.first_bad
        lines.append(f"first bad commit: {fb.index}/{r.commit_count} {fb.sha[:12]} "
                     f"{fb.subject}")
        lines += [f"  {f}" for f in fb.failures]
        if fb.or_before:
            lines.append("  or one of " + ", ".join(f"{i}/{r.commit_count}"
                                                    for i in fb.or_before)
                         + ", which fail in another way and say nothing of this failure")
    elif r.bisect_note:
        lines.append(r.bisect_note)
    for s in r.skipped:
        lines.append(f"skipped by bisect: {s.index}/{r.commit_count} {s.sha[:12]} "
                     f"{s.subject}: fails in another way")
        lines += [f"  {f}" for f in s.failures]
    if r.gcov is not None:
        lines += gcov_lines(r.gcov)
    lines += area_lines(r)
    if r.mode == "gcov":
        # No base was booted: a failure here cannot be told from one the base has.
        failed = sorted(w for w, status in (r.gcov.workloads if r.gcov else {}).items()
                        if status != Outcome.PASS)
        lines.append("gcov only: no pass/fail verdict on the range (the base was not booted)"
                     + (f"; failed on the gcov kernel: {', '.join(failed)}" if failed else ""))
    else:
        lines.append("FAIL: the range brings a failure" if r.failed else
                     "PASS: the range brings no failure")
    return "\n".join(lines)


def built_but_not_run(a: Area) -> str:
    """Why a built directory shows no executed line: none of its lines with
    code ran, or the range gave it none to run."""
    if a.code:
        return f"; none of its {a.code} changed code lines executed"
    if not a.changed:
        return "; the range only deletes lines here: none added to execute"
    return "; no code generated for its changed lines"


def area_lines(r: BootResult) -> list[str]:
    """What the range changes, by directory: run here, or why not."""
    if not r.areas:
        return []
    width = max(len(a.path) for a in r.areas)
    lines = ["changed directories:"]
    for a in r.areas:
        if a.ran_by:
            what = "ran by " + ", ".join(f"{w} ({n} lines)" for w, n in
                                         sorted(a.ran_by.items(), key=lambda x: -x[1]))
        elif a.reason:
            what = f"cannot run here: {a.reason}"
        elif a.built:
            what = "built in the boot kernel" + (built_but_not_run(a) if r.gcov else "")
        elif not a.sources:
            what = "no .c file: its changes are built where they are included"
        else:
            what = "not built in the boot kernel, and the recipe gives no reason: a gap"
        lines.append(f"  {a.path:<{width}}  {what}")
    return lines


def gcov_lines(g: GcovResult) -> list[str]:
    """The changed lines executed at the tip, per file."""
    if g.error and not g.files:
        return [f"gcov: {g.error}"]
    share = f" ({100 * g.executed // g.code}%)" if g.code else ""
    ran = ", ".join(f"{n} {s}" for n, s in g.workloads.items())
    lines = [f"gcov at the tip {g.sha[:12]}: {g.executed} of {g.code} changed code lines "
             f"executed{share}, in {g.boots} boot(s) (build {g.build_seconds:.0f}s, "
             f"boot {g.boot_seconds:.0f}s)",
             f"  workloads: {ran}"]
    if g.error:
        lines.append(f"  {g.error}")
    width = max((len(f.path) for f in g.files), default=10)
    for f in g.files:
        if not f.code:
            lines.append(f"  {f.path:<{width}}     -  {f.why}")
            continue
        by = ", ".join(f"{w} {n}" for w, n in sorted(f.ran_by.items(), key=lambda x: -x[1]))
        lines.append(f"  {f.path:<{width}} {f.share:>5}" + (f"  ran by: {by}" if by else ""))
        if f.not_executed:
            shown = ", ".join(str(n) for n in f.not_executed[:10])
            more = f" and {len(f.not_executed) - 10} more" if len(f.not_executed) > 10 else ""
            lines.append(f"  {'':<{width}}        not executed: lines {shown}{more}")
    return lines


def adhoc_coverage_text(found: list) -> str:
    lines = []
    for c in found:
        if c.mode is None:
            lines.append(f"{c.script}: no report or context mode, so nothing lists what it "
                         "still matches")
            continue
        lines.append(f"{c.script} at {c.tip[:12]} (-D {c.mode}, {c.files} files): "
                     f"{len(c.matches)} place(s) still match")
        lines += [f"  {m.file}:{m.line}: {m.message}" for m in c.matches]
    return "\n".join(lines)


def adhoc_coverage_json(found: list) -> str:
    return json.dumps([c.to_dict() for c in found], indent=2) + "\n"
