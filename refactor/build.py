"""Compile-test every commit of a range with targeted Kbuild builds.

One exported source tree and one out-of-tree build directory per kernel
tree, kept in the git directory (krefactor/build/) and moved from commit to
commit by rewriting only the files that differ, so make rebuilds only what
changed and the user's checkout is never used. Per commit it builds the
objects of the touched .c files and of the in-tree users of the declarations
a touched header changes; an object that warns is built at the parent too
(warnings are compared like for like; the previous commit's build is that
parent build when it has one), and the preprocessor's line markers prove that
every added .c line was compiled.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from unidiff import PatchSet

from . import kbuild, proc
from .errors import KrefactorError
from .tree import Sha, Tree

IDENT_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
KEYWORDS = {"if", "while", "for", "switch", "return", "sizeof", "defined", "__attribute__",
            "typeof", "static", "inline", "void", "bool", "int", "struct"}


@dataclass
class CommitBuild:
    """The compile-test of one commit."""
    sha: str
    subject: str
    status: str = "pass"                       # "pass" or "fail"
    objects: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    new_warnings: list[str] = field(default_factory=list)
    not_compiled: list[str] = field(default_factory=list)   # "file:line"
    not_built: list[str] = field(default_factory=list)      # "obj: reason"
    failed_objects: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class BuildResult:
    base: str
    tip: str
    config: str
    enabled: list[str] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    commits: list[CommitBuild] = field(default_factory=list)

    @property
    def failed(self) -> list[CommitBuild]:
        return [c for c in self.commits if c.status != "pass"]

    @property
    def uncompiled(self) -> int:
        return sum(len(c.not_compiled) for c in self.commits)

    def to_json(self) -> str:
        from dataclasses import asdict
        return json.dumps(asdict(self), indent=2)


class Workspace:
    """The exported source and the build directory, moved from commit to commit."""

    def __init__(self, tree: Tree, jobs: int, cc: str | None):
        self.tree = tree
        self.root = tree.git_dir / "krefactor" / "build"
        self.src = self.root / "src"
        self.out = self.root / "out"
        self.state = self.root / "src-commit"
        self.jobs = jobs
        self.cc = cc

    def at(self) -> Sha | None:
        return Sha(self.state.read_text().strip()) if self.state.exists() else None

    def sync(self, commit: Sha) -> None:
        current = self.at()
        if current == commit:
            return
        if current is None or not self.src.is_dir():
            shutil.rmtree(self.src, ignore_errors=True)
            self.src.mkdir(parents=True)
            proc.pipe(["git", "-C", str(self.tree.path), "archive", commit],
                      ["tar", "-x", "-C", str(self.src)])
        else:
            out = self.tree.git("diff", "--name-status", "--no-renames", "-z", current, commit)
            fields = out.decode().split("\0")
            changed, deleted = [], []
            for status, path in zip(fields[0::2], fields[1::2]):
                (deleted if status == "D" else changed).append(path)
            for path in deleted:
                (self.src / path).unlink(missing_ok=True)
            for path, data in self.tree.read(commit, changed).items():
                dest = self.src / path
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
        self.state.write_text(commit + "\n")

    def make(self, *targets: str, keep_going: bool = True, timeout: float | None = None,
             on_line: Callable[[str], None] | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run make on `targets`; with `on_line`, stream Kbuild's per-object
        lines (output grouped per target) instead of running silently."""
        self.out.mkdir(parents=True, exist_ok=True)
        cmd = ["make", "-C", str(self.src), f"O={self.out}", f"-j{self.jobs}"]
        cmd.append("--output-sync=target" if on_line else "-s")
        if keep_going:
            cmd.append("-k")
        if self.cc:
            cmd.append(f"CC={self.cc}")
        env = {}
        if self.cc and "ccache" in self.cc and "CCACHE_DIR" not in os.environ:
            env["CCACHE_DIR"] = str(self.root / "ccache")
        if on_line:
            return proc.stream(cmd + list(targets), on_line, env=env)
        return proc.run(cmd + list(targets), env=env, check=False, timeout=timeout)


def default_cc() -> str | None:
    return "ccache gcc" if shutil.which("ccache") else None


def configure(ws: Workspace, base_config: str, needed: set[str],
              progress: Callable[[str], None]) -> tuple[list[str], list[str]]:
    """Make a .config from `base_config` with every needed symbol; return enabled, unmet."""
    config = ws.out / ".config"
    if base_config == "defconfig":
        res = ws.make("defconfig", keep_going=False)
    else:
        ws.out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base_config, config)
        res = ws.make("olddefconfig", keep_going=False)
    if res.returncode != 0:
        raise KrefactorError(f"make {base_config} failed: {proc.tail(res.stderr)}")
    have = kbuild.read_config(config.read_text())
    wanted = set(needed)
    enabled: set[str] = set()
    for _ in range(5):
        missing = sorted(s for s in wanted if s not in have)
        if not missing:
            break
        progress(f"config: enabling {', '.join(m.removeprefix('CONFIG_') for m in missing)}")
        args = []
        for sym in missing:
            args += ["--enable", sym.removeprefix("CONFIG_")]
        proc.run([str(ws.src / "scripts" / "config"), "--file", str(config), *args])
        enabled |= set(missing)
        ws.make("olddefconfig", keep_going=False)
        have = kbuild.read_config(config.read_text())
        for sym in missing:
            if sym not in have:
                wanted |= {f"CONFIG_{d}" for d in kconfig_deps(ws, sym)}
    unmet = []
    for sym in sorted(needed):
        if sym not in have:
            deps = sorted(d for d in kconfig_deps(ws, sym) if f"CONFIG_{d}" not in have)
            unmet.append(f"{sym} (unmet: {', '.join(deps) or 'not user-selectable'})")
    return sorted(s for s in enabled if s in have), unmet


