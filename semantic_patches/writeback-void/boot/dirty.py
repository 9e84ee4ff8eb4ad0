"""dirty.py FILE SIZE [SEED]: make FILE of SIZE bytes and fill it through a
shared writable mapping, without msync, so that its pages stay dirty in the
page cache; print nothing, exit 0. The content is a function of SEED, so the
caller can check it later with `dirty.py --check`."""
import mmap
import os
import random
import sys


def content(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def main() -> int:
    check = sys.argv[1] == "--check"
    args = sys.argv[2:] if check else sys.argv[1:]
    path, size = args[0], int(args[1])
    seed = int(args[2]) if len(args) > 2 else 1
    want = content(size, seed)
    if check:
        with open(path, "rb") as f:
            got = f.read()
        if got != want:
            first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
            print(f"{path}: differs from its model at byte {first} (size {len(got)}, want {size})")
            return 1
        return 0
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, size)
    with mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) as m:
        m[:] = want
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
