# Data-integrity exerciser for the writeback-void boot workloads (not a
# workload itself): it changes a file through a shared writable mapping and
# through write(2), with msync, fsync, truncation of dirty pages, fallocate
# and punched holes, and keeps a model of what the file must hold. Every few
# steps, and at the end, the file is read back through read(2) and compared
# with the model; the final model goes to WANT, so that the caller can compare
# again after dropping caches and remounting.
#
#   python3 mmapx.py FILE WANT [STEPS [SEED]]
#
# Exit 0 when every comparison held, 1 with the first difference printed.
import ctypes
import errno
import mmap
import os
import random
import sys

PAGE = 4096
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 1, 2
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def fallocate(fd, mode, off, length):
    if libc.fallocate(fd, mode, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def try_fallocate(can, what, fd, mode, off, length):
    """fallocate(), or False once the filesystem has said it does not do `what`."""
    if not can[what]:
        return False
    try:
        fallocate(fd, mode, off, length)
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        can[what] = False
        print(f"NOTE: {what} not supported here")
        return False
    return True


def check(fd, model, what):
    os.lseek(fd, 0, os.SEEK_SET)
    got = b""
    while len(got) < len(model) + 1:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        got += chunk
    if got != bytes(model):
        at = next((i for i in range(min(len(got), len(model))) if got[i] != model[i]),
                  min(len(got), len(model)))
        print(f"FAIL: {what}: file differs from the model at byte {at} "
              f"(file {len(got)} bytes, model {len(model)})")
        sys.exit(1)


def main():
    path, want = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 600
    rnd = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    size = 64 * PAGE
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, size)
    model = bytearray(size)
    can = {"punch hole": True, "fallocate": True}
    counts = dict.fromkeys(("mmap", "write", "msync", "fsync", "truncate", "punch",
                            "falloc"), 0)
    for step in range(steps):
        op = rnd.choice(("mmap", "mmap", "mmap", "write", "msync", "truncate", "punch",
                         "falloc", "fsync"))
        if op == "mmap" and len(model) >= PAGE:
            n = len(model) // PAGE
            m = mmap.mmap(fd, n * PAGE, mmap.MAP_SHARED)
            for _ in range(rnd.randint(1, 8)):
                off = rnd.randrange(n * PAGE)
                data = rnd.randbytes(min(rnd.randint(1, 3 * PAGE), n * PAGE - off))
                m[off:off + len(data)] = data
                model[off:off + len(data)] = data
            if rnd.random() < 0.5:
                m.flush()               # msync(MS_SYNC) over the whole mapping
                counts["msync"] += 1
            m.close()
        elif op == "write":
            off = rnd.randrange(len(model) + PAGE)
            data = rnd.randbytes(rnd.randint(1, 2 * PAGE))
            os.pwrite(fd, data, off)
            if off > len(model):
                model.extend(bytes(off - len(model)))
            model[off:off + len(data)] = data
        elif op == "msync" and len(model) >= PAGE:
            n = len(model) // PAGE
            m = mmap.mmap(fd, n * PAGE, mmap.MAP_SHARED)
            off = rnd.randrange(n) * PAGE
            m[off:off + 7] = b"msync!!"
            model[off:off + 7] = b"msync!!"
            m.flush(off, PAGE)          # msync of one page
            m.close()
        elif op == "truncate":
            # Shrink to a partial page while pages beyond it are dirty, then
            # grow back: the tail must read as zeroes.
            new = rnd.randrange(PAGE, 96 * PAGE)
            os.ftruncate(fd, new)
            del model[new:]
            model.extend(bytes(new - len(model)))
        elif op == "punch" and len(model) > 2 * PAGE:
            off = rnd.randrange(len(model) - PAGE)
            length = rnd.randint(1, 3 * PAGE)
            if not try_fallocate(can, "punch hole", fd,
                                 FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, length):
                continue
            end = min(off + length, len(model))
            model[off:end] = bytes(end - off)
        elif op == "falloc":
            off = rnd.randrange(len(model) + PAGE)
            length = rnd.randint(1, 4 * PAGE)
            if not try_fallocate(can, "fallocate", fd, 0, off, length):
                continue
            if off + length > len(model):
                model.extend(bytes(off + length - len(model)))
        elif op == "fsync":
            os.fsync(fd)
        else:
            continue
        counts[op] += 1
        if step % 50 == 49:
            check(fd, model, f"step {step + 1}")
    os.fsync(fd)
    check(fd, model, "after fsync")
    os.close(fd)
    with open(want, "wb") as f:
        f.write(model)
    print("mmapx: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


main()
