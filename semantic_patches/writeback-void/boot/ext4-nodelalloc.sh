#!/bin/sh
# workload: ext4 -o nodelalloc (block allocation at write time, ext4_writepage's redirty and keepwrite paths): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: EXT4_FS
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
fsload ext4 "-o nodelalloc" mkfs.ext4 -q -F
