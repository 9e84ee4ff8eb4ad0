"""Tree-wide reachability from a recipe's hand-off points, so that a claim such
as "not reached from a ->writepage method" is checked across the whole tree,
not only in the file a semantic patch looked at.

A semantic patch sees one file: __block_write_full_page() in fs/buffer.c has
no ->writepage method in that file, yet blkdev_writepage() in block/fops.c
reaches it through block_write_full_page(). A forward call graph of the
kernel would cost a parse of every file; the question asked is narrower, so
the search runs backwards from the function in question: each step is one
`git grep -w` for a name, and each hit is placed in its enclosing function by
the kernel's coding style (a definition starts in column 0, its body ends at
a `}` in column 0). Functions whose address is taken outside a hand-off
initializer, and names the search gives up on, make the answer "unknown",
never "not reached".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import index as code_index
from .ctext import Function, enclosing_function, functions
from .recipe import Carried, HandOff
from .tree import Sha, Tree

IDENT = r"[A-Za-z_]\w*"
MAX_FUNCTIONS = 400        # backward search budget per question


def split_args(text: str) -> list[str]:
    depth = 0
    cur: list[str] = []
    out: list[str] = []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


def roots_in(text: str, handoff: HandOff) -> set[str]:
    """The hand-off functions a file names: initializer values and callback arguments."""
    roots = set()
    code = "\n".join(l for l in text.splitlines()
                     if not l.lstrip().startswith(("//", "/*", "*")))   # not commented out
    for field_name in handoff.initializers:
        roots |= set(re.findall(rf"\.{field_name}\s*=\s*({IDENT})\b", code))
    for fn, arg in handoff.callbacks:
        for m in re.finditer(rf"\b{fn}\s*\(", text):
            depth, k = 1, m.end()
            while k < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[k], 0)
                k += 1
            args = split_args(text[m.end():k - 1])
            if len(args) >= arg and re.fullmatch(IDENT, args[arg - 1]):
                roots.add(args[arg - 1])
    return roots


@dataclass
class Answer:
    """Whether a function is reached from a hand-off, and how we know."""
    reached: bool | None          # True, False, or None when unknown
    path: list[str] = field(default_factory=list)   # "file:function", hand-off first
    searched: int = 0             # functions looked at
    unknown: list[str] = field(default_factory=list)  # why not sure
    carried: bool = False         # only calls that hand on the object counted
    noun: str = "object"          # what a hand-off hands on (recipe [handoff.carried])

    def reason(self, description: str) -> str:
        """A reason that is true of the tree, as far as this search went."""
        if self.reached:
            chain = " -> ".join(f"{p.split(':')[1]}()" for p in self.path)
            return (f"reached from {description} across files ({chain}, hand-off in "
                    f"{self.path[0].split(':')[0]}); the change is only made where every "
                    f"path comes from a hand-off within one file")
        if self.reached is False:
            callers = (f"searched back through {self.searched - 1} callers"
                       if self.searched > 1 else "it has no callers")
            if self.carried:
                callers = (f"searched back through {self.searched - 1} callers that pass it "
                           f"their {self.noun}" if self.searched > 1 else
                           f"no caller passes it the {self.noun} it was handed")
                return (f"not handed the {self.noun} of {description} anywhere in the tree "
                        f"({callers})")
            return f"not reached from {description} anywhere in the tree ({callers})"
        return (f"not reached from {description} in this file; callers elsewhere not all "
                f"known ({'; '.join(self.unknown[:2])})")


def pattern(form: str) -> str:
    """A regexp for a form such as `page_folio(NAME)`: spaces free between
    tokens, NAME a name (a group)."""
    return r"\s*".join(rf"({IDENT})" if t == "NAME" else re.escape(t)
                       for t in re.findall(r"NAME|\w+|\S", form))


def handed(text: str, func: Function, carried: Carried) -> set[str]:
    """The names under which `func` holds the object it was given: its
    parameters of the carried types, and the names made from them."""
    lines = text.splitlines()[func.first - 1:func.last]
    head = []
    for line in lines:
        head.append(line)
        if line.startswith("{"):
            break
    types = "|".join(r"\s+".join(map(re.escape, t.split())) for t in carried.types)
    param = re.compile(rf"\b(?:{types})\s*\*\s*({IDENT})\s*[,)]") if types else None
    names = set(param.findall(" ".join(head))) if param else set()
    body = "\n".join(lines)
    for form in carried.aliases:
        for alias, src in re.findall(rf"\b({IDENT})\s*=\s*{pattern(form)}", body):
            if src in names:
                names.add(alias)
    return names


def passes(args: list[str], names: set[str], carried: Carried) -> bool:
    """Does one of a call's arguments hand on one of `names`?"""
    forms = {f.replace("NAME", n) for f in (re.sub(r"\s+", "", f) for f in carried.passed)
             for n in names}
    return any(re.sub(r"\s+", "", a) in forms for a in args)


