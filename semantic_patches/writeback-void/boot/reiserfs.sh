#!/bin/sh
# workload: reiserfs (reiserfs_writepage -> reiserfs_write_full_page): files, mmap exerciser, fio mmap verify, remount, verify; then fsync raced by truncation to zero (truncrace.py), so that ->writepage meets pages wholly past the end of the file, and the file's last content verified after a remount
# proves: nr_written
# needs: REISERFS_FS
# timeout: 300
. "$KREFACTOR_BOOT_DIR/lib.sh"
fsload reiserfs "" mkfs.reiserfs -q -f -f
truncation_race reiserfs
echo "reiserfs: fsync raced by truncation for 30 s, the last content verified after remount"
