"""Which subsystem a file belongs to, and the subject prefix its patches carry.

The prefix follows the subsystem's own history when the tree has one (the
most common `prefix:` among recent subjects touching its directory). A tree
imported from a tarball has a single commit, so the fallback is the
directory's name, the convention most filesystems follow (ext4:, f2fs:).
"""
from __future__ import annotations

import functools
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath

# Directories whose patches carry a prefix other than their last component.
PREFIX = {
    "drivers/gpu/drm/i915": "drm/i915",
    "fs/smb/client": "smb: client",
    "fs/cifs": "cifs",
    "kernel/trace": "tracing",
}


@dataclass(frozen=True, order=True)
class Subsystem:
    key: str      # the directory (or top-level file) that groups the change
    prefix: str   # "ext4", "mm", "drm/i915"


def subsystem_of(path: str) -> Subsystem:
    parts = PurePosixPath(path).parts
    for key, prefix in PREFIX.items():
        if path.startswith(key + "/"):
            return Subsystem(key, prefix)
    if len(parts) >= 3 and parts[0] == "fs":
        return Subsystem("/".join(parts[:2]), parts[1])
    if len(parts) == 2 and parts[0] == "fs":
        # fs/mpage.c, fs/buffer.c: upstream uses "mpage:", "buffer:".
        return Subsystem(path, PurePosixPath(parts[1]).stem)
    if parts[0] in ("mm", "block", "kernel", "lib", "include"):
        return Subsystem(parts[0], parts[0])
    if len(parts) >= 4 and parts[0] == "drivers":
        return Subsystem("/".join(parts[:3]), parts[2])
    if len(parts) >= 3:
        return Subsystem("/".join(parts[:2]), parts[1])
    return Subsystem(parts[0], parts[0])


def prefix_from_subjects(subjects: list[str]) -> str | None:
    """The most common `prefix:` of recent subjects, or None."""
    counts: Counter[str] = Counter()
    for s in subjects:
        head, sep, _ = s.partition(": ")
        if sep and 0 < len(head) <= 30:
            counts[head.strip()] += 1
    if not counts:
        return None
    prefix, n = counts.most_common(1)[0]
    return prefix if n >= 2 else None


# --- MAINTAINERS -----------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One MAINTAINERS entry."""
    title: str
    maintainers: tuple[str, ...] = ()    # M:
    reviewers: tuple[str, ...] = ()      # R:
    lists: tuple[str, ...] = ()          # L:
    status: str = ""                     # S:
    files: tuple[str, ...] = ()          # F:
    excludes: tuple[str, ...] = ()       # X:
    regexes: tuple[str, ...] = ()        # N:
    trees: tuple[str, ...] = ()          # T: ("git git://.../mkp/scsi.git")

    @functools.cached_property
    def heads(self) -> tuple[str, ...]:
        """What every path this section's F: patterns match starts with: the
        text before a wildcard (a pattern without one may name a directory
        without its slash). An N: regex can match anywhere: ("",)."""
        if self.regexes:
            return ("",)
        return tuple(re.split(r"[*?]", f, maxsplit=1)[0] for f in self.files)

    def matches(self, path: str) -> bool:
        # Most of MAINTAINERS' 2,500 sections are ruled out by a prefix test.
        if not path.startswith(self.heads):
            return False
        if any(pattern_matches(x, path) for x in self.excludes):
            return False
        return any(pattern_matches(f, path) for f in self.files) or \
            any(regex(n).search(path) for n in self.regexes)


def parse_maintainers(text: str) -> list[Section]:
    """The sections after the header, each with its fields."""
    sections: list[Section] = []
    title: str | None = None
    fields: dict[str, list[str]] = {}

    def flush() -> None:
        if title is not None and fields:
            sections.append(Section(
                title, tuple(fields.get("M", [])), tuple(fields.get("R", [])),
                tuple(fields.get("L", [])), (fields.get("S") or [""])[0],
                tuple(fields.get("F", [])), tuple(fields.get("X", [])),
                tuple(fields.get("N", [])), tuple(fields.get("T", []))))

    for line in text.splitlines():
        m = re.match(r"^([A-Z]):\s*(.*?)\s*$", line)
        if m and title is not None:
            fields.setdefault(m.group(1), []).append(m.group(2))
        elif not line.strip():
            flush()
            title, fields = None, {}
        elif title is None or not fields:
            title, fields = line.strip(), {}
    flush()
    return [s for s in sections if s.files or s.regexes]


def sections_at(tree, commit: str) -> list[Section]:
    """The MAINTAINERS sections of `tree` at `commit` (none without the file)."""
    text = tree.read(commit, ["MAINTAINERS"], missing_ok=True).get("MAINTAINERS", b"")
    return parse_maintainers(text.decode(errors="replace"))


