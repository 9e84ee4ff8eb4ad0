"""Account for every in-tree reference to a recipe's symbols and hand-off points.

The inventory comes from spatch (the recipe's inventory.cocci, in report
mode); a plain git grep cross-checks it, so a reference spatch did not see
(in a macro, #ifdef'd, in a function it could not parse) still shows up.
Each site then gets a disposition against the series: changed (and by
which commit), left (with the reason the series recorded), or NEEDS REVIEW.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field

from . import adhoc, callgraph, cocci, ctext, proc, reach, settled
from . import record as series_record
from .errors import KrefactorError
from .linetrack import LineTracker
from .recipe import HandOff, Recipe
from .status import Disposition
from .tree import Sha, Tree

REF_TAG = "krefactor-ref:"
OUTSIDE = "something_else"     # spatch's current_element outside any function
TRAP_KINDS = {"address-taken": "the function's address is taken or passed on",
              "macro-argument": "passed to a macro",
              "macro-body": "inside a macro definition",
              "macro-use": "a use of a macro whose body mentions it",
              "text-only": "spatch did not see it (macro, #ifdef'd or unparsed code)",
              "call-value-used": "its return value is used"}
NO_HANDOFF = HandOff("", (), ())  # a recipe without hand-offs: generic texts
DEFINING = {"definition", "declaration", "export", "api-macro"}


@dataclass(frozen=True)
class Ref:
    file: str
    line: int
    column: int
    kind: str
    function: str
    symbol: str


@dataclass
class Site:
    file: str
    line: int
    function: str
    symbol: str
    kind: str
    disposition: Disposition = Disposition.NEEDS_REVIEW
    commit: str = ""
    reason: str = ""


@dataclass
class CoverageResult:
    base: str
    tip: str
    sites: list[Site] = field(default_factory=list)
    comments: int = 0
    documentation: int = 0
    parse_failures: list[str] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(s.disposition for s in self.sites)

    @property
    def accounted(self) -> float:
        return 1.0 if not self.sites else \
            1 - self.counts[Disposition.NEEDS_REVIEW] / len(self.sites)


def parse_refs(text: str) -> list[Ref]:
    refs = []
    for line in text.splitlines():
        if line.startswith(REF_TAG):
            parts = line[len(REF_TAG):].split(":", 5)
            if len(parts) == 6:
                f, ln, col, kind, fn, sym = parts
                refs.append(Ref(f, int(ln), int(col), kind, fn, sym))
    return refs


def run(*, tree: Tree, recipe: Recipe, base: Sha, tip: Sha, jobs: int, timeout: float,
        progress=lambda m: None) -> CoverageResult:
    inventory = recipe.directory / "inventory.cocci"
    if not inventory.is_file():
        raise KrefactorError(f"recipe {recipe.name} has no inventory.cocci for coverage")
    result = CoverageResult(base, tip)
    syms = recipe.symbols
    handoffs = handoff_grep(recipe)
    files = sorted(set(tree.grep(base, syms, (".",))) |
                   (set(tree.grep(base, handoffs, (".",), fixed=True)) if handoffs else set()))
    excluded = excludes(recipe)
    files = [f for f in files if not f.startswith("Documentation/") and not under(f, excluded)]
    progress(f"inventory: {len(files)} files")
    texts = tree.read(base, files)
    results = cocci.run(inventory, texts, git_dir=tree.git_dir, jobs=jobs, timeout=timeout,
                        mode="report")
    refs = [r for fr in results for r in parse_refs(fr.stdout)]
    for fr in results:
        if fr.error:
            result.parse_failures.append(fr.error)
    result.parse_failures += cocci.unparsed(texts, git_dir=tree.git_dir, jobs=jobs)

    lines_of = {f: t.decode(errors="replace").splitlines() for f, t in texts.items()}
    macros_of = {f: ctext.macro_lines("\n".join(ls)) for f, ls in lines_of.items()}
    hits = grep_lines(tree, base, syms)
    result.documentation = sum(1 for f, _, _ in hits if f.startswith("Documentation/"))
    sites: list[Site] = []
    seen = set()
    for r in refs:
        seen.add((r.file, r.line))
        # spatch names no function outside one ("something_else"): name the
        # macro the line belongs to, or nothing.
        function = macros_of[r.file].get(r.line, "") if r.function == OUTSIDE else r.function
        sites.append(Site(r.file, r.line, function, r.symbol, refine(r, lines_of, macros_of, syms)))
    for f, n, text in hits:
        why = under(f, excluded)
        if why and not ctext.is_comment(text, syms[0]):
            sym = next((s for s in syms if re.search(rf"\b{s}\b", text)), syms[0])
            sites.append(Site(f, n, "", sym, "excluded", Disposition.EXCLUDED, "", why))
            continue
        if f.startswith("Documentation/") or (f, n) in seen or f not in lines_of:
            continue
        sym = next((s for s in syms if re.search(rf"\b{s}\b", text)), syms[0])
        if ctext.is_comment(text, sym):
            result.comments += 1
            continue
        macros = macros_of[f]
        kind = "api-macro" if macros.get(n) in syms else \
            "macro-body" if n in macros else "text-only"
        sites.append(Site(f, n, macros[n] if kind == "macro-body" else "", sym, kind))
        seen.add((f, n))
    sites += macro_uses(tree, base, sites, seen)

    commits = tree.log(base, tip)
    tracker = LineTracker(tree, commits, base)
    subjects: dict[str, str] = {sha: msg.splitlines()[0] for sha, msg in commits}
    record = series_record.load(tree, tip)
    left = {}
    for kept in record.left() if record else []:
        left[(kept.site.file, kept.site.line, kept.at)] = kept.site.reason
    core_commit = ""
    for site in sites:
        if site.kind == "handoff-core":
            _, _, core_commit = tracker.follow(site.file, site.line)
    callbacks = {(s.file, s.symbol) for s in sites if s.kind == "handoff-callback"}
    ifdefs = {f: ctext.ifdef_lines("\n".join(ls)) for f, ls in lines_of.items()}
    for site in sites:
        if site.kind == "excluded":
            continue
        dispose(site, tracker, left, record is not None, core_commit, callbacks,
                ifdefs.get(site.file, set()), syms, recipe.handoff or NO_HANDOFF)
        if site.kind == "text-only" and site.disposition == Disposition.NEEDS_REVIEW:
            macro = ctext.enclosing_macro_call(lines_of.get(site.file, []), site.line)
            if macro:
                site.reason = (f"inside the arguments of {macro}(), which spatch does not "
                               f"parse as code")
        if site.commit:
            site.commit = f"{site.commit[:12]} {subjects.get(site.commit, '')}"
    sites += implementations(tree, recipe, base, tracker, record, subjects,
                             recheck=lambda files: settled.left_at_start(
                                 tree, recipe, base, [sha for sha, _ in commits], files,
                                 jobs=jobs, timeout=timeout, progress=progress))
    result.sites = sorted(sites, key=lambda s: (s.file, s.line))
    return result


def implementations(tree: Tree, recipe: Recipe, base: Sha, tracker: LineTracker,
                    record: series_record.SeriesRecord | None,
                    subjects: dict[str, str],
                    recheck=lambda files: None) -> list[Site]:
    """Every hand-off implementation of the tree (a ->writepage method, a
    write_cache_pages() callback), with what the recipe's reach = "any" steps
    did to it: prepared (and by which commit), unaffected, or NEEDS REVIEW
    with the reason that step left in it. One whose left exits a later
    commit settled (the step, run again where the hand-offs start writeback,
    leaves none in it) is prepared by that commit."""
    steps = {s.name: s for s in recipe.steps if s.reach}
    if recipe.handoff is None or not steps:
        return []
    h = recipe.handoff
    graph = callgraph.CallGraph(tree, base, h)
    mine: dict[tuple[str, str], list[cocci.Site]] = {}
    for r in record.sites if record else []:
        if r.step in steps:
            mine.setdefault((r.site.file, r.site.function), []).append(r.site)
    names = ", ".join(sorted(steps))
    analysed = {f for files in (record.analysed if record else {}).values() for f in files}
    out, done = [], set()
    pending: list[tuple[Site, str, list[str]]] = []
    for where, name in sorted(graph.roots()):
        # A root is listed where it is defined: its initializer's file, or,
        # for a function exported to it (swap_writepage), wherever that is.
        f, fn = where, None
        for cand in [where] + graph.mentions(name):
            graph.text(cand)
            fn = next((x for x in graph.funcs[cand] if x.name == name), None)
            if fn is not None:
                f = cand
                break
        if fn is None or (f, name) in done:
            continue
        done.add((f, name))
        site = Site(f, fn.first, name, "", "handoff-impl")
        found = mine.get((f, name), [])
        left = [s for s in found if s.verdict == "left"]
        # A way out left in a helper of the same file that it calls is its own
        # (f2fs_write_data_page() -> f2fs_write_single_data_page()).
        # Only an exit after a call that may start writeback (kind after-call):
        # one left after a relock (__ext4_journalled_writepage()) had its
        # writeback ended at the first unlock, which the step prepared.
        calls = helpers(graph.text(f), graph.funcs[f], fn)
        inner = [(h, s) for h in calls for s in mine.get((f, h), []) if s.verdict == "left"
                 and s.kind == "after-call"]
        # And what the step changed in them (__f2fs_write_meta_page()).
        inner_changed = [(h, s) for h in calls for s in mine.get((f, h), [])
                         if s.verdict == "changed"]
        if record is None:
            site.reason = ("no current record of the series for this range (make it, "
                           "or its mails, again with krefactor series)")
        elif left or inner:
            site.reason = "; ".join(sorted({s.reason for s in left} |
                                           {f"in {h}(), which it calls: {s.reason}"
                                            for h, s in inner}))
            pending.append((site, f, [name] * bool(left) + sorted({h for h, _ in inner})))
        elif any(s.verdict == "changed" for s in found) or inner_changed:
            site.disposition = Disposition.PREPARED
            funcs = {x.name: x for x in graph.funcs[f]}
            spans = [fn] + [funcs[h] for h in sorted({h for h, _ in inner_changed})]
            sha = next((t for x in spans if (t := tracker.first_touch(f, x.first, x.last))), "")
            site.commit = f"{sha[:12]} {subjects.get(sha, '')}" if sha else ""
            site.reason = "; ".join(sorted({s.reason for s in found} |
                                           {f"in {h}(), which it calls: {s.reason}"
                                            for h, s in inner_changed}))
        elif f not in analysed:
            site.reason = f"{names} did not read {f}"
        else:
            site.disposition = Disposition.UNAFFECTED
            site.reason = f"{names} {h.says(h.coverage, 'unaffected', 'changed nothing in it')}"
        out.append(site)
    if pending:
        settled.settle(pending, recheck(sorted({f for _, f, _ in pending})), tracker, subjects)
    return out


def helpers(text: str, funcs: list[ctext.Function],
            root: ctext.Function) -> list[str]:
    """The functions of the same file that `root` calls, directly or through
    each other, in order of discovery."""
    lines = text.splitlines()
    by_name = {g.name: g for g in funcs}
    seen, todo = [root.name], [root]
    while todo:
        g = todo.pop(0)
        body = "\n".join(lines[g.first - 1:g.last])
        for called in dict.fromkeys(ctext.IDENT_CALL.findall(body)):
            if called in by_name and called not in seen:
                seen.append(called)
                todo.append(by_name[called])
    return seen[1:]


def excludes(recipe: Recipe) -> tuple[tuple[str, str], ...]:
    """The recipe's excluded paths with their reasons; tools/ always."""
    tools = ("tools", "userspace: tools/ is not the kernel and builds against its own headers")
    return recipe.excludes + ((tools,) if "tools" not in recipe.excluded_paths else ())


