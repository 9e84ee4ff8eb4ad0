"""Passes kept across boot-test runs, so that `--resume` goes on where an
interrupted run stopped instead of booting every commit again.

A workload's pass is kept under a key made of everything that decides it:
the kernel's bytes (bzImage), its own script and every helper of the
recipe's boot directory (lib.sh, the Python exercisers: any file that is
not another workload's script), the guest's memory and disks, the
accelerator, and the krefactor code that writes the guest's init and judges
its console. Editing one workload leaves the others' passes standing. A run
with --resume takes a kept pass for a workload whose key matches and boots
only the rest; a failure is never kept, so it is always run again.

The gcov measurement at the tip is kept the same way, under its kernel's
bytes and the workloads it ran.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import console, qemu

ENGINE = (Path(qemu.__file__), Path(console.__file__))


def digest(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()


def is_workload(path: Path) -> bool:
    """A workload's own script: a .sh file with a `# workload:` header."""
    return path.suffix == ".sh" and b"\n# workload:" in path.read_bytes()


def helpers_digest(boot_dir: Path) -> str:
    """Every file of the recipe's boot directory that is not a workload's own
    script: what any workload may source or run."""
    files = sorted(p for p in boot_dir.rglob("*") if p.is_file()
                   and "__pycache__" not in p.parts and not is_workload(p))
    return digest(b for p in files for b in (str(p.relative_to(boot_dir)).encode(),
                                              p.read_bytes()))


class Store:
    """Kept passes, one JSON file per key, in `root`."""

    def __init__(self, root: Path, boot_dir: Path, memory: int, disks: list[int], accel: str):
        self.root, self.boot_dir = root, boot_dir
        self.setting = digest([helpers_digest(boot_dir).encode(), str(memory).encode(),
                               repr(disks).encode(), accel.encode(),
                               *(p.read_bytes() for p in ENGINE)])
        # The last kernel read, by path, size and mtime: a commit's workloads
        # are looked up and kept one by one, against the same bzImage.
        self.last: tuple[tuple[Path, int, int], bytes] | None = None

    def kernel_bytes(self, kernel: Path) -> bytes:
        st = kernel.stat()
        at = (kernel, st.st_size, st.st_mtime_ns)
        if self.last is None or self.last[0] != at:
            self.last = (at, kernel.read_bytes())
        return self.last[1]

    def key(self, kernel: Path | bytes, what: str) -> str:
        """`kernel`: the bzImage, or what stands for it (gcov_identity()).
        `what`: a workload's name, or "gcov:", the timeout factor and the
        names of those run ("gcov:x3:a,b")."""
        names = what.rsplit(":", 1)[-1].split(",")
        scripts = [self.boot_dir / f"{n}.sh" for n in names]
        kb = kernel if isinstance(kernel, bytes) else self.kernel_bytes(kernel)
        return digest([self.setting.encode(), kb, what.encode(),
                       *(p.read_bytes() for p in scripts if p.is_file())])

    def get(self, kernel: Path | bytes, what: str) -> dict[str, Any] | None:
        f = self.root / f"{self.key(kernel, what)}.json"
        if not f.is_file():
            return None
        try:
            kept: dict[str, Any] = json.loads(f.read_text())
        except (OSError, ValueError):
            return None
        return kept

    def put(self, kernel: Path | bytes, what: str, record: dict[str, Any],
            sha: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        f = self.root / f"{self.key(kernel, what)}.json"
        tmp = f.with_suffix(".new")
        tmp.write_text(json.dumps({"sha": sha, "when": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                      time.gmtime()),
                                   "record": record}))
        tmp.replace(f)
