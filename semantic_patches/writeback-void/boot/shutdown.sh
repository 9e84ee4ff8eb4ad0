#!/bin/sh
# workload: xfs and f2fs shut down (xfs_io shutdown) with dirty pages in the page cache: writeback errors out (iomap's block mapping fails; f2fs's checkpoint error), sync returns, unmount, mount again, data synced before verified
# proves: nr_written
# needs: XFS_FS F2FS_FS
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
# shut FSTYPE MKFS...: files synced, more dirtied (write and shared mmap, no
# flusher), the filesystem shut down without flushing its log; then writeback
# of what is dirty must fail cleanly: sync and fsync return, unmount works.
shut() {
    fstype=$1; shift
    dev=$(disk 1)
    "$@" "$dev" > /tmp/mkfs.log 2>&1 || { cat /tmp/mkfs.log; fail "mkfs for $fstype failed"; }
    mkdir -p /tmp/mnt
    mount -t "$fstype" "$dev" /tmp/mnt || fail "mount $fstype"
    make_files /tmp/mnt /tmp/sums
    sync
    echo 0 > /proc/sys/vm/dirty_writeback_centisecs
    for n in 1 2 3 4; do head -c 1000000 /dev/urandom > "/tmp/mnt/late$n"; done
    /usr/bin/python3 "$KREFACTOR_BOOT_DIR/dirty.py" /tmp/mnt/mapped 2000000 || fail "dirtying a mapping on $fstype"
    dirty=$(vmstat nr_dirty)
    xfs_io -x -c shutdown /tmp/mnt || fail "xfs_io shutdown on $fstype"
    echo 500 > /proc/sys/vm/dirty_writeback_centisecs
    sync
    errs=0
    for f in /tmp/mnt/late1 /tmp/mnt/late2 /tmp/mnt/mapped; do
        sync "$f" 2>/dev/null || errs=$((errs + 1))
    done
    note "$fstype shut down with $dirty dirty pages; fsync failed on $errs of 3 files afterwards"
    umount /tmp/mnt || fail "umount $fstype after shutdown"
    mount -t "$fstype" "$dev" /tmp/mnt || fail "mount $fstype after shutdown"
    (cd /tmp/mnt && md5sum -c --quiet /tmp/sums) || fail "data synced before the shutdown differs on $fstype"
    umount /tmp/mnt || fail "umount $fstype"
    echo "$fstype: shut down with dirty pages, mounted again, $(wc -l < /tmp/sums) files synced before verified"
}
shut xfs mkfs.xfs -q -f
shut f2fs mkfs.f2fs -f -q
