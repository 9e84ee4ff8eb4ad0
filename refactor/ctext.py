"""What a line-level look at kernel C can tell, as pure functions of text:
which lines hold code, are inside #if blocks or #define bodies, or a
comment; the declarations of a header and the one around a line; the
macro call whose arguments a line sits in. No parser: the callers say where
these heuristics are good enough, and the tests hold them to kernel shapes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Names followed by "(" that are no symbol of the kernel's: keywords and
# the words of a declaration.
NOT_SYMBOLS = frozenset({"if", "while", "for", "switch", "return", "sizeof", "defined",
                         "__attribute__", "typeof", "static", "inline", "void", "bool", "int",
                         "struct"})


def ifdef_lines(text: str) -> set[int]:
    """Lines inside #if/#ifdef blocks, the header guard excepted."""
    inside: set[int] = set()
    stack: list[bool] = []          # True for a block that counts
    guard = re.search(r"^#ifndef\s+(\w+)\s*\n#define\s+\1\b", text, re.M)
    guard_line = text[:guard.start()].count("\n") + 1 if guard else -1
    for number, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if re.match(r"#\s*if", s):
            stack.append(number != guard_line)
        elif re.match(r"#\s*endif", s) and stack:
            stack.pop()
        elif any(stack):
            inside.add(number)
    return inside


def macro_lines(text: str) -> dict[int, str]:
    """Lines of #define bodies -> the macro's name."""
    names: dict[int, str] = {}
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^\s*#\s*define\s+(\w+)", line)
        if m:
            current = m.group(1)
        if current:
            names[number] = current
            if not line.rstrip().endswith("\\"):
                current = None
    return names


def is_comment(text: str, symbol: str) -> bool:
    """Is the mention of `symbol` on this line inside a comment?"""
    s = text.strip()
    if s.startswith(("*", "/*", "//")):
        return True
    m = re.search(rf"\b{re.escape(symbol)}\b", text)
    before = text[:m.start()] if m else text
    return "//" in before or before.rfind("/*") > before.rfind("*/")


def enclosing_macro_call(lines: list[str], line: int) -> str:
    """The all-caps (or TP_) macro whose argument list the line sits in, if any:
    TP_fast_assign( ... strlcpy(...); ... )."""
    depth = 0
    for n in range(line - 1, max(-1, line - 60), -1):
        text = lines[n] if n < len(lines) else ""
        if n == line - 1:
            text = text[:text.find("(")] if "(" in text else text
        for i in range(len(text) - 1, -1, -1):
            ch = text[i]
            if ch == ")":
                depth += 1
            elif ch == "(":
                if depth == 0:
                    m = re.search(r"\b([A-Z_][A-Za-z0-9_]*)\s*$", text[:i])
                    return m.group(1) if m and re.match(r"^(TP_|[A-Z])", m.group(1)) else ""
                depth -= 1
    return ""


def code_lines(source: str) -> set[int]:
    """Lines of C source that hold code: not blank, not only comment, not a directive.

    Only these can be proven compiled; the preprocessor drops the others anyway.
    """
    code: set[int] = set()
    in_comment = False
    in_directive = False
    for number, line in enumerate(source.splitlines(), 1):
        text, i, has_code = line, 0, False
        while i < len(text):
            if in_comment:
                end = text.find("*/", i)
                if end < 0:
                    break
                in_comment, i = False, end + 2
            elif text.startswith("/*", i):
                in_comment, i = True, i + 2
            elif text.startswith("//", i):
                break
            elif text[i] in "\"'":
                quote, i = text[i], i + 1
                while i < len(text) and text[i] != quote:
                    i += 2 if text[i] == "\\" else 1
                i, has_code = i + 1, True
            else:
                has_code = has_code or not text[i].isspace()
                i += 1
        directive = in_directive or line.lstrip().startswith("#")
        in_directive = directive and line.rstrip().endswith("\\")
        if has_code and not directive:
            code.add(number)
    return code


IDENT = re.compile(r"[A-Za-z_]\w*")
# A name followed by "(": a call, a macro use or a definition's head.
IDENT_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)")
MACRO_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*\(.*\)\s*$", re.S)