def kconfig_deps(ws: Workspace, sym: str) -> set[str]:
    name = sym.removeprefix("CONFIG_")
    res = proc.run(["git", "-C", str(ws.tree.path), "grep", "-l", "-E",
                    rf"^\s*(menu)?config\s+{name}\s*$", ws.at() or "HEAD", "--",
                    "*Kconfig*"], check=False)
    deps: set[str] = set()
    for line in res.stdout.decode().splitlines():
        path = line.split(":", 1)[1]
        text = (ws.src / path).read_text(errors="replace")
        deps |= kbuild.kconfig_depends(text, name)
        # `if MTD` ... `source "drivers/mtd/ubi/Kconfig"` ... `endif` in the parent.
        needle = f'source "{path}"'
        src = proc.run(["git", "-C", str(ws.tree.path), "grep", "-l", "-F", needle,
                        ws.at() or "HEAD", "--", "*Kconfig*"], check=False)
        for hit in src.stdout.decode().splitlines():
            parent = (ws.src / hit.split(":", 1)[1]).read_text(errors="replace")
            deps |= kbuild.enclosing_ifs(parent, lambda l: l.strip() == needle)
    return deps


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
        decls = kbuild.header_decls(text)
        lines = text.splitlines()
        for n in numbers:
            name = kbuild.enclosing(decls, n)
            if name:
                syms.add(name)
            elif n <= len(lines) and lines[n - 1].strip() and \
                    not lines[n - 1].lstrip().startswith(("#", "/*", "*", "//")):
                syms |= {m for m in IDENT_CALL.findall(lines[n - 1]) if m not in KEYWORDS}
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


def plan_commit(tree: Tree, sha: Sha, subject: str) -> Plan:
    parent = tree.rev(f"{sha}^")
    assert parent is not None
    diff = tree.git("diff", "-U0", "--no-renames", parent, sha).decode(errors="replace")
    patch = PatchSet(diff)
    touched_c, added, headers = [], {}, []
    objects: set[str] = set()
    for f in patch:
        path = f.path
        if path.endswith(".c") and not f.is_removed_file:
            touched_c.append(path)
            added[path] = [l.target_line_no for h in f for l in h if l.is_added]
        elif path.endswith(".h"):
            headers.append(path)
            objects |= header_users(tree, parent, sha, f)
    objects |= {c for c in touched_c if buildable(c)}
    # When nothing uses what changed (a new declaration, or one whose last
    # user an earlier commit removed), files that include the header directly
    # still prove that it compiles: run() picks two the config builds.
    fallback = [f for h in headers for f in includers(tree, sha, h)] if not objects else []
    return Plan(sha, parent, subject, tuple(sorted(objects)), tuple(touched_c), added,
                tuple(fallback))


def header_users(tree: Tree, parent: Sha, sha: Sha, f) -> set[str]:
    """The .c files that use the declarations a header change touched."""
    path = f.path
    texts = [tree.read(rev, [path])[path].decode(errors="replace")
             if tree.exists(rev, path) else "" for rev in (parent, sha)]
    removed = [l.source_line_no for h in f for l in h if l.is_removed]
    added = [l.target_line_no for h in f for l in h if l.is_added]
    syms = changed_symbols(texts[0], texts[1], removed, added)
    users: set[str] = set()
    if syms:
        for rev in (parent, sha):
            users |= set(tree.grep(rev, tuple(sorted(syms)), (".",), globs=("*.c",)))
    return {u for u in users if buildable(u)}


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


