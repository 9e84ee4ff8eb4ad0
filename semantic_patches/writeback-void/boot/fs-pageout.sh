#!/bin/sh
# workload: reclaim finds dirty file pages and kswapd hands them to ->writepage itself (pageout): reiserfs data=journal (reiserfs_write_full_page() redirties under PF_MEMALLOC), ext4 (ext4_writepage() bails out of delayed allocation, when kswapd gets to a page before the flusher) and f2fs (f2fs_write_node_page() redirties a regular file's dnode outside data-integrity writeback); verified after remount
# proves: nr_vmscan_write
# needs: REISERFS_FS EXT4_FS F2FS_FS
# timeout: 600
. "$KREFACTOR_BOOT_DIR/lib.sh"
# pressure FSTYPE "MOUNT ARGS" MKFS...: fill the page cache with dirty pages
# that no flusher writes (periodic writeback off, background writeback above
# them), then make memory scarce with anonymous memory and no swap, so that
# reclaim can only free file pages and meets them dirty. On ext4 the
# flusher, woken by reclaim, may clean every page before kswapd comes back
# to one: in one run reclaim wrote none itself at the base or the tip, in
# another the tip's gcov kernel ran ext4_writepage()'s bail-out. fuse is not
# here: under this pressure its phase overran the 7 minutes at the base, and
# with a quarter of the data on the tip's gcov kernel: reclaim waits on
# fuse2fs, a process that needs memory too.
mnt() { mount -t "$fstype" $args "$dev" /tmp/mnt; }
unmnt() { umount /tmp/mnt; }
pressure() {
    fstype=$1 args=$2; shift 2
    dev=$(disk 1)
    "$@" "$dev" > /tmp/mkfs.log 2>&1 || { cat /tmp/mkfs.log; fail "mkfs for $fstype failed"; }
    mkdir -p /tmp/mnt
    mnt || fail "mount $fstype $args"
    drop_caches
    avail=$(mem_available)
    files=$((avail / 2 / 8))
    hold_dirty "$avail"
    n=0
    while [ $n -lt $files ]; do
        /usr/bin/python3 "$KREFACTOR_BOOT_DIR/dirty.py" "/tmp/mnt/m$n" 4194304 "$n" || fail "dirtying m$n on $fstype"
        head -c 4194304 /dev/urandom > "/tmp/mnt/w$n"
        n=$((n + 1))
    done
    (cd /tmp/mnt && md5sum w*) > /tmp/sums
    dirty=$(vmstat nr_dirty) before=$(vmstat nr_vmscan_write)
    # Anonymous memory for all but 48 MiB of what is available: only the
    # dirty file pages can make room for it. (24 MiB short ran the tip out of
    # memory once on reiserfs, with no page left dirty: too near the edge.)
    avail=$(mem_available)
    /usr/bin/python3 -c "import time; b = b'x' * ($avail - 48) * 1048576; time.sleep(2)" \
        || fail "allocating $((avail - 48)) of $avail MiB available, with $dirty dirty pages on $fstype"
    note "$fstype${args:+ $args}: $dirty dirty pages, $((avail - 48)) of $avail MiB taken; reclaim wrote $(( $(vmstat nr_vmscan_write) - before )) pages itself"
    release_dirty
    drop_caches
    unmnt || fail "umount $fstype"
    mnt || fail "mount $fstype again"
    (cd /tmp/mnt && md5sum -c --quiet /tmp/sums) || fail "written files differ on $fstype after remount"
    n=0
    while [ $n -lt $files ]; do
        /usr/bin/python3 "$KREFACTOR_BOOT_DIR/dirty.py" --check "/tmp/mnt/m$n" 4194304 "$n" \
            || fail "mapped file m$n differs on $fstype after remount"
        n=$((n + 1))
    done
    unmnt || fail "umount $fstype"
    echo "$fstype${args:+ $args}: $((files * 2)) files through reclaim with dirty pages, verified after remount"
}
pressure reiserfs "-o data=journal" mkfs.reiserfs -q -f -f
pressure ext4 "" mkfs.ext4 -q -F
pressure f2fs "" mkfs.f2fs -f -q
