"""Keep every byte the semantic change does not need.

spatch's pretty-printer re-spaces some of the lines it rewrites:
`strlcpy(tack, name, XNMLN+1)` comes out as `strscpy(tack, name, XNMLN + 1)`,
`f (x)` as `f(x)`. A maintainer asks for such hunks to be redone. Here each
line spatch changed, where a run of changed lines maps one to one onto the
original's, is rebuilt from the original line: its tokens that spatch kept
keep their original spacing, and only the tokens spatch changed come from
its output (with its spacing before them). The rebuilt line is used only if
it has exactly the tokens of spatch's line; lines added or removed, and runs
whose line counts differ, are spatch's as they are.
"""
from __future__ import annotations

import difflib
import re

TOKEN = re.compile(r"""
    /\*.*?\*/ | //.* |                                  # comments on the line
    "(?:\\.|[^"\\])*" | '(?:\\.|[^'\\])*' |             # string and char literals
    [A-Za-z_0-9]\w*(?:\.\d*)?(?:[eEpP][-+]?\d+)?\w* |   # identifiers, numbers
    ->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|\#\#|\.\.\. |
    \S                                                  # any other character
""", re.X)


def tokens(line: str) -> list[tuple[str, str]]:
    """(whitespace before, token) for each token of the line."""
    out = []
    pos = 0
    for m in TOKEN.finditer(line):
        out.append((line[pos:m.start()], m.group()))
        pos = m.end()
    return out


def respace_line(old: str, new: str) -> str:
    """`new` with the layout of `old` wherever their tokens agree. Both may
    span lines: between two tokens kept side by side, the original's
    whitespace stands (but see keep): so a call spatch joined onto one line,
    or broke in two, or re-indented, keeps the original's lines."""
    a, b = tokens(old), tokens(new)
    ta, tb = [t for _, t in a], [t for _, t in b]
    if ta == tb and "\n" not in old + new:
        return old
    out = []
    # The spacing where an unchanged run starts again: after tokens replaced,
    # the original's; after tokens removed, what stood before them (`return
    # x;` -> `x;` keeps the indentation); after tokens added, spatch's.
    junction: str | None = None
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        if op == "equal":
            run = [keep(a[i][0], b[j][0], b[j - 1][1] if j else None) + a[i][1]
                   for i, j in zip(range(i1, i2), range(j1, j2))]
            if junction is not None:
                run[0] = keep(junction, b[j1][0], b[j1 - 1][1] if j1 else None) + a[i1][1]
            out += run
            junction = None
        elif op == "replace":
            run = [ws + t for ws, t in b[j1:j2]]
            run[0] = keep(junction if junction is not None else a[i1][0], b[j1][0],
                          b[j1 - 1][1] if j1 else None) + b[j1][1]
            out += run
            junction = None
        elif op == "insert":
            out += [ws + t for ws, t in b[j1:j2]]
            junction = b[j2][0] if j2 < len(b) else None
        else:
            junction = a[i1][0] if junction is None else junction
    # What follows the last token: the original's, when it still ends the same.
    tail_old = old[len(old.rstrip()):] if ta and tb and ta[-1] == tb[-1] else \
        new[len(new.rstrip()):]
    line = "".join(out) + tail_old
    return line if [t for _, t in tokens(line)] == tb else new


def keep(old_ws: str, new_ws: str, before: str | None) -> str:
    """The whitespace before a kept token: the original's, unless both break
    the line there and the line starts a statement (the token before it
    ends one, or opens or closes a block): that indentation is spatch's, as
    it re-indents what it moved into or out of a block. A continuation
    line keeps the original's indentation."""
    if "\n" in old_ws and "\n" in new_ws and (before is None or before in (";", "{", "}")):
        return new_ws
    return old_ws


def respace(before: bytes, after: bytes) -> bytes:
    """`after` (spatch's output for `before`) with the original layout restored
    in each run of lines it changed (see respace_line)."""
    if before == after:
        return after
    old = before.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    new = after.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    # The lines before the first change and after the last go as they are;
    # only what lies between is matched (as diff does: on a kernel file the
    # matcher's time is in its many equal lines, `}` and blank ones).
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    out: list[str] = new[:head]
    middle = difflib.SequenceMatcher(None, old[head:len(old) - tail], new[head:len(new) - tail],
                                     autojunk=False)
    for op, i1, i2, j1, j2 in middle.get_opcodes():
        i1, i2, j1, j2 = i1 + head, i2 + head, j1 + head, j2 + head
        if op == "replace":
            o, n = "".join(old[i1:i2]), "".join(new[j1:j2])
            end = n[len(n.rstrip("\r\n")):]
            out.append(respace_line(o.rstrip("\r\n"), n.rstrip("\r\n")) + end)
        else:
            out += new[j1:j2]
    out += new[len(new) - tail:]
    return "".join(out).encode("utf-8", "surrogateescape")
