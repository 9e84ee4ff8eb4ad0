#!/bin/sh
# workload: f2fs shut down without a flush (f2fs_io shutdown 2, as after a fatal error) while its summary (meta) pages, new inodes and mapped pages are dirty: sync then hands the meta pages to __f2fs_write_meta_page(), whose checkpoint-error exit redirties them, and the unmount drops them through its closing exit; what was synced before is verified after a remount
# proves: nr_written
# needs: F2FS_FS
# timeout: 300
. "$KREFACTOR_BOOT_DIR/lib.sh"
new_fs f2fs mkfs.f2fs -f -q
# Kept: written and synced (sync makes a checkpoint) before the shutdown.
make_files /tmp/mnt /tmp/sums
sync
# Lost: what comes after. f2fs allocates blocks at writeback, so an fsync'd
# file of 24 MiB fills new segments and dirties their summary blocks, meta
# pages that only the next checkpoint writes. Then new files and mapped
# pages, held dirty: inode (node) pages and data pages.
hold_dirty "$(mem_available)"
dd if=/dev/urandom of=/tmp/mnt/fsynced bs=1M count=24 conv=fsync 2>/dev/null \
    || fail "writing and fsync'ing 24 MiB"
mkdir /tmp/mnt/new || fail "mkdir"
n=0
while [ $n -lt 64 ]; do
    head -c 5000 /dev/urandom > "/tmp/mnt/new/s$n" || fail "writing s$n"
    n=$((n + 1))
done
/usr/bin/python3 "$KREFACTOR_BOOT_DIR/dirty.py" /tmp/mnt/new/mapped 8388608 3 \
    || fail "dirtying a mapping"
note "before the shutdown: $(vmstat nr_dirty) dirty pages"
# 2: F2FS_GOING_DOWN_NOSYNC, no flush: the checkpoint stops (cp_error).
f2fs_io shutdown 2 /tmp/mnt > /tmp/shutdown.log 2>&1 || { cat /tmp/shutdown.log; fail "f2fs_io shutdown"; }
release_dirty
# sync writes the meta inode's dirty pages through __f2fs_write_meta_page():
# with the checkpoint stopped they are redirtied. Its errors are expected.
sync 2>/dev/null
note "after the shutdown and a sync: $(vmstat nr_dirty) dirty pages"
# The unmount (kill_f2fs_super: closing) drops the meta pages still dirty.
umount /tmp/mnt || fail "umount f2fs after the shutdown"
mount -t f2fs "$dev" /tmp/mnt || fail "mount f2fs after the shutdown"
(cd /tmp/mnt && md5sum -c --quiet /tmp/sums) || fail "files synced before the shutdown differ after a remount"
umount /tmp/mnt || fail "umount f2fs"
echo "f2fs: shut down with dirty meta, node and data pages; $(wc -l < /tmp/sums) files synced before it verified after a remount"