def run(*, tree: Tree, base: Sha, tip: Sha, config: str = "defconfig", jobs: int = 2,
        cc: str | None = None, progress: Callable[[str], None] = lambda m: None,
        status: Callable[[str, int, int], None] = lambda m, done, total: None) -> BuildResult:
    """Compile-test each commit of base..tip.

    `progress` hears a line per stage and commit, `status` a transient one per
    object (for a progress bar)."""
    for tool in ("make", "gcc"):
        proc.require(tool, "install the kernel build tools (scripts/setup.sh)")
    if config != "defconfig" and not Path(config).is_file():
        raise KrefactorError(f"--config {config}: no such file (give defconfig or a .config)")
    commits = tree.log(base, tip)
    if not commits:
        raise KrefactorError(f"{base[:12]}..{tip[:12]} holds no commits")
    ws = Workspace(tree, jobs, cc if cc is not None else default_cc())
    plans = [plan_commit(tree, sha, msg.splitlines()[0]) for sha, msg in commits]
    ws.sync(tip)
    gates: dict[str, frozenset[str]] = {}
    for obj in sorted({o for p in plans for o in p.objects}):
        gates[obj] = kbuild.gating_symbols(obj, lambda d: read_makefile(ws.src, d))[0]
    result = BuildResult(base, tip, config)
    progress(f"config: {config} plus the options of {len(gates)} source files")
    result.enabled, result.unmet = configure(ws, config, set().union(*gates.values()), progress)
    have = kbuild.read_config((ws.out / ".config").read_text())
    plans = [with_includers(p, ws, have, gates) for p in plans]
    prev_sha: str | None = None
    prev_ok: set[str] = set()
    prev_warnings: set[tuple[str, str]] = set()
    for i, plan in enumerate(plans, 1):
        started = time.monotonic()
        cb = CommitBuild(plan.sha, plan.subject)
        objs = []
        for src in plan.objects:
            missing = sorted(s for s in gates.get(src, ()) if s not in have)
            if missing:
                cb.not_built.append(f"{src}: {', '.join(missing)} not set")
            else:
                objs.append(src[:-2] + ".o")
        cb.objects = objs
        head = f"[{i}/{len(plans)}] {plan.sha[:12]} {plan.subject}"
        progress(f"{head}: {len(objs)} objects")
        ws.sync(plan.sha)
        after = build(ws, objs + [c[:-2] + ".i" for c in plan.touched_c if c[:-2] + ".o" in objs],
                      lambda done, total, obj: status(f"{head}: {obj}", done, total))
        # Warnings are compared with the parent's, object for object, so
        # only objects that warn here are built there too, unless the previous
        # commit (this one's parent) already built them.
        known = prev_ok if prev_sha == plan.parent else set()
        warned = after.warned if after.warned is not None else set(objs)
        again = [o for o in objs if o in warned and o not in known]
        old = prev_warnings if known else set()
        if again:
            ws.sync(plan.parent)
            before = build(ws, again, lambda done, total, obj:
                           status(f"{head}: parent {obj}", done, total))
            old |= {(d.file, d.message) for d in before.diags if d.kind == "warning"}
            ws.sync(plan.sha)
        errors = [d for d in after.diags if d.kind == "error"]
        prev_sha, prev_warnings = plan.sha, {(d.file, d.message) for d in after.diags
                                             if d.kind == "warning"}
        prev_ok = set() if after.rc else set(objs)
        cb.errors = sorted({str(d) for d in errors}) or ([after.tail] if after.rc else [])
        cb.failed_objects = after.failed
        cb.new_warnings = sorted({str(d) for d in after.diags
                                  if d.kind == "warning" and (d.file, d.message) not in old})
        for src, lines in plan.added_lines.items():
            ifile = ws.out / (src[:-2] + ".i")
            kept = kbuild.compiled_lines(ifile.read_text(errors="replace"), src) \
                if ifile.exists() and src[:-2] + ".o" in objs else set()
            code = kbuild.code_lines((ws.src / src).read_text(errors="replace"))
            cb.not_compiled += [f"{src}:{n}" for n in lines if n in code and n not in kept]
        cb.status = "fail" if cb.errors else "pass"
        cb.seconds = round(time.monotonic() - started, 1)
        result.commits.append(cb)
        progress(f"      {cb.status}, {cb.seconds}s" + (f", parent built {len(again)}" if again else "")
                 + (f": {cb.errors[0]}" if cb.errors else ""))
    return result


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


@dataclass(frozen=True)
class MakeRun:
    rc: int
    diags: list[kbuild.Diagnostic]
    tail: str
    failed: list[str] = field(default_factory=list)
    warned: set[str] | None = None


def build(ws: Workspace, targets: list[str],
          tick: Callable[[int, int, str], None] = lambda done, total, obj: None) -> MakeRun:
    """Build `targets` from scratch; `tick` hears each one as make reaches it."""
    if not targets:
        return MakeRun(0, [], "", [], set())
    for t in targets:
        (ws.out / t).unlink(missing_ok=True)
    wanted, seen = set(targets), set()

    def on_line(line: str) -> None:
        obj = kbuild.echoed_target(line)
        if obj in wanted and obj not in seen:
            seen.add(obj)
            tick(len(seen), len(wanted), obj)

    res = ws.make(*targets, on_line=on_line)
    text = res.stdout.decode(errors="replace")
    diags = kbuild.diagnostics(text, str(ws.src))
    return MakeRun(res.returncode, diags, proc.tail(res.stdout), kbuild.failed_objects(text),
                   kbuild.warned_objects(text))


def read_makefile(src: Path, directory: str) -> str | None:
    d = src if directory == "." else src / directory
    for name in ("Kbuild", "Makefile"):
        f = d / name
        if f.is_file():
            text = f.read_text(errors="replace")
            if directory == "." and name == "Kbuild" and (d / "Makefile").is_file():
                text += "\n" + (d / "Makefile").read_text(errors="replace")
            return text
    return None
