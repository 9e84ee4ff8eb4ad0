#!/bin/sh
# workload: ext4 -o data=journal (write_cache_pages -> ext4_writepage -> __ext4_journalled_writepage for mmapped pages): files, mmap exerciser with msync, fio mmap verify, remount, verify
# proves: nr_written
# needs: EXT4_FS
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
fsload ext4 "-o data=journal" mkfs.ext4 -q -F
