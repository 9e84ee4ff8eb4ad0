"""squeeze.py COUNTER GOAL [SECONDS]: take anonymous memory a mebibyte at a
time until the /proc/vmstat COUNTER has grown by GOAL, then hold it for
SECONDS (default 5), taking a little more whenever some is free; print one
line of what happened and exit 0 (1 when the counter never grew that far).

For reclaim workloads with no swap: only file pages can make room, so
reclaim must come to the dirty ones once the clean ones are gone. Taking
memory step by step, watching a counter of reclaim meeting dirty pages
(nr_vmscan_immediate_reclaim), goes as far as the workload needs and no
further. This process asks to be the first the OOM killer takes, so that
if the edge is crossed the workload, not init, loses.
"""
import sys
import time

MIB = 1 << 20


def vmstat(name: str) -> int:
    with open("/proc/vmstat") as f:
        for line in f:
            key, value = line.split()
            if key == name:
                return int(value)
    raise SystemExit(f"squeeze.py: no {name} in /proc/vmstat")


def meminfo(name: str) -> int:
    """A /proc/meminfo field, in MiB."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1]) // 1024
    raise SystemExit(f"squeeze.py: no {name} in /proc/meminfo")


def take(held: list[bytearray]) -> None:
    chunk = bytearray(MIB)
    for off in range(0, MIB, 4096):      # touch every page
        chunk[off] = 1
    held.append(chunk)


def main(argv: list[str]) -> int:
    counter, goal = argv[0], int(argv[1])
    seconds = float(argv[2]) if len(argv) > 2 else 5.0
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000")
    start = vmstat(counter)
    held: list[bytearray] = []
    while vmstat(counter) - start < goal and meminfo("MemFree") + meminfo("Cached") > 8:
        take(held)
    reached = vmstat(counter) - start
    # Then slowly, a mebibyte whenever more than 6 MiB is free: kswapd, not
    # this process, does the reclaiming, and it is kswapd that may write.
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        time.sleep(0.05)
        if meminfo("MemFree") > 6:
            take(held)
    print(f"{counter} grew by {reached} (goal {goal}) after taking {len(held)} MiB; "
          f"{vmstat(counter) - start} after holding it {seconds:g} s")
    return 0 if reached >= goal else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
