"""A recipe's boot workloads: shell scripts with a `# key: value` header,
run as root in the guest (qemu.py), judged by boot.py."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import KrefactorError
from .recipe import Recipe


@dataclass(frozen=True)
class WorkloadSpec:
    """A recipe's boot workload: a shell script run as root in the guest."""
    name: str
    path: Path
    summary: str
    proves: tuple[str, ...]     # /proc/vmstat counters that must grow, or it did nothing
    timeout: int
    needs: tuple[str, ...]      # config options


def parse_workload(path: Path, text: str) -> WorkloadSpec:
    """Read a workload's `# key: value` header lines (workload, proves, timeout, needs)."""
    head: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        m = re.match(r"^#\s*(workload|proves|timeout|needs):\s*(.*)$", line)
        if m:
            head[m.group(1)] = m.group(2).strip()
        elif line.strip() and not line.startswith("#"):
            break
    where = f"{path.name}: "
    if "workload" not in head:
        raise KrefactorError(f"{where}no '# workload: what it does' header line")
    if not head.get("proves"):
        raise KrefactorError(f"{where}no '# proves: COUNTER ...' line: a workload must show "
                             "from /proc/vmstat that it exercised its hand-off")
    timeout = head.get("timeout", "120")
    if not timeout.isdigit():
        raise KrefactorError(f"{where}'# timeout:' must be seconds, not {timeout!r}")
    return WorkloadSpec(path.stem, path, head["workload"], tuple(head["proves"].split()),
                        int(timeout), tuple(head.get("needs", "").split()))


def load_workloads(recipe: Recipe, names: tuple[str, ...] = ()) -> list[WorkloadSpec]:
    if recipe.boot is None:
        raise KrefactorError(f"recipe {recipe.name} has no [boot] table: nothing to boot-test")
    texts = {p: p.read_text() for p in sorted(recipe.boot.workloads.glob("*.sh"))}
    # Helpers the workloads source (lib.sh) have no '# workload:' header.
    found = [parse_workload(p, t) for p, t in texts.items() if "\n# workload:" in t]
    known = {w.name: w for w in found}
    for n in names:
        if n not in known:
            raise KrefactorError(f"no workload {n!r} in {recipe.boot.workloads} "
                                 f"(have: {', '.join(known)})")
    return [known[n] for n in names] if names else found
