"""dirty.py [--offline | --offline-written | --ro-offline MOUNTPOINT] FILE SIZE [SEED]: make FILE of SIZE bytes and fill it
through a shared writable mapping, without msync, so that its pages stay dirty
in the page cache; exit 0. The content is a function of SEED, so the caller
can check it later with `dirty.py --check`.

With --offline, each page is then soft-offlined while it is still mapped and
dirty (madvise MADV_SOFT_OFFLINE, CONFIG_MEMORY_FAILURE, root): the kernel
migrates it in MIGRATE_SYNC mode, so on a filesystem without migrate_folio
fallback_migrate_folio() hands the dirty page to writeout() and so to the
filesystem's ->writepage(), page by page, instead of wherever compaction's
scanner happens to look. A page that cannot be moved (its ->writepage
redirtied it ten times) stays where it is, dirty; the count of each outcome is
printed, one line. --offline-written does the same to pages dirtied by
write(2) instead, mapped read-only for madvise: a filesystem may treat those
apart (on gfs2 journaled data they come back busy; gcov at the tip showed
none of them PageChecked, so gfs2's redirty exit for such pages is not
reached this way).

With --ro-offline MOUNTPOINT, FILE must already hold SIZE bytes on disk
(written and synced): it is mapped, the kernel is asked for an emergency
read-only remount of every block-device filesystem (sysrq u), and once
MOUNTPOINT is read-only the mapping is overwritten (the pages are mapped to
disk, so ->page_mkwrite lets them dirty) and soft-offlined: ->writepage meets
dirty pages on a read-only filesystem, the exit that discards them. Nothing
written after the remount may reach the disk: the caller checks FILE against
the old SEED after a remount."""
import mmap
import os
import random
import sys
import time


def content(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


MADV_SOFT_OFFLINE = 101


def offline(m: mmap.mmap, size: int) -> str:
    """Soft-offline every page of the mapping; what happened, counted."""
    outcomes: dict[str, int] = {}
    for off in range(0, size, mmap.PAGESIZE):
        try:
            m.madvise(MADV_SOFT_OFFLINE, off, min(mmap.PAGESIZE, size - off))
            what = "moved"
        except OSError as e:
            what = os.strerror(e.errno) if e.errno else str(e)
        outcomes[what] = outcomes.get(what, 0) + 1
    return ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))


def read_only(mountpoint: str) -> bool:
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[1] == mountpoint:
                return "ro" in fields[3].split(",")
    return False


def ro_offline(mountpoint: str, path: str, size: int, seed: int) -> int:
    fd = os.open(path, os.O_RDWR)
    with mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) as m:
        m[:]                           # fault every page in, read-only
        with open("/proc/sysrq-trigger", "w") as t:
            t.write("u")
        for _ in range(300):
            if read_only(mountpoint):
                break
            time.sleep(0.1)
        else:
            print(f"{mountpoint}: still read-write 30 s after the emergency remount")
            return 1
        m[:] = content(size, seed + 100)
        print(f"{path}: read-only, then soft offline of {-(-size // mmap.PAGESIZE)} "
              f"dirty pages: {offline(m, size)}")
    os.close(fd)
    return 0


def offline_written(path: str, size: int, seed: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    data = content(size, seed)
    done = 0
    while done < size:
        done += os.write(fd, data[done:])
    with mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ) as m:
        print(f"{path}: soft offline of {-(-size // mmap.PAGESIZE)} pages dirtied by write(2): "
              f"{offline(m, size)}")
    os.close(fd)
    return 0


def main() -> int:
    check = sys.argv[1] == "--check"
    soft = sys.argv[1] == "--offline"
    if sys.argv[1] == "--ro-offline":
        return ro_offline(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    if sys.argv[1] == "--offline-written":
        return offline_written(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    args = sys.argv[2:] if check or soft else sys.argv[1:]
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
        if soft:
            print(f"{path}: soft offline of {-(-size // mmap.PAGESIZE)} dirty pages: {offline(m, size)}")
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
