"""Kbuild and Kconfig knowledge, as pure parsers from text to data.

- Which CONFIG symbols gate a source file: its object's `obj-$(CONFIG_X)` or
  `comp-$(CONFIG_Y)` lines, composite objects and `$(var)` lists, and the
  same for each directory up to the top (`obj-$(CONFIG_AFS_FS) += afs/`).
  A file can need an option of its own below its filesystem's
  (`f2fs-$(CONFIG_F2FS_FS_COMPRESSION) += compress.o`).
- What a Kconfig symbol plainly depends on (`depends on A && B`).
- What the compiler said (`file:line:col: error: msg`).
- Which source lines the preprocessor kept (line markers of a `.i` file):
  JMake's point that a green build may never have compiled a changed line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

ASSIGN = re.compile(r"^\s*([A-Za-z0-9_.$()/-]+?)\s*(?::=|\+=|=)\s*(.*)$")
CONFIG_LHS = re.compile(r"^(.*)-\$\((CONFIG_[A-Za-z0-9_]+)\)$")


def assignments(makefile: str) -> list[tuple[str, list[str]]]:
    """(lhs, rhs tokens) for each assignment, continuation lines joined."""
    text = re.sub(r"\\\n", " ", makefile)
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        m = ASSIGN.match(line)
        if m:
            out.append((m.group(1), m.group(2).split()))
    return out


@dataclass(frozen=True)
class Gate:
    """The symbols one Makefile requires for a token; None when it never names it."""
    symbols: frozenset[str]


def gate_in_makefile(makefile: str, token: str) -> Gate | None:
    """CONFIG symbols this Makefile requires for `token` (an object or `dir/`)."""
    assigns = assignments(makefile)
    seen: set[str] = set()

    def walk(tok: str) -> set[str] | None:
        if tok in seen:
            return None
        seen.add(tok)
        found: set[str] | None = None
        for lhs, rhs in assigns:
            if tok not in rhs:
                continue
            syms: set[str] | None
            m = CONFIG_LHS.match(lhs)
            head, cond = (m.group(1), {m.group(2)}) if m else (lhs.rsplit("-", 1)[0], set())
            if head in ("obj", "lib"):
                syms = cond
            elif lhs.endswith(("-y", "-objs")) or m:
                # A composite object or a list: follow it to where it is used.
                up = walk(f"{head}.o")
                via_var = walk(f"$({lhs})")
                paths = [s for s in (up, via_var) if s is not None]
                syms = (cond | min(paths, key=len)) if paths else None
            else:
                syms = None
            if syms is not None and (found is None or len(syms) < len(found)):
                found = syms
        return found

    result = walk(token)
    return None if result is None else Gate(frozenset(result))


def gating_symbols(path: str, read) -> tuple[frozenset[str], list[str]]:
    """Symbols gating `path` (a .c file), reading Makefiles with `read(dir) -> text | None`.

    Returns the symbols and notes on the directories where no rule named the file.
    """
    p = PurePosixPath(path)
    token = p.with_suffix(".o").name
    directory = p.parent
    symbols: set[str] = set()
    notes: list[str] = []
    while True:
        text = read(str(directory)) if str(directory) != "." else read(".")
        gate = gate_in_makefile(text, token) if text is not None else None
        if gate is not None:
            symbols |= gate.symbols
            if str(directory) == ".":
                break
            token = directory.name + "/"
            directory = directory.parent
            continue
        if str(directory) == ".":
            notes.append(f"no Makefile rule names {token}")
            break
        # Objects in a subdirectory listed by the parent's Makefile (gem/x.o).
        token = f"{directory.name}/{token}"
        directory = directory.parent
    return frozenset(symbols), notes


KCONFIG_START = re.compile(r"^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$")
KCONFIG_END = re.compile(r"^\s*(?:(?:menu)?config|menu|endmenu|choice|endchoice|if|endif|"
                         r"source|comment)\b")
SYMBOL = re.compile(r"^[A-Z0-9_]+$")


def kconfig_depends(kconfig: str, symbol: str) -> set[str]:
    """Symbols that `symbol`'s definitions plainly require (conjuncts without ! or ||)."""
    needs: set[str] = set()
    inside = False
    for line in kconfig.splitlines():
        m = KCONFIG_START.match(line)
        if m:
            inside = m.group(1) == symbol
            continue
        if inside and KCONFIG_END.match(line):
            inside = False
        if inside:
            d = re.match(r"^\s*depends on\s+(.*)$", line)
            if d:
                for conj in d.group(1).split("&&"):
                    conj = conj.strip().strip("()").strip()
                    if SYMBOL.match(conj) and conj not in ("MODULES",):
                        needs.add(conj)
    return needs | enclosing_ifs(kconfig, lambda l: bool(
        (m := KCONFIG_START.match(l)) and m.group(1) == symbol))


def enclosing_ifs(kconfig: str, line_matches) -> set[str]:
    """Plain symbols of the `if SYM` blocks around the first line that matches."""
    stack: list[set[str]] = []
    for line in kconfig.splitlines():
        if line_matches(line):
            return set().union(*stack) if stack else set()
        m = re.match(r"^\s*if\s+(.*?)\s*(#.*)?$", line)
        if m:
            conj = {c.strip().strip("()").strip() for c in m.group(1).split("&&")}
            stack.append({c for c in conj if SYMBOL.match(c)})
        elif re.match(r"^\s*endif\b", line) and stack:
            stack.pop()
    return set()


SOURCE = re.compile(r'^\s*o?source\s+"([^"]+)"')