def tree_name(entry: str) -> str:
    """A short name for a T: entry: 'git git://git.kernel.org/pub/scm/linux/kernel/git/mkp/scsi.git
    for-next' -> 'mkp/scsi'."""
    words = entry.split()
    url = words[1] if len(words) > 1 else (words[0] if words else "")
    parts = [p for p in url.rstrip("/").removesuffix(".git").split("/") if p]
    return "/".join(parts[-2:]) if len(parts) > 2 else (parts[-1] if parts else entry)


def pattern_matches(pattern: str, path: str) -> bool:
    """get_maintainer.pl's F:/X: matching: a directory matches everything below it,
    `*` and `?` are wildcards that do not cross a directory when the pattern has
    no trailing slash."""
    if not any(c in pattern for c in "*?"):
        # Most of MAINTAINERS' ten thousand patterns: no regexp to compile.
        if pattern.endswith("/"):
            return path.startswith(pattern)
        return path == pattern or path.startswith(pattern + "/")
    exact, below = compiled(pattern)
    if exact.match(path):
        return True
    # A pattern naming a directory without the slash covers the files in it.
    return below is not None and below.match(path) is not None


@functools.cache
def compiled(pattern: str) -> tuple[re.Pattern, re.Pattern | None]:
    """The pattern as a regexp for the whole path, and one for a directory's files."""
    regex = re.escape(pattern).replace(r"\*", "[^/]*").replace(r"\?", ".")
    if pattern.endswith("/"):
        return re.compile(f"^{regex}"), None
    below = re.compile(f"^{regex}/") if "*" not in pattern.rsplit("/", 1)[-1] else None
    return re.compile(f"^{regex}$"), below


@functools.cache
def regex(pattern: str) -> re.Pattern:
    """An N: entry compiled once: the hundreds of them overflow re's own cache."""
    return re.compile(pattern)


def addresses(entries: tuple[str, ...]) -> list[str]:
    """Addresses of M:/R:/L: entries: "Name <a@b>" or "a@b (moderated ...)" -> "a@b"."""
    out = []
    for e in entries:
        m = re.search(r"<([^>]+)>", e) or re.match(r"^(\S+@\S+)", e)
        if m:
            out.append(m.group(1))
    return out


@dataclass(frozen=True)
class Recipients:
    subsystems: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]


# get_maintainer.pl leaves out the "chief penguins" unless asked.
CHIEF_PENGUINS = ("torvalds@linux-foundation.org",)


def recipients(sections: list[Section], paths: list[str]) -> Recipients:
    """To: maintainers and reviewers, Cc: lists, of every section matching a path."""
    titles: list[str] = []
    to: list[str] = []
    cc: list[str] = []
    for s in sections:
        if any(s.matches(p) for p in paths):
            titles.append(s.title)
            for a in addresses(s.maintainers + s.reviewers):
                if a not in to and a not in CHIEF_PENGUINS:
                    to.append(a)
            for a in addresses(s.lists):
                if a not in cc:
                    cc.append(a)
    return Recipients(tuple(titles), tuple(to), tuple(cc))


def specificity(pattern: str) -> int:
    """How much of a path an F: pattern pins down: its text before any wildcard."""
    return len(re.split(r"[*?]", pattern, maxsplit=1)[0])


def owner(sections: list[Section], path: str) -> Section | None:
    """The section most specific to `path` (the longest F: pattern before its
    wildcards), as one commit per subsystem is split; THE REST is no owner."""
    best, score = None, -1
    for s in sections:
        if s.title.startswith("THE REST") or not s.matches(path):
            continue
        found = [specificity(f) for f in s.files if pattern_matches(f, path)] or [0]
        if max(found) > score:
            best, score = s, max(found)
    return best


def default_prefix(paths: list[str]) -> str:
    """A subject prefix for a group of files when history has none, in the
    kernel's usual forms: the known exceptions, "drm/x", "bus: driver" under
    drivers/, the filesystem or architecture, "net/x", the subdirectory or
    file under kernel/ and lib/."""
    common = os.path.commonpath(paths) if len(paths) > 1 else paths[0]
    parts = PurePosixPath(common).parts
    if not parts:
        # One section's files in trees apart (drivers/ and sound/): the
        # first file's prefix.
        return default_prefix(sorted(paths)[:1])
    stem = PurePosixPath(common).stem if len(paths) == 1 else parts[-1]
    for key, prefix in PREFIX.items():
        if common == key or common.startswith(key + "/"):
            return prefix
    if parts[:3] == ("drivers", "gpu", "drm"):
        # drm core files sit in drivers/gpu/drm itself: "drm:".
        depth = len(parts) - (len(paths) == 1)
        return f"drm/{PurePosixPath(parts[3]).stem}" if depth >= 4 else "drm"
    if parts[0] == "drivers" and len(parts) >= 3:
        return f"{parts[1]}: {PurePosixPath(parts[2]).stem}"
    if parts[0] in ("fs", "arch", "sound", "security", "block", "kernel", "mm") and \
            len(parts) >= 2:
        return PurePosixPath(parts[1]).stem
    if parts[0] in ("net", "lib", "init", "include") and len(parts) >= 2:
        return f"{parts[0]}/{PurePosixPath(parts[1]).stem}"
    return stem