def under(path: str, excluded: tuple[tuple[str, str], ...]) -> str:
    """The reason `path` is excluded, or ""."""
    return next((why for p, why in excluded if path == p or path.startswith(p + "/")), "")


def handoff_grep(recipe: Recipe) -> tuple[str, ...]:
    """Fixed strings that find the files with the recipe's hand-off points: the
    calls through each method (`->writepage(`, `(*writepage)(`) and the
    functions taking callbacks (`write_cache_pages(`)."""
    h = recipe.handoff
    if h is None:
        return ()
    return tuple(p for f in h.initializers for p in (f"->{f}(", f"(*{f})(")) + \
        tuple(f"{fn}(" for fn, _ in h.callbacks)


def macro_uses(tree: Tree, base: Sha, sites: list[Site], seen: set) -> list[Site]:
    """Each use of a macro whose body mentions a symbol is a site of its own:
    `#define X(p) set_page_writeback(p)` then `X(page);` calls it there."""
    bodies = {s.function: s for s in sites if s.kind == "macro-body" and s.function}
    if not bodies:
        return []
    found = tree.grep_words(base, tuple(sorted(bodies)), (".",))
    files = sorted({f for fs in found.values() for f in fs
                    if not f.startswith(("Documentation/", "tools/"))})
    uses = []
    for f, data in tree.read(base, files).items():
        text = data.decode(errors="replace")
        funcs = ctext.functions(text)
        for n, line in enumerate(text.splitlines(), 1):
            if (f, n) in seen or re.match(r"\s*#\s*define\b", line):
                continue
            for name in bodies:
                if re.search(rf"\b{re.escape(name)}\s*\(", line):
                    fn = ctext.enclosing_function(funcs, n)
                    uses.append(Site(f, n, fn.name if fn else "", bodies[name].symbol,
                                     "macro-use"))
    return uses


