#!/bin/sh
# workload: nilfs2 (nilfs_writepage and its segment constructor): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: NILFS2_FS
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
# mount -i: the mount helper starts nilfs_cleanerd, which fails on the read-only root.
fsload nilfs2 "-i" mkfs.nilfs2 -f -q
