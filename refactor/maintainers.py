"""Which subsystem a file belongs to, and the subject prefix its patches carry.

The prefix follows the subsystem's own history when the tree has one (the
most common `prefix:` among recent subjects touching its directory). A tree
imported from a tarball has a single commit, so the fallback is the
directory's name, the convention most filesystems follow (ext4:, f2fs:).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath

# Directories whose patches carry a prefix other than their last component.
PREFIX = {
    "drivers/gpu/drm/i915": "drm/i915",
    "fs/smb/client": "smb: client",
    "fs/cifs": "cifs",
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
        return Subsystem(parts[0], "mm" if parts[0] == "include" else parts[0])
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