def refine(r: Ref, lines_of: dict[str, list[str]], macros_of: dict[str, dict[int, str]],
           syms: tuple[str, ...]) -> str:
    text = lines_of[r.file][r.line - 1] if r.line - 1 < len(lines_of[r.file]) else ""
    if r.function == OUTSIDE:
        macros = macros_of[r.file]
        if r.line in macros:
            return "api-macro" if macros[r.line] in syms else "macro-body"
        if "EXPORT_SYMBOL" in text:
            return "export"
        return "macro-argument"
    return r.kind


def dispose(site: Site, tracker: LineTracker, left: dict, has_record: bool, core_commit: str,
            callbacks: set, ifdef: set[int], syms: tuple[str, ...],
            h: HandOff = NO_HANDOFF) -> None:
    _, changed, inserted = tracker.follow(site.file, site.line)
    trap = TRAP_KINDS.get(site.kind)
    if site.line in ifdef and site.kind not in DEFINING and site.function not in syms:
        trap = "in #ifdef'd code: may not be compiled, or compiled in another form"
    if trap and site.line in ifdef and changed and site.kind not in TRAP_KINDS:
        # spatch changes every branch of an #if: the change is made; whether
        # that branch was compiled is compile-test's to say.
        site.disposition, site.commit = Disposition.CHANGED, changed
        site.reason = "in #ifdef'd code: compile-test says whether it was compiled"
        return
    if trap and (site.kind != "call-value-used" or not changed):
        # For a used return value, the series' own reason, where it left the
        # site and said why, is the better one: it knows the API.
        site.disposition, site.commit = Disposition.NEEDS_REVIEW, changed
        site.reason = (site.kind == "call-value-used" and recorded(site, tracker, left)) or trap
        return
    # The hand-off references an inventory reports: the core function that
    # calls the callbacks (handoff-core), a call through the method
    # (handoff-call) and a function passed as a callback (handoff-callback).
    if site.kind == "handoff-core":
        site.disposition = Disposition.CHANGED if inserted else Disposition.NEEDS_REVIEW
        site.commit = inserted
        site.reason = (
            h.says(h.coverage, "core", "{start}() is called before the callback") if inserted
            else h.says(h.coverage, "core_missing", "no call to {start}() before the callback"))
        return
    if site.kind == "handoff-call":
        if inserted:
            site.disposition, site.commit = Disposition.CHANGED, inserted
            site.reason = h.says(h.coverage, "call", "{start}() is now called before this hand-off")
        elif (site.file, site.function) in callbacks:
            site.disposition = Disposition.LEFT
            site.reason = h.says(h.coverage, "call_in_callback", "inside {function}(), a callback",
                                 function=site.function)
        else:
            site.reason = "hand-off point the series does not cover"
        return
    if site.kind == "handoff-callback":
        if core_commit:
            site.disposition, site.commit = Disposition.CHANGED, core_commit
            site.reason = h.says(h.coverage, "callback", "its caller calls {start}() before it")
        else:
            site.reason = h.says(h.coverage, "callback_missing",
                                 "its caller does not call {start}() in this series")
        return
    if changed:
        site.disposition, site.commit = Disposition.CHANGED, changed
        return
    if site.function in syms:
        site.disposition, site.reason = Disposition.LEFT, "inside the API's own definition"
        return
    reason = recorded(site, tracker, left)
    if reason:
        site.disposition, site.reason = Disposition.LEFT, reason
        return
    if site.kind in DEFINING:
        site.disposition, site.reason = Disposition.LEFT, "defines the API"
        return
    site.reason = "no step changed it and the series recorded no reason" if has_record \
        else "no current record of the series for this range (make it with krefactor series)"


