#!/bin/sh
# workload: ext4 (its own writeback loop, keepwrite): write, overwrite, truncate, fsync against concurrent redirty, remount, verify; then a page written over a preallocated (unwritten) extent and the file truncated inside it, so that jbd2's commit hands it to ext4_writepage() before any writeback: its bail-out for unwritten buffers; verified after remount
# proves: nr_written
# needs: EXT4_FS
# timeout: 200
. "$KREFACTOR_BOOT_DIR/lib.sh"
roundtrip ext4 mkfs.ext4 -q -F
# fsync while another writer keeps redirtying the same pages (keepwrite path).
dev=$(disk 1)
mount -t ext4 "$dev" /tmp/mnt || fail "mount ext4"
head -c 1048576 /dev/urandom > /tmp/mnt/hot
( i=0; while [ $i -lt 40 ]; do
      dd if=/dev/urandom of=/tmp/mnt/hot bs=4096 seek=$((i % 256)) count=1 conv=notrunc 2>/dev/null
      i=$((i + 1)); done ) &
for i in 1 2 3 4 5 6 7 8 9 10; do sync /tmp/mnt/hot || fail "fsync during redirty"; done
wait
md5sum < /tmp/mnt/hot > /tmp/hot.sum
umount /tmp/mnt && mount -t ext4 "$dev" /tmp/mnt || fail "remount ext4"
[ "$(md5sum < /tmp/mnt/hot)" = "$(cat /tmp/hot.sum)" ] || fail "redirtied file differs after remount"
umount /tmp/mnt
# A page dirtied by write(2) over a preallocated (unwritten) extent, with
# delayed allocation, has a mapped, unwritten buffer. Truncating the file
# to a size inside that page makes ext4_block_truncate_page() zero its tail
# and add the block's range to the running transaction (data=ordered), so
# the commit is the first to write the page (the flusher is held off):
# jbd2_journal_submit_inode_data_buffers() -> generic_writepages() ->
# ext4_writepage(), which redirties a page with unwritten buffers and, with
# one block per page (4 KiB blocks: mkfs gives a small disk 1 KiB ones),
# leaves without writing it. The same steps on a copy in tmpfs give what the
# file must hold.
mkfs.ext4 -q -F -b 4096 "$dev" > /tmp/mkfs.log 2>&1 || { cat /tmp/mkfs.log; fail "mkfs.ext4 -b 4096"; }
mount -t ext4 "$dev" /tmp/mnt || fail "mount ext4 (4 KiB blocks)"
head -c 4096 /dev/urandom > /tmp/prealloc.page
hold_dirty 64
for f in /tmp/prealloc.want /tmp/mnt/prealloc; do
    fallocate -l 1048576 "$f" \
        && dd if=/tmp/prealloc.page of="$f" bs=4096 seek=15 count=1 conv=notrunc 2>/dev/null \
        && truncate -s 61540 "$f" \
        || fail "preallocating $f, writing a page into it and truncating inside that page"
done
sleep 7    # a commit (every 5 s) writes the page
release_dirty
umount /tmp/mnt && mount -t ext4 "$dev" /tmp/mnt || fail "remount ext4 after the commit"
cmp /tmp/prealloc.want /tmp/mnt/prealloc || fail "preallocated, written and truncated file differs after remount"
umount /tmp/mnt
echo "ext4: a page over an unwritten extent, truncated inside and committed, verified after remount"
