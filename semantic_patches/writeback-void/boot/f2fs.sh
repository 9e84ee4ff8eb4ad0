#!/bin/sh
# workload: f2fs (f2fs_write_data_page, its node and meta writepages): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: F2FS_FS
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
fsload f2fs "" mkfs.f2fs -f -q