def blank_comments(text: str) -> str:
    """`text` with comments and string contents blanked, line numbers kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif text[i] in "\"'":
            quote, j = text[i], i + 1
            while j < n and text[j] != quote and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(quote + " " * (j - i - 1) + (quote if j < n and text[j] == quote else ""))
            i = j + 1 if j < n and text[j] == quote else j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def header_decls(text: str) -> list[tuple[int, int, str]]:
    """Top-level declarations of a C header as (first line, last line, name).

    A function (prototype or inline definition) is named by the identifier
    before its parameter list, a macro by its #define, a top-level macro
    invocation (`PAGEFLAG(...)`) by the macro, anything else by its last
    identifier before `{`, `=`, `[` or `;` (a typedef by its new name).
    Directives other than #define declare nothing.
    """
    lines = blank_comments(text).split("\n")
    decls: list[tuple[int, int, str]] = []
    start, chunk = 0, ""
    braces = parens = 0
    directive = define_open = False
    for n, line in enumerate(lines, 1):
        if directive:
            if decls and decls[-1][1] == n - 1 and chunk == "" and define_open:
                decls[-1] = (decls[-1][0], n, decls[-1][2])
            directive = line.rstrip().endswith("\\")
            define_open = define_open and directive
            continue
        if line.lstrip().startswith("#"):
            directive = line.rstrip().endswith("\\")
            m = DEFINE.match(line)
            define_open = bool(m) and directive and not chunk
            if m and not chunk:
                decls.append((n, n, m.group(1)))
            continue
        for ch in line:
            if not chunk and ch.isspace():
                continue
            if not chunk:
                start = n
            chunk += ch
            if ch == "(":
                parens += 1
            elif ch == ")":
                parens -= 1
            elif ch == "{":
                braces += 1
            elif ch == "}":
                braces -= 1
                if braces == 0 and parens == 0 and is_function(chunk):
                    decls.append((start, n, decl_name(chunk)))
                    chunk = ""
            elif ch == ";" and braces == 0 and parens == 0:
                decls.append((start, n, decl_name(chunk)))
                chunk = ""
        if chunk:
            chunk += "\n"
            m = MACRO_CALL.match(chunk)
            if m and braces == 0 and parens == 0 and not next_opens_body(lines, n):
                decls.append((start, n, m.group(1)))
                chunk = ""
    return decls


def is_function(chunk: str) -> bool:
    head = chunk.split("{", 1)[0]
    return "(" in head and not re.match(r"\s*(typedef|struct|union|enum)\b", head)


def next_opens_body(lines: list[str], n: int) -> bool:
    for line in lines[n:]:
        if line.strip() and not line.lstrip().startswith("#"):
            return line.lstrip().startswith("{")
    return False


def decl_name(chunk: str) -> str:
    if re.match(r"\s*typedef\b", chunk) and "(" not in chunk.rsplit("}", 1)[-1]:
        names = IDENT.findall(chunk.rsplit("}", 1)[-1])
        return names[-1] if names else ""
    head = re.split(r"[{=\[;]", chunk, maxsplit=1)[0]
    paren = head.find("(")
    if paren >= 0:
        after = head[paren + 1:].lstrip()
        if after.startswith("*"):                     # void (*hook)(...)
            m = IDENT.search(after)
            return m.group(0) if m else ""
        names = IDENT.findall(head[:paren])
        return names[-1] if names else ""
    names = IDENT.findall(head)
    return names[-1] if names else ""


def enclosing(decls: list[tuple[int, int, str]], line: int) -> str | None:
    for first, last, name in decls:
        if first <= line <= last:
            return name
    return None


# Function heads and definitions, in the kernel's coding style.
# The type may sit on the line before (`static int\niomap_writepage_map(...)`).
DEF_HEAD = re.compile(
    r"^(?!(?:if|for|while|switch|return|else|do)\b)(?:[A-Za-z_].*?\b)?([A-Za-z_]\w*)\s*\(")
ASSERT = re.compile(r"\b(BUG|BUG_ON|WARN_ON|WARN_ON_ONCE|WARN|VM_BUG_ON\w*)\s*\(")
# A declaration or definition line at file scope: type, name, open parenthesis.
SIGNATURE = re.compile(r"^(?!\s)(?!#)(?:[\w\s\*]+?)\b(\w+)\s*\([^;{]*\)?\s*;?\s*$")
# A function head at column 0, with its type on the same line or the line before
# (`static int\niomap_writepage_map(...)`); all-caps names are macro calls.
FUNC_HEAD = re.compile(r"^(?!\s)(?:[\w\s\*]*?)\b(?![A-Z0-9_]+\s*\()(\w+)\s*\([^;]*$")
# A prototype at file scope, on one line; all-caps names are macro calls.
PROTO = re.compile(r"^(?!\s)(?!#)(?!typedef\b)(?!return\b)[\w\s\*]+?\b(?![A-Z0-9_]+\s*\()(\w+)"
                   r"\s*\([^;{]*\)\s*;\s*$")


@dataclass(frozen=True)
class Function:
    name: str
    first: int        # line of the head
    last: int         # line of the closing brace
    static: bool


def functions(text: str) -> list[Function]:
    """Function definitions of a C file in kernel style, in order."""
    lines = text.splitlines()
    found: list[Function] = []
    i = 0
    while i < len(lines):
        m = DEF_HEAD.match(lines[i])
        if m and not lines[i].rstrip().endswith(";") and not lines[i].startswith("#"):
            # The head may run over several lines until the body's "{" in column 0.
            j = i
            while j < len(lines) and j - i < 12 and not lines[j].startswith("{") \
                    and not lines[j].rstrip().endswith(";"):
                if lines[j].rstrip().endswith("{") and j > i:
                    break
                j += 1
            if j < len(lines) and lines[j].startswith("{"):
                k = j + 1
                while k < len(lines) and not lines[k].startswith("}"):
                    k += 1
                head = " ".join(lines[i:j])
                if m.start(1) == 0 and i > 0:       # its type on the line before
                    head = lines[i - 1] + " " + head
                found.append(Function(m.group(1), i + 1, k + 1,
                                      re.match(r"^\s*static\b", head) is not None))
                i = k + 1
                continue
        i += 1
    return found


def enclosing_function(funcs: list[Function], line: int) -> Function | None:
    for f in funcs:
        if f.first <= line <= f.last:
            return f
    return None
