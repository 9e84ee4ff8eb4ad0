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
# the new end. stat on the first asks the server (cache=mmap) and takes the
# new size. The aim was writeback meeting pages beyond EOF (the
# "simultaneous truncation" exit of v9fs_vfs_write_folio_locked()), but
# gcov on 6.1.192 shows that exit did not run, for reasons not yet looked
# into. What it checks holds anyway: the pages before the cut reach the
# server, and nothing grows the file again.
opts=trans=virtio,version=9p2000.L,cache=mmap
mkdir -p /tmp/mnt /tmp/mnt2
mount -t 9p -o "$opts" "$KREFACTOR_SHARE" /tmp/mnt || fail "mount 9p"
mount -t 9p -o "$opts" "$KREFACTOR_SHARE2" /tmp/mnt2 || fail "mount the share a second time (its second device)"
echo 0 > /proc/sys/vm/dirty_writeback_centisecs
/usr/bin/python3 "$KREFACTOR_BOOT_DIR/dirty.py" /tmp/mnt/behind 1048576 9 || fail "dirtying /tmp/mnt/behind"
truncate -s 8192 /tmp/mnt2/behind || fail "truncate through the second mount"
size=$(stat -c %s /tmp/mnt/behind)
echo 500 > /proc/sys/vm/dirty_writeback_centisecs
[ "$size" = 8192 ] || fail "the first mount sees size $size after the truncation, not 8192"
sync
/usr/bin/python3 "$KREFACTOR_BOOT_DIR/dirty.py" /tmp/behind.model 1048576 9
head -c 8192 /tmp/behind.model > /tmp/behind.want
cmp /tmp/mnt2/behind /tmp/behind.want || fail "the truncated file differs from its first 8192 bytes"
umount /tmp/mnt2; umount /tmp/mnt
echo "9p: dirty pages beyond a truncation made through another mount: written up to the cut, no further"
