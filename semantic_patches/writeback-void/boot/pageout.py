"""pageout.py FILE MIB SEED: make FILE (on tmpfs) of MIB mebibytes through a
shared writable mapping, ask the kernel to reclaim the mapping's pages at
once (madvise MADV_PAGEOUT, which hands dirty tmpfs pages to
shmem_writepage() whether or not swap has room, where reclaim proper would
not scan them without free swap), then check every byte through the mapping
and through read(2). Prints one line, with the pages written to swap
(pswpout) meanwhile; exit 0, or 1 on a difference."""
import mmap
import os
import random
import sys

from squeeze import vmstat

MADV_PAGEOUT = 21       # <asm-generic/mman-common.h>; Python's mmap may lack the name
MIB = 1 << 20


def main(path: str, mib: str, seed: str) -> int:
    size = int(mib) * MIB
    want = random.Random(int(seed)).randbytes(size)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, size)
    before = vmstat("pswpout")
    with mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) as m:
        m[:] = want
        m.madvise(MADV_PAGEOUT)
        out = vmstat("pswpout") - before
        if m[:] != want:
            print(f"{path}: differs through the mapping after MADV_PAGEOUT")
            return 1
    with open(path, "rb") as f:
        if f.read() != want:
            print(f"{path}: differs through read(2) after MADV_PAGEOUT")
            return 1
    os.close(fd)
    print(f"{path}: {mib} MiB paged out by madvise, {out} pages written to swap, verified")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__.splitlines()[0])
    sys.exit(main(*sys.argv[1:]))
