"""What a distcc build farm takes off this machine in `krefactor compile-test`.

Two cold runs of the same range in the same process, each from a clean state
(`krefactor clean`: export, config and prepare are in its time), neither with
ccache:
- local: `--cc gcc`;
- farm: `--cc 'distcc gcc'` from a client network namespace, against two
  `distccd` hosts in namespaces of their own (tests/farm.py), with
  `DISTCC_FALLBACK=0`.
The hosts run on this machine too, so the farm's wall time says nothing about
real hosts; the CPU split does. Printed: wall and CPU time (user+sys of all
children) of each run, the CPU the hosts spent (what could leave the
machine), and the CPU that stayed on the client (the serial part: export,
Kconfig, host tools, preprocessing, linking and krefactor itself), with what
that bounds: on N hosts as fast as this machine, compile-test cannot take
less CPU here than the client part. Needs root and distcc.

    python3 bench/compile_test_on_farm.py TREE master..<the series' second commit>

With `--boot RECIPE` the same for `boot-test --workload W` (default bdev):
its kernels are built the same two ways and booted; QEMU's CPU stays here
(MPAGE: the commit "mpage: do not start writeback in ->writepage()").

    python3 bench/compile_test_on_farm.py --boot writeback-void TREE MPAGE~1..MPAGE
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from farm import Farm, usable  # noqa: E402


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


KREFACTOR = [sys.executable, "-c", "from refactor.cli import main; main()"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("tree")
    ap.add_argument("range")
    ap.add_argument("-j", "--jobs", type=int, default=4)
    ap.add_argument("--boot", metavar="RECIPE", default=None,
                    help="Time boot-test with this recipe's --workload instead: its "
                         "kernels built, then booted (the boots stay here).")
    ap.add_argument("--workload", default="bdev")
    args = ap.parse_args()
    why = usable()
    if why:
        print(f"compile_test_on_farm: {why}", file=sys.stderr)
        return 2
    if args.boot:
        ct = ["boot-test", "--recipe", args.boot, "--workload", args.workload]
    else:
        ct = ["compile-test"]
    ct += ["--tree", args.tree, "--range", args.range, "-j", str(args.jobs)]

    subprocess.run([*KREFACTOR, "clean", "--tree", args.tree], check=True, capture_output=True)
    w0, c0 = time.monotonic(), cpu()
    local = subprocess.run([*KREFACTOR, *ct, "--cc", "gcc"], capture_output=True, text=True)
    local_wall, local_cpu = time.monotonic() - w0, cpu() - c0

    subprocess.run([*KREFACTOR, "clean", "--tree", args.tree], check=True, capture_output=True)
    with Farm(hosts=2) as farm:
        w0, c0 = time.monotonic(), cpu()
        res = farm.run([*KREFACTOR, *ct, "--cc", "distcc gcc"], env={"DISTCC_FALLBACK": "0"})
        farm_wall, client_cpu = time.monotonic() - w0, cpu() - c0
        c1 = cpu()
        compiled = farm.compiled()
        job_seconds = farm.job_seconds()
    hosts_cpu = cpu() - c1              # the daemons, reaped when the farm stops
    print(f"{ct[0]} {args.range}: local exit {local.returncode}, farm exit {res.returncode}")
    print(f"local (gcc):         wall {local_wall:7.1f} s   CPU {local_cpu:7.1f} s")
    print(f"farm (distcc gcc):   wall {farm_wall:7.1f} s   CPU here {client_cpu:7.1f} s, "
          f"on the hosts {hosts_cpu:7.1f} s ({' + '.join(map(str, compiled))} compilations; "
          f"{job_seconds:.1f} s by the daemons' logs)")
    if local_cpu:
        # The daemons' own CPU, once reaped. Their logs' per-job times are
        # wall time: with the hosts on this machine's cores they include the
        # wait for a core (a boot-test kernel: 864.7 s logged, 279.3 s of
        # CPU), so they stand in only when no CPU was counted.
        moved = hosts_cpu or job_seconds
        print(f"could leave the machine: {moved:.1f} s CPU "
              f"({100 * moved / local_cpu:.0f} % of the local run's); "
              f"stays here (serial part): {client_cpu:.1f} s "
              f"({100 * client_cpu / local_cpu:.0f} %)")
    return 0 if local.returncode == res.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
