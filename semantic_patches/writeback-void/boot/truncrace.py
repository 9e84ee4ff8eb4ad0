"""truncrace.py FILE SECONDS [SEED]: race fsync against truncation for
SECONDS, then leave FILE holding known content; exit 0, or 1 when that
content does not read back.

A child writes PAGES pages at the start of FILE and fsyncs them, over and
over, while the parent truncates FILE to zero every few milliseconds. When a
truncation's new size lands after fsync's writeback has locked a page but
before ->writepage() reads i_size, ->writepage() meets a page wholly past the
end of the file: the exit that writes nothing (for reiserfs,
reiserfs_write_full_page()'s "no file contents in this page"). The window is
microseconds wide, so the truncations are many; their count and the child's
fsyncs are printed, one line.

Afterwards FILE gets content made from SEED through write(2) and fsync; the
caller checks it again after a remount with `truncrace.py --check FILE SEED`.
"""
import os
import random
import sys
import time

PAGES = 256
PAGE = 4096
SIZE = 1 << 20


def content(seed: int) -> bytes:
    return random.Random(seed).randbytes(SIZE)


def writer(path: str, until: float) -> int:
    """Write PAGES dirty pages and fsync them until `until`; the rounds."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    data = os.urandom(PAGES * PAGE)
    n = 0
    try:
        while time.monotonic() < until:
            os.pwrite(fd, data, 0)
            os.fsync(fd)
            n += 1
    finally:
        os.close(fd)
    return n


def race(path: str, seconds: float, rng: random.Random) -> str:
    until = time.monotonic() + seconds
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.write(w, str(writer(path, until)).encode())
        finally:
            os._exit(0)
    os.close(w)
    cuts = 0
    while time.monotonic() < until:
        time.sleep(rng.uniform(0, 0.005))
        os.truncate(path, 0)
        cuts += 1
    fsyncs = os.read(r, 32).decode() or "?"
    os.close(r)
    os.waitpid(pid, 0)
    return f"{path}: {cuts} truncations to zero against {fsyncs} fsyncs of {PAGES} pages"


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--check":
        with open(argv[1], "rb") as f:
            if f.read() != content(int(argv[2])):
                print(f"{argv[1]}: does not hold what was written last")
                return 1
        return 0
    path, seconds = argv[0], float(argv[1])
    seed = int(argv[2]) if len(argv) > 2 else 0
    print(race(path, seconds, random.Random(seed)))
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, content(seed))
        os.fsync(fd)
    finally:
        os.close(fd)
    return main(["--check", path, str(seed)])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
