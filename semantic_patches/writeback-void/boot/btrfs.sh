#!/bin/sh
# workload: btrfs (extent_writepages and its own start): write, overwrite, truncate, fsync, remount, verify
# proves: nr_written
# needs: BTRFS_FS
# timeout: 180
. "$KREFACTOR_BOOT_DIR/lib.sh"
roundtrip btrfs mkfs.btrfs -q -f
