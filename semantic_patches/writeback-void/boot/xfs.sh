#!/bin/sh
# workload: xfs (iomap_writepage_map via iomap_do_writepage): write, overwrite, truncate, fsync, remount, verify
# proves: nr_written
# needs: XFS_FS
# timeout: 150
. "$KREFACTOR_BOOT_DIR/lib.sh"
roundtrip xfs mkfs.xfs -q -f
