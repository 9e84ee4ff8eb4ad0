"""squeeze.py COUNTER GOAL [ROUNDS [SECONDS]]: in each of ROUNDS rounds
(default 1), take anonymous memory a mebibyte at a time until the
/proc/vmstat COUNTER has grown by GOAL in that round, hold it for SECONDS
(default 5), taking a little more whenever some is free, then let it all go;
print one line of what happened and exit 0 (1 when the first round never got
the counter that far).

For reclaim workloads with no swap: only file pages can make room, so
reclaim must come to the dirty ones once the clean ones are gone. Taking
memory step by step, watching a counter of reclaim meeting dirty pages
(nr_vmscan_immediate_reclaim), goes as far as the workload needs and no
further, and slowly enough that kswapd, not this process, does most of the
reclaiming: only kswapd hands dirty file pages to ->writepage, and only a
page it meets a second time, after reclaim marked it (PG_reclaim) and moved
it to the active list the first time. Further rounds bring such pages back:
reclaim refills the inactive list from the active one. This process asks
to be the first the OOM killer takes, so that if the edge is crossed the
workload, not init, loses.
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


def squeeze(counter: str, goal: int, seconds: float) -> tuple[int, int]:
    """One round: the counter's growth when the goal was met (or memory ran
    short), and the MiB taken by then."""
    start = vmstat(counter)
    held: list[bytearray] = []
    # Cached counts tmpfs pages too, which reclaim cannot free without swap:
    # what is left to take is free memory and the page cache less Shmem.
    while (vmstat(counter) - start < goal
           and meminfo("MemFree") + meminfo("Cached") - meminfo("Shmem") > 8):
        take(held)
        time.sleep(0.01)
    reached, taken = vmstat(counter) - start, len(held)
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        time.sleep(0.05)
        if meminfo("MemFree") > 6:
            take(held)
    return reached, taken


def main(argv: list[str]) -> int:
    counter, goal = argv[0], int(argv[1])
    rounds = int(argv[2]) if len(argv) > 2 else 1
    seconds = float(argv[3]) if len(argv) > 3 else 5.0
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000")
    start = vmstat(counter)
    done = []
    for _ in range(rounds):
        done.append(squeeze(counter, goal, seconds))
        time.sleep(1)
    print(f"{counter} grew by {vmstat(counter) - start} in {rounds} round(s) "
          f"(goal {goal} each; " + ", ".join(f"{r} after {t} MiB" for r, t in done) + ")")
    return 0 if done[0][0] >= goal else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
