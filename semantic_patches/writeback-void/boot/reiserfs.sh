#!/bin/sh
# workload: reiserfs (reiserfs_writepage -> reiserfs_write_full_page): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: REISERFS_FS
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
fsload reiserfs "" mkfs.reiserfs -q -f -f