def call_args(text: str, line: int, column: int) -> list[str] | None:
    """The arguments of the call whose "(" follows (line, column), or None."""
    lines = text.splitlines()
    rest = "\n".join([lines[line - 1][column:]] + lines[line:line + 20])
    k = rest.find("(")
    if k < 0:
        return None
    depth, i = 1, k + 1
    while i < len(rest) and depth:
        depth += {"(": 1, ")": -1}.get(rest[i], 0)
        i += 1
    return split_args(rest[k + 1:i - 1]) if depth == 0 else None


class CallGraph:
    """Backward reachability on one commit of a tree, with per-name caches.

    With `carry`, a call counts only when it hands on the page or folio its
    caller was given (see handed()): the question is then whether the folio
    of a hand-off reaches the function, not only the control flow."""

    def __init__(self, tree: Tree, commit: Sha, handoff: HandOff, carry: bool = False):
        self.tree, self.commit, self.handoff, self.carry = tree, commit, handoff, carry
        self.texts: dict[str, str] = {}
        self.funcs: dict[str, list[Function]] = {}
        self.hits: dict[str, list[str]] = {}
        self._roots: set[tuple[str, str]] | None = None
        self._index: code_index.CodeIndex | None | bool = False   # False: not opened yet

    def text(self, path: str) -> str:
        if path not in self.texts:
            self.texts[path] = self.tree.read(self.commit, [path]).get(path, b"").decode(
                errors="replace")
            self.funcs[path] = functions(self.texts[path])
        return self.texts[path]

    def roots(self) -> set[tuple[str, str]]:
        """Every hand-off function of the tree, as (file, name)."""
        if self._roots is None:
            # The regexps of roots_in() decide.
            files = self.tree.grep(self.commit, self.handoff.grep_patterns, (".",), fixed=True,
                                   globs=("*.c",))
            self._roots = {(f, name) for f in files
                           for name in roots_in(self.text(f), self.handoff)}
        return self._roots

    def mentions(self, name: str) -> list[str]:
        if name not in self.hits:
            self.prefetch([name])
        return self.hits[name]

    def prefetch(self, names: list[str]) -> None:
        """The C files mentioning each of `names`: from the code index (see
        index.py), or else in one `git grep` for them all."""
        names = sorted({n for n in names if n not in self.hits})
        if names:
            if self._index is False:
                self._index = code_index.for_commit(self.tree, self.commit)
            if isinstance(self._index, code_index.CodeIndex):
                found = self._index.mentions(self.commit, names)
            else:
                found = self.tree.grep_words(self.commit, tuple(names), (".",), globs=("*.c",))
            for n in names:
                self.hits[n] = sorted(found.get(n, ()))

    def callers(self, path: str, name: str) -> tuple[set[tuple[str, str]], list[str]]:
        """The functions that call `name` (defined in `path`), and what makes the answer
        incomplete (its address taken outside a hand-off initializer)."""
        files = self.files_of(path, name)
        callers, unknown = set(), []
        word = re.compile(rf"\b{re.escape(name)}\b")
        carried = self.handoff.carried
        for f in files:
            text = self.text(f)
            for n, line in enumerate(text.splitlines(), 1):
                for m in word.finditer(line):
                    fn = enclosing_function(self.funcs[f], n)
                    rest = line[m.end():].lstrip()
                    if fn is not None and fn.first == n and fn.name == name:
                        continue                    # its own definition
                    if fn is None:
                        if rest.startswith("(") or re.search(r"EXPORT_SYMBOL", line) \
                                or line.startswith("#") or line.rstrip().endswith(";"):
                            continue                # prototype, export, macro
                        if any(re.search(rf"\.{i}\s*=\s*{re.escape(name)}\b", line)
                               for i in self.handoff.initializers):
                            continue                # the hand-off itself
                        unknown.append(f"{name}() address taken in {f}:{n}")
                    elif rest.startswith("("):
                        if self.carry and not passes(call_args(text, n, m.end()) or [],
                                                     handed(text, fn, carried), carried):
                            continue
                        callers.add((f, fn.name))
                    elif (f, fn.name) not in callers:
                        if not any(name == a for h, a in self.handoff.callbacks
                                   if re.search(rf"\b{h}\s*\(", line)):
                            unknown.append(f"{name}() address taken in {fn.name}() ({f}:{n})")
        return callers, unknown

    def reach(self, path: str, name: str) -> Answer:
        """Is `name` (defined in `path`) reached from a hand-off, through calls?"""
        return self.reach_all([(path, name)])[(path, name)]

    def reach_all(self, questions: list[tuple[str, str]]) -> dict[tuple[str, str], Answer]:
        """reach() for several functions at once: the searches go breadth first in
        step, a level at a time, so that one git grep serves a level of all of them."""
        roots = self.roots()
        answers: dict[tuple[str, str], Answer] = {}
        # question -> (seen, with parent; the level being searched; unknown)
        states: dict[tuple[str, str], tuple[dict, list, list]] = {}
        for q in dict.fromkeys(questions):
            if self.is_root(q, roots):
                answers[q] = Answer(True, [f"{q[0]}:{q[1]}"], 1)
            else:
                states[q] = ({q: None}, [q], [])     # seen (with parent), level, unknown
        while states:
            self.prefetch([name for _, level, _ in states.values() for _, name in level])
            self.read([f for _, level, _ in states.values() for node in level
                       for f in self.files_of(*node)])
            for q, (seen, level, unknown) in list(states.items()):
                answer = self.step(seen, level, unknown, roots)
                if answer is not None:
                    answers[q] = answer
                    del states[q]
        for a in answers.values():
            a.carried, a.noun = self.carry, self.handoff.carried.noun
        return answers

    def is_root(self, node: tuple[str, str], roots: set[tuple[str, str]]) -> bool:
        """A hand-off function: named in an initializer or passed as a callback in
        its own file, or defined non-static and named so in another file
        (`.writepage = nfs_writepage` in fs/nfs/file.c, defined in write.c)."""
        if node in roots:
            return True
        path, name = node
        if not any(n == name for _, n in roots):
            return False
        self.text(path)
        return any(f.name == name and not f.static for f in self.funcs[path])

    def files_of(self, path: str, name: str) -> list[str]:
        self.text(path)
        static = any(f.name == name and f.static for f in self.funcs[path])
        return [path] if static else self.mentions(name)

    def read(self, paths: list[str]) -> None:
        """Read the files not read yet, in one `git cat-file --batch`."""
        todo = sorted({p for p in paths if p not in self.texts})
        for p, data in self.tree.read(self.commit, todo, missing_ok=True).items():
            self.texts[p] = data.decode(errors="replace")
            self.funcs[p] = functions(self.texts[p])
        for p in todo:
            self.texts.setdefault(p, "")
            self.funcs.setdefault(p, [])

    def step(self, seen: dict, level: list, unknown: list, roots: set) -> Answer | None:
        """Expand one level of a backward search; its answer once it has one."""
        if len(seen) > MAX_FUNCTIONS:
            unknown.append(f"search stopped after {MAX_FUNCTIONS} functions")
            return Answer(None, [], len(seen), unknown)
        nxt = []
        for node in level:
            found, incomplete = self.callers(*node)
            unknown += incomplete
            for caller in sorted(found):
                if caller in seen:
                    continue
                seen[caller] = node
                if self.is_root(caller, roots):
                    chain, at = [], caller
                    while at is not None:
                        chain.append(f"{at[0]}:{at[1]}")
                        at = seen[at]
                    return Answer(True, chain, len(seen))
                nxt.append(caller)
        level[:] = nxt
        if not nxt:
            return Answer(None if unknown else False, [], len(seen), unknown)
        return None
