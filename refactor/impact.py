"""Which objects a commit needs: the .c files it touched, the in-tree users
of what a touched header changed, and the lines it added."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from unidiff import PatchSet

from . import ctext, kbuild
from .objects import read_makefile
from .tree import Sha, Tree
from .workspace import Workspace


def changed_symbols(old_text: str, new_text: str, removed: list[int], added: list[int]) -> set[str]:
    """What a header change can break in its users.

    The declarations the changed lines belong to (in the old text for removed
    lines, the new one for added lines), and the macros built on them: a
    caller of an inline function whose body changed compiles the same, one of
    a changed prototype or macro may not. A changed line outside any named
    declaration falls back to the functions it names.
    """
    syms: set[str] = set()
    for text, numbers in ((old_text, removed), (new_text, added)):
        decls = ctext.header_decls(text)
        lines = text.splitlines()
        for n in numbers:
            name = ctext.enclosing(decls, n)
            if name:
                syms.add(name)
            elif n <= len(lines) and lines[n - 1].strip() and \
                    not lines[n - 1].lstrip().startswith(("#", "/*", "*", "//")):
                syms |= {m for m in ctext.IDENT_CALL.findall(lines[n - 1])
                         if m not in ctext.NOT_SYMBOLS}
    macros = [m for text in (old_text, new_text)
              for m in re.finditer(r"^#\s*define\s+([A-Za-z_]\w*)\(.*$",
                                   re.sub(r"\\\n", " ", text), re.M)]
    grown = True
    while grown:
        before = len(syms)
        syms |= {m.group(1) for m in macros
                 if any(re.search(rf"\b{re.escape(s)}\b", m.group(0)) for s in syms)}
        grown = len(syms) > before
    return syms


@dataclass(frozen=True)
class Plan:
    """What one commit needs built."""
    sha: Sha
    parent: Sha
    subject: str
    objects: tuple[str, ...]          # .c sources
    touched_c: tuple[str, ...]
    added_lines: dict[str, list[int]]
    fallback: tuple[str, ...] = ()    # direct includers of a header nothing else covers
    touched: tuple[str, ...] = ()     # every file the commit changed
    texts: dict[str, str] = field(default_factory=dict)   # touched .c files at the commit


@dataclass
class Draft:
    """One commit's diff, read before the users of its header changes are known."""
    sha: Sha
    parent: Sha
    subject: str
    touched_c: list[str]
    added: dict[str, list[int]]
    headers: list[str]
    symbols: set[str]
    touched: list[str] = field(default_factory=list)


def plan_range(tree: Tree, commits: list[tuple[Sha, str]]) -> list[Plan]:
    """What each commit needs built.

    The users of every commit's changed declarations come from one grep at
    the tip: a file the range does not touch mentions a symbol at every
    commit or at none, and the files it touches are read at each commit.
    """
    drafts, touched = [], set()
    for sha, msg in commits:
        parent = tree.rev(f"{sha}^")
        assert parent is not None
        diff = tree.git("diff", "-U0", "--no-renames", parent, sha).decode(errors="replace")
        d = Draft(sha, parent, msg.splitlines()[0], [], {}, [], set())
        for f in PatchSet(diff):
            touched.add(f.path)
            d.touched.append(f.path)
            if f.path.endswith(".c") and not f.is_removed_file:
                d.touched_c.append(f.path)
                d.added[f.path] = [l.target_line_no for h in f for l in h
                                   if l.is_added and l.target_line_no is not None]
            elif f.path.endswith(".h"):
                d.headers.append(f.path)
                d.symbols |= header_symbols(tree, parent, sha, f)
        drafts.append(d)
    words = tuple(sorted(set().union(*(d.symbols for d in drafts))))
    at_tip = tree.grep_words(commits[-1][0], words, (".",), globs=("*.c",)) if words else {}
    touched_c = sorted(t for t in touched if t.endswith(".c"))
    plans = []
    for d in drafts:
        here = {c: data.decode(errors="replace")
                for c, data in tree.read(d.sha, touched_c, missing_ok=True).items()}
        objects = {f for s in d.symbols for f in at_tip[s] if f not in touched}
        if d.symbols and touched_c:
            mentions = re.compile(r"\b(" + "|".join(map(re.escape, sorted(d.symbols))) + r")\b")
            before = {c: data.decode(errors="replace")
                      for c, data in tree.read(d.parent, touched_c, missing_ok=True).items()}
            objects |= {c for texts in (before, here) for c, text in texts.items()
                        if mentions.search(text)}
        objects |= set(d.touched_c)
        # A sample the commit changed is built when its options can be set
        # (samples/v4l); samples are not searched as users of a header.
        objects = {o for o in objects if buildable(o)
                   or o.startswith("samples/") and o in d.touched_c}
        # When nothing uses what changed (a new declaration, or one whose last
        # user an earlier commit removed), files that include the header
        # directly still prove that it compiles: run() picks two the config builds.
        fallback = [f for h in d.headers for f in includers(tree, d.sha, h)] \
            if not objects else []
        plans.append(Plan(d.sha, d.parent, d.subject, tuple(sorted(objects)),
                          tuple(d.touched_c), d.added, tuple(fallback), tuple(d.touched),
                          {c: here[c] for c in d.touched_c}))
    return plans


def header_symbols(tree: Tree, parent: Sha, sha: Sha, f) -> set[str]:
    """The declarations a header change touched (see changed_symbols)."""
    path = f.path
    texts = [tree.read(rev, [path], missing_ok=True).get(path, b"").decode(errors="replace")
             for rev in (parent, sha)]
    removed = [l.source_line_no for h in f for l in h if l.is_removed]
    added = [l.target_line_no for h in f for l in h if l.is_added]
    return changed_symbols(texts[0], texts[1], removed, added)


CORE = ("mm/", "kernel/", "lib/", "fs/", "init/")


def includers(tree: Tree, sha: Sha, header: str) -> list[str]:
    """Buildable .c files that include `header` directly, top-level core files first."""
    name = header.split("include/", 1)[1] if header.startswith("include/") \
        else header.rsplit("/", 1)[-1]
    found = tree.grep(sha, (rf'#\s*include\s*[<"]{re.escape(name)}[>"]',), (".",),
                      globs=("*.c",), raw=True)
    return sorted((f for f in found if buildable(f)),
                  key=lambda f: (not (f.startswith(CORE) and f.count("/") == 1), f))


def buildable(path: str, arch: str = "x86") -> bool:
    """Whether a .c file can be part of this architecture's kernel build."""
    top = path.split("/", 1)[0]
    if top == "arch":
        return path.startswith(f"arch/{arch}/")
    return top not in ("tools", "scripts", "samples", "Documentation", "usr")


def with_includers(plan: Plan, ws: Workspace, have: dict[str, str],
                   gates: dict[str, frozenset[str]]) -> Plan:
    """`plan` plus two of its fallback includers that this config builds
    (found in `gates`, which gains their gating symbols)."""
    if not plan.fallback:
        return plan
    chosen: list[str] = []
    for src in plan.fallback:
        if src not in gates:
            symbols, notes = kbuild.gating_symbols(src, lambda d: read_makefile(ws.src, d))
            if notes:                 # no Makefile rule builds it (kernel/bounds.c)
                continue
            gates[src] = symbols
        if all(s in have for s in gates[src]):
            chosen.append(src)
            if len(chosen) == 2:
                break
    return replace(plan, objects=tuple(sorted(set(plan.objects) | set(chosen))))
