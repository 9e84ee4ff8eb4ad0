#!/bin/sh
# workload: f2fs under reclaim with 1800 new, empty regular files: their inode (node) pages stay dirty, since f2fs's background ->writepages leaves node pages alone below 2048 dirty ones, so only kswapd's pageout() can hand them to f2fs_write_node_page(), which redirties a regular file's cold dnode outside data-integrity writeback; memory is taken (no swap), in four rounds, until reclaim has met dirty pages, and held; then sync, remount, verify
# proves: nr_vmscan_immediate_reclaim
# needs: F2FS_FS
# timeout: 400
. "$KREFACTOR_BOOT_DIR/lib.sh"
new_fs f2fs mkfs.f2fs -f -q
hold_dirty "$(mem_available)"
# The node pages go in after the clean page cache is dropped, so that they
# lie together at the old end of the file LRU: reclaim takes them in
# batches that are dirty through and through, and only then lets kswapd
# write (PGDAT_DIRTY).
drop_caches
empty_files 18 100
note "f2fs: $(vmstat nr_dirty) dirty pages after creating 1800 files"
squeezed=$(/usr/bin/python3 "$KREFACTOR_BOOT_DIR/squeeze.py" nr_vmscan_immediate_reclaim 512 4 8) \
    || note "f2fs: reclaim did not meet 512 dirty pages: ${squeezed:-the squeeze was killed}"
note "f2fs: ${squeezed:-no squeeze result}; $(vmstat nr_dirty) dirty pages left"
release_dirty
sync
umount /tmp/mnt || fail "umount f2fs"
mount -t f2fs "$dev" /tmp/mnt || fail "mount f2fs again"
n=$(find /tmp/mnt -type f | wc -l)
[ "$n" -eq 1800 ] || fail "f2fs: $n files after remount, want 1800"
umount /tmp/mnt
echo "f2fs: 1800 new files through reclaim with their inode pages dirty, all there after remount"