class KconfigIndex:
    """Where each symbol is defined, and which file sources which: enough to
    find what a symbol plainly depends on, including the `if` blocks around
    the `source` line of its file (UBIFS_FS needs MTD that way)."""

    def __init__(self, files: dict[str, str]):
        self.files = files
        self.defined: dict[str, list[str]] = {}
        self.sourced_by: dict[str, list[str]] = {}
        for path, text in files.items():
            for line in text.splitlines():
                m = KCONFIG_START.match(line)
                if m:
                    self.defined.setdefault(m.group(1), []).append(path)
                m = SOURCE.match(line)
                if m:
                    self.sourced_by.setdefault(m.group(1), []).append(path)

    def depends(self, symbol: str) -> set[str]:
        deps: set[str] = set()
        for path in self.defined.get(symbol, []):
            deps |= kconfig_depends(self.files[path], symbol)
            for parent in self.sourced_by.get(path, []):
                deps |= enclosing_ifs(self.files[parent], lambda l, p=path: bool(
                    (m := SOURCE.match(l)) and m.group(1) == p))
        return deps

    def homes(self, symbols: set[str]) -> set[str] | None:
        """The arch/ directories whose Kconfig can provide every architecture-only
        symbol that `symbols` plainly need (ARCH_QCOM: arm, arm64); None when
        none of them is architecture-only."""
        found: set[str] | None = None
        for sym in self.closure(symbols, set()):
            where = self.defined.get(sym, [])
            if where and all(p.startswith("arch/") for p in where):
                dirs = {p.split("/")[1] for p in where}
                found = dirs if found is None else found & dirs
        return found

    def closure(self, symbols: set[str], have: set[str]) -> set[str]:
        """`symbols` and, recursively, what they need that `have` lacks."""
        todo, seen = list(symbols), set(symbols)
        while todo:
            for dep in self.depends(todo.pop()):
                if dep not in have and dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen


def read_config(text: str) -> dict[str, str]:
    """`.config` text -> {"CONFIG_X": "y"|"m"|value}; unset symbols are absent."""
    values = {}
    for line in text.splitlines():
        m = re.match(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$", line)
        if m:
            values[m.group(1)] = m.group(2)
    return values


@dataclass(frozen=True, order=True)
class Diagnostic:
    file: str
    line: int
    kind: str        # "error" or "warning"
    message: str
    macro_at: str = ""   # "include/x.h:12" when the diagnostic points into a macro

    def __str__(self) -> str:
        where = f" (in macro at {self.macro_at})" if self.macro_at else ""
        return f"{self.file}:{self.line}: {self.kind}: {self.message}{where}"


DIAG = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?:\d+:)?\s*"
                  r"(?P<kind>error|warning|fatal error|note):\s*(?P<msg>.*)$")
FAILED_OBJECT = re.compile(r"\*\*\* \[[^\]]*?:\s*(\S+\.[oi])\] Error")


def diagnostics(output: str, srctree: str = "") -> list[Diagnostic]:
    """Compiler diagnostics, with paths made relative to the source tree.

    gcc reports an error inside a macro at the macro's definition and follows it
    with `note: in expansion of macro` at the use: the use is what broke, so the
    diagnostic is moved there and the definition kept as `macro_at`.
    """
    found: list[Diagnostic] = []
    prefix = srctree.rstrip("/") + "/" if srctree else ""

    def rel(path: str) -> str:
        if prefix and path.startswith(prefix):
            path = path[len(prefix):]
        while path.startswith("../"):
            path = path[3:]
        return path.removeprefix("./")

    for line in output.splitlines():
        m = DIAG.match(line.strip())
        if not m:
            continue
        file, number, msg = rel(m.group("file")), int(m.group("line")), m.group("msg").strip()
        if m.group("kind") == "note":
            if found and msg.startswith("in expansion of macro") and not file.endswith(".h"):
                last = found[-1]
                macro_at = last.macro_at or f"{last.file}:{last.line}"
                found[-1] = Diagnostic(file, number, last.kind, last.message, macro_at)
            continue
        kind = "error" if "error" in m.group("kind") else "warning"
        found.append(Diagnostic(file, number, kind, msg))
    return found


def failed_objects(output: str) -> list[str]:
    """Objects make reported as failed (`*** [...: fs/afs/write.o] Error 1`)."""
    return sorted({m.group(1) for m in FAILED_OBJECT.finditer(output)})


ECHO = re.compile(r"^\s+(?:CC|CC \[M\]|CPP)\s+(\S+\.[oi])\s*$")


def echoed_target(line: str) -> str | None:
    """The object of a Kbuild quiet-command line (`  CC [M]  fs/afs/write.o`)."""
    m = ECHO.match(line)
    return m.group(1) if m else None


def by_target(output: str) -> dict[str, str]:
    """`make -O` output split per object: each quiet-command line and what
    follows it, up to the next one. What comes before any is under ""."""
    blocks: dict[str, list[str]] = {"": []}
    current = ""
    for line in output.splitlines():
        target = echoed_target(line)
        if target:
            current = target
            blocks.setdefault(current, [])
        blocks[current].append(line)
    return {t: "\n".join(lines) for t, lines in blocks.items()}


MARKER = re.compile(r'^#\s*(\d+)\s+"([^"]*)"')


def compiled_lines(preprocessed: str, source: str) -> set[int]:
    """Lines of `source` that survive in a preprocessed (.i) file."""
    lines: set[int] = set()
    current, number = None, 0
    for text in preprocessed.splitlines():
        m = MARKER.match(text)
        if m:
            number, current = int(m.group(1)), m.group(2)
            continue
        if current is not None and (current == source or current.endswith("/" + source)):
            if text.strip():
                lines.add(number)
        number += 1
    return lines
