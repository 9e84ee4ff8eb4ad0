"""A plain semantic patch as a recipe: `series --cocci FILE`.

The file is used the way `make coccicheck MODE=patch COCCI=FILE` uses it:
its `// Options:` line goes to spatch, its `// Requires:` line is checked
against `spatch --version`, it runs with `-D patch` when it declares modes
(`virtual patch`), and the tree's `.cocciconfig` options apply. Files are
chosen as spatch's own git grep would choose them, from the grep query that
`spatch --parse-cocci` prints, evaluated on the words each file mentions.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import cocci, proc
from .errors import BadInput, KrefactorError
from .recipe import SPLITS, Recipe, Step

# Options that choose files, which krefactor does itself.
SELECTION = ("--use-gitgrep", "--use-idutils", "--use-glimpse", "--use-coccigrep")
# Options that name or change what spatch reads or writes: krefactor gives
# the file, the semantic patch and the output.
REFUSED = ("--dir", "--sp-file", "--in-place", "--out-place", "-o", "--patch", "--cocci-file")


@dataclass(frozen=True)
class Header:
    """What a semantic patch says about itself in its comments and virtuals."""
    title: tuple[str, ...]      # the `///` lines, in order ("" for an empty one)
    options: tuple[str, ...]    # `// Options:`
    requires: str               # `// Requires:` (a spatch version), or ""
    modes: tuple[str, ...]      # `virtual NAME` declarations


def read_header(path: Path) -> Header:
    title, options, requires, modes = [], [], "", []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("///"):
            title.append(line[3:].strip())
        elif m := re.match(r"^//\s*Options:(.*)$", line):
            try:
                options += shlex.split(m.group(1))
            except ValueError as e:
                raise BadInput(f"{path}: its '// Options:' line does not parse: {e}") from e
        elif m := re.match(r"^//\s*Requires:\s*(\S*)", line):
            requires = m.group(1)
        elif m := re.match(r"^virtual\s+(.*)$", line.strip()):
            modes += [v.strip() for v in m.group(1).split(",") if v.strip()]
    while title and not title[-1]:
        title.pop()
    return Header(tuple(title), tuple(options), requires, tuple(modes))


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def spatch_version() -> str:
    proc.require("spatch", "install Coccinelle (apt-get install coccinelle, or scripts/setup.sh)")
    out = proc.run(["spatch", "--version"], check=False).stdout.decode(errors="replace")
    m = re.search(r"spatch version (\S+)", out)
    return m.group(1) if m else ""


def cocciconfig_options(text: str) -> tuple[str, ...]:
    """The `options = ...` lines of a tree's .cocciconfig [spatch] section."""
    opts: list[str] = []
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if m := re.match(r"^\[(\w+)\]$", line):
            section = m.group(1)
        elif section == "spatch" and (m := re.match(r"^options\s*=\s*(.*)$", line)):
            opts += shlex.split(m.group(1))
    return tuple(opts)


def spatch_options(header: Header, tree_options: tuple[str, ...], path: str) -> tuple[str, ...]:
    """The options spatch runs with: the tree's, then the semantic patch's,
    less those that choose files (krefactor chooses them)."""
    for o in header.options:
        if o.split("=", 1)[0] in REFUSED:
            raise BadInput(f"{path}: its '// Options:' line gives {o}, which krefactor "
                                 "sets itself (it chooses the files and writes the result)")
    return tuple(o for o in (*tree_options, *header.options) if o not in SELECTION)


def grep_query(parsed: str) -> str:
    """The grep query of `spatch --parse-cocci` output: a formula of words
    joined by `||` and `&&`, or "" when spatch needs no word (every file)."""
    lines = parsed.splitlines()
    if "Grep query" not in lines:
        return ""
    found = [l.strip() for l in lines[lines.index("Grep query") + 1:] if l.strip()]
    # Several lines: any of them (a superset; spatch checks each file again).
    return " || ".join(f"({q})" for q in found) if len(found) > 1 else (found[0] if found else "")


TOKEN = re.compile(r"\s*(\|\||&&|\(|\)|[A-Za-z_][A-Za-z0-9_]*)")


