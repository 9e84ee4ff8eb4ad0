"""Kernel console text -> splats and workload results. Pure parsers, no I/O.

The guest's init prints `krefactor:` marker lines around each workload (see
boot.py); the kernel prints its splats on the same serial console. Each
splat is attributed to the workload that was running when it appeared, so
a verdict says which hand-off broke, not only that the kernel did.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
MARK = "krefactor:"

# (kind, pattern) in the order they are tried; the first that matches a line
# starts a splat. `where` is the file:line the kernel itself names, if any.
SPLATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("BUG", re.compile(r"kernel BUG at (?P<where>\S+:\d+)!")),
    ("soft lockup", re.compile(r"BUG: soft lockup")),
    ("BUG", re.compile(r"^BUG: ")),
    ("WARNING", re.compile(r"^WARNING: CPU: \d+ PID: \d+ at (?P<where>\S+:\d+)")),
    ("WARNING", re.compile(r"^WARNING: ")),
    ("general protection fault", re.compile(r"general protection fault")),
    ("Oops", re.compile(r"^Oops: ")),
    ("hung task", re.compile(r"^INFO: task \S+ blocked for more than \d+ seconds")),
    ("out of memory", re.compile(r"^\S+ invoked oom-killer: ")),
    ("RCU stall", re.compile(r"rcu: INFO: \S+ (self-)?detected stalls?")),
    ("panic", re.compile(r"^Kernel panic - not syncing")),
)
# Stall reports: timed by the host's clock, so a slow guest (TCG) can pass
# their thresholds and go on; guest.judge lets the workload's end decide.
STUCK = ("hung task", "soft lockup", "RCU stall")
# A splat's text runs until one of these, or for at most this many lines.
END = re.compile(r"^---\[ end (trace|Kernel panic)")
MAX_LINES = 80


@dataclass(frozen=True)
class Splat:
    """One kernel failure report on the console."""
    kind: str
    title: str              # its first line, without the timestamp
    where: str              # file:line the kernel named ("" when it names none)
    lines: tuple[str, ...]  # the whole report, timestamps removed
    workload: str           # the workload running when it appeared ("" before any)

    @property
    def signature(self) -> str:
        """What identifies the same failure on another kernel: kind, place, workload."""
        place = self.where or re.sub(r"\d+", "N", self.title)[:80]
        return f"{self.workload}:{self.kind}:{place}"


@dataclass
class Workload:
    """What the console says of one workload's run."""
    name: str
    started: bool = False
    ended: bool = False
    rc: int | None = None
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)   # lines the workload printed as FAIL
    notes: list[str] = field(default_factory=list)      # lines it printed as NOTE

    def delta(self, key: str) -> int | None:
        if key in self.before and key in self.after:
            return self.after[key] - self.before[key]
        return None


@dataclass
class Console:
    """The parsed console of one boot."""
    booted: bool = False          # init reached: the first marker line was seen
    done: bool = False            # init finished every workload it was given
    workloads: dict[str, Workload] = field(default_factory=dict)
    splats: list[Splat] = field(default_factory=list)
    current: str = ""             # the workload running when the console ended

    def of(self, name: str) -> list[Splat]:
        return [s for s in self.splats if s.workload == name]


def strip(line: str) -> str:
    return TIMESTAMP.sub("", line.rstrip("\r\n")).rstrip("\r")


def splat_start(text: str) -> tuple[str, str] | None:
    """(kind, where) when `text` opens a splat."""
    for kind, pat in SPLATS:
        m = pat.search(text)
        if m:
            return kind, m.groupdict().get("where") or ""
    return None


def vmstat(fields: list[str]) -> dict[str, int]:
    out = {}
    for f in fields:
        key, _, value = f.partition("=")
        if value.lstrip("-").isdigit():
            out[key] = int(value)
    return out


def parse(text: str) -> Console:
    """Parse a whole console log (as captured, or as far as it got)."""
    con = Console()
    open_splat: tuple[str, str, str, list[str]] | None = None   # kind, where, title, lines

    def close() -> None:
        nonlocal open_splat
        if open_splat is not None:
            kind, where, title, lines = open_splat
            con.splats.append(Splat(kind, title, where, tuple(lines), con.current))
            open_splat = None

    for raw in text.splitlines():
        line = strip(raw)
        if line.startswith(MARK):
            close()
            words = line[len(MARK):].split()
            if not words:
                continue
            verb, args = words[0], words[1:]
            con.booted = True
            if verb == "start" and args:
                w = con.workloads.setdefault(args[0], Workload(args[0]))
                w.started = True
                con.current = args[0]
            elif verb in ("vmstat-before", "vmstat-after") and args:
                w = con.workloads.setdefault(args[0], Workload(args[0]))
                (w.before if verb == "vmstat-before" else w.after).update(vmstat(args[1:]))
            elif verb == "end" and args:
                w = con.workloads.setdefault(args[0], Workload(args[0]))
                w.ended = True
                rc = next((a[3:] for a in args[1:] if a.startswith("rc=")), "")
                w.rc = int(rc) if rc.lstrip("-").isdigit() else None
                con.current = ""
            elif verb == "done":
                con.done = True
            continue
        if line.startswith(("FAIL:", "NOTE:")) and con.current:
            w = con.workloads[con.current]
            (w.failures if line.startswith("FAIL:") else w.notes).append(line[5:].strip())
            continue
        if open_splat is not None:
            if END.match(line) or len(open_splat[3]) >= MAX_LINES:
                open_splat[3].append(line)
                close()
                continue
            start = splat_start(line)
            # A report inside a report (a BUG's "Oops:" line) belongs to it.
            if start is None or start[0] in ("Oops", "panic") or line.startswith("BUG: "):
                open_splat[3].append(line)
                continue
            close()
        start = splat_start(line)
        if start is not None:
            open_splat = (start[0], start[1], line, [line])
    close()
    return con
