#!/bin/sh
# workload: jfs (jfs_writepage -> block_write_full_page, metapage writeback): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: JFS_FS
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
fsload jfs "" mkfs.jfs -q
