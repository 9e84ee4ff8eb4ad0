#!/bin/sh
# workload: ntfs3 (mkntfs from ntfs-3g; ntfs_writepage, ntfs_writepages): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: NTFS3_FS
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
fsload ntfs3 "" mkntfs -F -f -Q -q
