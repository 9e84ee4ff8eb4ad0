#!/bin/sh
# workload: 9p on a writable virtio-9p share with cache=mmap (v9fs_vfs_writepage): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: 9P_FS
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
# No mkfs: the share is a fresh host directory of this boot. Writes through
# write(2) go straight to the server with cache=mmap; the mmap exerciser and
# fio's mmap writes go through the page cache and ->writepage.
FSLOAD_DEV=$KREFACTOR_SHARE fsload 9p "-o trans=virtio,version=9p2000.L,cache=mmap" true
# A file cut short behind this mount's back: truncated through a second mount
# of the share (an inode of its own) while the first holds dirty pages past
# the new end; stat on the first asks the server (cache=mmap) and takes the
# new size, and sync then meets pages beyond EOF: the "simultaneous
# truncation" exit of v9fs_vfs_write_folio_locked(). The mapping stays open
# until then: 9p writes a shared mapping back when it is unmapped
# (v9fs_mmap_vm_close()), which left nothing dirty in the first version of
# this step (gcov: the exit did not run). This version is not booted yet.
# The pages before the cut must reach the server; nothing may grow the file
# again.
opts=trans=virtio,version=9p2000.L,cache=mmap
mkdir -p /tmp/mnt /tmp/mnt2
mount -t 9p -o "$opts" "$KREFACTOR_SHARE" /tmp/mnt || fail "mount 9p"
mount -t 9p -o "$opts" "$KREFACTOR_SHARE2" /tmp/mnt2 || fail "mount the share a second time (its second device)"
echo 0 > /proc/sys/vm/dirty_writeback_centisecs
size=$(/usr/bin/python3 - <<'PY'
import mmap, os, random, subprocess
path, size = "/tmp/mnt/behind", 1 << 20
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, size)
m = mmap.mmap(fd, size, mmap.MAP_SHARED)
m[:] = random.Random(9).randbytes(size)
subprocess.run(["truncate", "-s", "8192", "/tmp/mnt2/behind"], check=True)
print(os.stat(path).st_size)
os.sync()
m.close()
os.close(fd)
PY
) || fail "dirty mapping, truncation through the second mount, sync"
echo 500 > /proc/sys/vm/dirty_writeback_centisecs
[ "$size" = 8192 ] || fail "the first mount sees size $size after the truncation, not 8192"
/usr/bin/python3 "$KREFACTOR_BOOT_DIR/dirty.py" /tmp/behind.model 1048576 9
head -c 8192 /tmp/behind.model > /tmp/behind.want
cmp /tmp/mnt2/behind /tmp/behind.want || fail "the truncated file differs from its first 8192 bytes"
umount /tmp/mnt2; umount /tmp/mnt
echo "9p: dirty pages beyond a truncation made through another mount: written up to the cut, no further"
