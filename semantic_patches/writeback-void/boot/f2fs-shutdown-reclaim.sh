#!/bin/sh
# workload: f2fs shut down without a flush while 8000 new files in 8 directories have their dentry (directory data) and inode pages dirty, then memory taken (no swap) until kswapd hands them to ->writepage: f2fs's background ->writepages leaves a directory with fewer dirty pages than a segment's blocks alone, so only pageout() takes them, and with the checkpoint stopped f2fs_write_single_data_page() redirties a directory page (redirty_out, AOP_WRITEPAGE_ACTIVATE) without I/O; then sync, unmount, and what was synced before is verified after a remount
# proves: nr_vmscan_write
# needs: F2FS_FS
# timeout: 400
. "$KREFACTOR_BOOT_DIR/lib.sh"
new_fs f2fs mkfs.f2fs -f -q
# Kept: written and synced before the shutdown.
make_files /tmp/mnt /tmp/sums
hold_dirty "$(mem_available)"
# The dentry and inode pages go in after the clean page cache is dropped,
# so that reclaim meets them together at the old end of the file LRU.
drop_caches
empty_files 8 1000
note "f2fs: $(vmstat nr_dirty) dirty pages before the shutdown"
# 2: F2FS_GOING_DOWN_NOSYNC: no flush, the checkpoint stops (cp_error).
f2fs_io shutdown 2 /tmp/mnt > /tmp/shutdown.log 2>&1 || { cat /tmp/shutdown.log; fail "f2fs_io shutdown"; }
before=$(vmstat nr_vmscan_write)
squeezed=$(/usr/bin/python3 "$KREFACTOR_BOOT_DIR/squeeze.py" nr_vmscan_immediate_reclaim 512 4 8) \
    || note "f2fs: reclaim did not meet 512 dirty pages: ${squeezed:-the squeeze was killed}"
note "f2fs: ${squeezed:-no squeeze result}; reclaim wrote $(( $(vmstat nr_vmscan_write) - before )) pages itself; $(vmstat nr_dirty) dirty, $(vmstat nr_writeback) under writeback"
release_dirty
# After the shutdown sync reports errors; the unmount waits for every page
# under writeback of the files it evicts.
sync 2>/dev/null
umount /tmp/mnt || fail "umount f2fs after the shutdown"
mount -t f2fs "$dev" /tmp/mnt || fail "mount f2fs after the shutdown"
(cd /tmp/mnt && md5sum -c --quiet /tmp/sums) || fail "files synced before the shutdown differ after a remount"
umount /tmp/mnt || fail "umount f2fs"
echo "f2fs: shut down with 8000 new files' pages dirty, taken by reclaim; $(wc -l < /tmp/sums) files synced before it verified after a remount"
