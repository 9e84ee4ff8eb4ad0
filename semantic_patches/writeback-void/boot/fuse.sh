#!/bin/sh
# workload: fuse (fuse2fs over an ext4 image: fuse_writepage, fuse_writepages_fill): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: FUSE_FS EXT4_FS
# timeout: 300
. "$KREFACTOR_BOOT_DIR/lib.sh"
# fuse2fs runs as a daemon; unmounting must wait for it to write its image.
do_mount() { fuse2fs "$dev" /tmp/mnt > /tmp/fuse2fs.log 2>&1; }
do_umount() {
    umount /tmp/mnt || return 1
    while pgrep -x fuse2fs > /dev/null; do sleep 0.2; done
}
fsload fuse "" mkfs.ext4 -q -F