def query_words(query: str) -> tuple[str, ...]:
    return tuple(sorted({t for t in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", query)}))


def compile_query(query: str) -> Callable[[set[str]], bool]:
    """The grep query as a test on the words a file mentions, parsed once
    (series asks it of thousands of files)."""
    tokens = []
    pos = 0
    while pos < len(query.rstrip()):
        m = TOKEN.match(query, pos)
        if not m:
            raise KrefactorError(f"cannot read spatch's grep query at {query[pos:pos + 20]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    i = 0
    Test = Callable[[set[str]], bool]

    def chain(op: str, operand: Callable[[], Test], combine: Callable[[list[Test]], Test]) -> Test:
        """operand (op operand)*: `||` of terms, `&&` of atoms."""
        nonlocal i
        parts = [operand()]
        while i < len(tokens) and tokens[i] == op:
            i += 1
            parts.append(operand())
        return parts[0] if len(parts) == 1 else combine(parts)

    def expr() -> Test:
        return chain("||", term, lambda ps: lambda w: any(p(w) for p in ps))

    def term() -> Test:
        return chain("&&", atom, lambda ps: lambda w: all(p(w) for p in ps))

    def atom() -> Test:
        nonlocal i
        if i >= len(tokens):
            raise KrefactorError(f"spatch's grep query ends early: {query!r}")
        t = tokens[i]
        i += 1
        if t == "(":
            v = expr()
            if i >= len(tokens) or tokens[i] != ")":
                raise KrefactorError(f"unbalanced parentheses in spatch's grep query: {query!r}")
            i += 1
            return v
        if t in ("||", "&&", ")"):
            raise KrefactorError(f"cannot read spatch's grep query: {query!r}")
        return lambda w: t in w

    v = expr()
    if i != len(tokens):
        raise KrefactorError(f"cannot read spatch's grep query: {query!r}")
    return v


def matches(query: str, words: set[str]) -> bool:
    """Does a file that mentions `words` satisfy the grep query?"""
    return compile_query(query)(words)


@dataclass(frozen=True)
class AdHoc:
    """One `--cocci` file, ready to run."""
    given: str                  # the path as the user gave it
    path: Path
    header: Header
    mode: str | None            # "patch", or None for a file that declares no modes
    query: str                  # spatch's grep query ("" for every file)
    options: tuple[str, ...]
    headers_too: bool           # --include-headers: .h files are candidates too


def prepare(given: str, tree_options: tuple[str, ...] = (), top: Path | None = None) -> AdHoc:
    """Check one `--cocci` file; every error is one line naming it. A relative
    path that is not a file here is looked for in the tree's checkout at
    `top` (`--cocci scripts/coccinelle/api/memdup_user.cocci`)."""
    path = Path(given)
    if not path.is_file() and top is not None and not path.is_absolute() \
            and (top / path).is_file():
        path = top / path
    if not path.is_file():
        raise BadInput(f"{given}: no such file")
    if path.suffix != ".cocci":
        raise BadInput(f"{given}: not a semantic patch (.cocci)")
    header = read_header(path)
    if header.modes and "patch" not in header.modes:
        raise BadInput(f"{given}: no patch mode (it declares virtual "
                             f"{', '.join(header.modes)}): it reports, it does not change code")
    if header.requires:
        have = spatch_version()
        if version_tuple(have) < version_tuple(header.requires):
            raise BadInput(f"{given}: requires spatch {header.requires}; this is "
                                 f"{have or 'an unknown version'}")
    mode = "patch" if header.modes else None
    options = spatch_options(header, tree_options, given)
    proc.require("spatch", "install Coccinelle (apt-get install coccinelle, or scripts/setup.sh)")
    # One spatch --parse-cocci with the options; only if it fails, another
    # without them, to tell a semantic patch that does not parse from options
    # spatch refuses.
    res = proc.run(["spatch", "--parse-cocci", *cocci.mode_args(mode), *options,
                    "--sp-file", str(path)], check=False)
    if res.returncode != 0:
        try:
            cocci.check_syntax(path, mode)
        except KrefactorError as e:     # "NAME does not parse: spatch's message"
            raise BadInput(f"{given}: {str(e).removeprefix(path.name + ' ')}") from e
        check_options(path, mode, options, given)
    parsed = res.stdout.decode(errors="replace")
    return AdHoc(given, path.resolve(), header, mode, grep_query(parsed), options,
                 "--include-headers" in options)


def check_options(path: Path, mode: str | None, options: tuple[str, ...], given: str) -> None:
    """spatch refuses an unknown option before it reads any C: ask it, on no file."""
    res = proc.run(["spatch", "--parse-cocci", *cocci.mode_args(mode), *options,
                    "--sp-file", str(path)], check=False)
    if res.returncode != 0:
        err = [l.strip() for l in res.stderr.decode(errors="replace").splitlines() if l.strip()]
        why = err[0] if err else f"exit {res.returncode}"
        raise BadInput(f"{given}: spatch refuses its options {' '.join(options)}: {why}")


SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)")
SUBJECT_MAX = 64


def title_parts(f: AdHoc) -> tuple[str, str]:
    """A subject and a body from the `///` lines: the first sentence of the
    first paragraph, and the rest (the whole first paragraph again when it
    says more than that sentence). With no `///` line, or a first sentence
    longer than SUBJECT_MAX characters: "apply NAME.cocci", and every `///`
    line in the body."""
    paras = "\n".join(f.header.title).strip().split("\n\n")
    first = " ".join(paras[0].split())
    m = SENTENCE.match(first)
    sentence = (m.group(1) if m else first).rstrip(".")
    if not sentence or len(sentence) > SUBJECT_MAX:
        return f"apply {f.path.name}", "\n\n".join(paras).strip()
    rest = paras if sentence != first.rstrip(".") else paras[1:]
    return sentence, "\n\n".join(rest).strip()


def subject_notes(files: list[AdHoc]) -> list[str]:
    """What a user may want to know about subjects taken from `///` lines."""
    notes = []
    for f in files:
        subj, _ = title_parts(f)
        if not f.header.title:
            notes.append(f"note: {f.given} has no /// line to take a subject from: "
                         f"\"{subj}\"; --subject gives one")
        elif subj == f"apply {f.path.name}":
            notes.append(f"note: the first /// sentence of {f.given} is longer than "
                         f"{SUBJECT_MAX} characters: subject \"{subj}\"; --subject gives one")
    return notes


def recipe(files: list[AdHoc], *, split: str = "maintainers", subject: str | None = None,
           paths: tuple[str, ...] = (".",)) -> Recipe:
    """The ad-hoc recipe: one step per file, in the order given."""
    if split not in SPLITS:
        raise BadInput(f"--split must be one of {', '.join(SPLITS)}, not '{split}'")
    steps = []
    for i, f in enumerate(files, 1):
        first, rest = title_parts(f)
        subj = subject or first
        if split != "none" and "{prefix}" not in subj:
            subj = "{prefix}: " + subj
        body = rest if subject is None else "\n".join(f.header.title).strip()
        steps.append(Step(index=i, cocci=f.path, grep=query_words(f.query), grep_fixed=False,
                          paths=paths, split=split, subject=subj, body=body, required=False,
                          query=f.query, options=f.options, mode=f.mode,
                          headers=f.headers_too, trailer=f"Generated by: {f.given}"))
    name = "+".join(f.path.stem for f in files)
    summary = (files[0].header.title[0].rstrip(".") if len(files) == 1 and files[0].header.title
               else f"apply {', '.join(f.path.name for f in files)}")
    description = "\n\n".join(
        f"{f.given}:\n" + "\n".join(f.header.title) if len(files) > 1 else "\n".join(f.header.title)
        for f in files).strip()
    return Recipe(name=name, summary=summary, description=description, requires=(),
                  symbols=(), steps=tuple(steps), directory=files[0].path.parent, adhoc=True)


@dataclass(frozen=True)
class Match:
    """A place a semantic patch still matches, in its report or context mode."""
    file: str
    line: int
    message: str


REPORT_LINE = re.compile(r"^(?:\./)?([^:\s]+):(\d+):[\d-]+: (.*)$")
CONTEXT_FILE = re.compile(r"^--- (?:\./)?(\S+)")
CONTEXT_HUNK = re.compile(r"^@@ -(\d+)")


def parse_matches(mode: str, out: str) -> list[Match]:
    """`file:line:cols: message` lines of a report mode, or the hunks of a
    context mode's diff (one per hunk, at its first line)."""
    found = []
    current = ""
    for line in out.splitlines():
        if mode == "report":
            if m := REPORT_LINE.match(line):
                found.append(Match(m.group(1), int(m.group(2)), m.group(3).strip()))
        elif m := CONTEXT_FILE.match(line):
            current = m.group(1)
        elif (m := CONTEXT_HUNK.match(line)) and current:
            found.append(Match(current, int(m.group(1)), "matches in context mode"))
    return sorted(set(found), key=lambda x: (x.file, x.line))


def check_mode(f: AdHoc) -> str | None:
    """The mode that lists what a file still matches: report, else context."""
    return next((m for m in ("report", "context") if m in f.header.modes), None)


def recipe_toml(name: str, files: list[AdHoc], split: str = "maintainers") -> str:
    """recipe.toml for `recipe new NAME --from FILE...`: one step per file, in
    the order given, each run as series --cocci runs it. Meant to be edited."""
    def s(text: str) -> str:          # a TOML basic string
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def ml(text: str) -> str:         # a TOML multi-line basic string
        return '"""\n' + text.replace("\\", "\\\\").replace('"""', '\\"""') + '"""'

    r = recipe(files, split=split)
    lines = [f"# Made by `krefactor recipe new` from {', '.join(f.given for f in files)}.",
             "# Edit freely; `krefactor recipe check DIR` validates it.",
             f"name = {s(name)}", f"summary = {s(r.summary)}",
             f"description = {ml(r.description)}", ""]
    for f, step in zip(files, r.steps):
        lines += ["[[steps]]", f"cocci = {s(f.path.name)}",
                  f"# spatch's grep query for {f.path.name}: a file must satisfy it",
                  f"query = {s(f.query)}",
                  f"options = [{', '.join(s(o) for o in f.options)}]",
                  f"mode = {s(f.mode or 'none')}",
                  f"headers = {'true' if f.headers_too else 'false'}",
                  f"split = {s(step.split)}", f"subject = {s(step.subject)}",
                  f"body = {ml(step.body)}", ""]
    return "\n".join(lines)