def recorded(site: Site, tracker: LineTracker, left: dict) -> str:
    """The reason the series recorded for leaving this site, or ""."""
    for (f, line, at), reason in left.items():
        if f == site.file and tracker.follow(site.file, site.line, until=at)[0] == line:
            return reason
    return ""


def grep_lines(tree: Tree, commit: Sha, syms: tuple[str, ...]) -> list[tuple[str, int, str]]:
    args = ["git", "-C", str(tree.path), "grep", "-n", "-w", "-E", "|".join(syms), commit,
            "--", "*.c", "*.h", "Documentation/"]
    out = proc.run(args, check=False).stdout.decode(errors="replace")
    hits = []
    for line in out.splitlines():
        _, path, n, text = line.split(":", 3)
        hits.append((path, int(n), text))
    return hits


@dataclass
class AdhocCoverage:
    """What a plain semantic patch still matches at the tip, per file given."""
    script: str
    mode: str | None             # report, context, or None: it has neither
    tip: str
    files: int = 0               # files it was run on (its grep query at the tip)
    matches: list[adhoc.Match] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def adhoc_run(*, tree: Tree, recipe: Recipe, files: list[adhoc.AdHoc], tip: Sha, jobs: int,
              progress=lambda m: None) -> list[AdhocCoverage]:
    """Run each `--cocci` file in its report mode (else context mode) on the
    files its grep query picks at the tip, and list what still matches."""
    found = []
    for f, step in zip(files, recipe.steps):
        mode = adhoc.check_mode(f)
        cov = AdhocCoverage(f.given, mode, tip)
        if mode is not None:
            names = reach.step_files(tree, tip, recipe, step)
            cov.files = len(names)
            progress(f"{f.given}: -D {mode} on {len(names)} files at {tip[:12]}")
            texts = tree.read(tip, names)
            out = cocci.report_dir(f.path, texts, git_dir=tree.git_dir,
                                   mode=mode, jobs=jobs, options=f.options,
                                   headers=reach.local_headers(tree, tip, texts, step))
            cov.matches = adhoc.parse_matches(mode, out)
        found.append(cov)
    return found
