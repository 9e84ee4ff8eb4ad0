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
