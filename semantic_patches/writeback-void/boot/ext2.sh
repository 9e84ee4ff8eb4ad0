#!/bin/sh
# workload: ext2 (mpage_writepages with its block_write_full_page fallback): write, overwrite, truncate, fsync, remount, verify
# proves: nr_written
# needs: EXT2_FS
# timeout: 120
. "$KREFACTOR_BOOT_DIR/lib.sh"
roundtrip ext2 mkfs.ext2 -q -F -b 1024
