#!/bin/sh
# workload: vfat (fat_writepage -> block_write_full_page): write, overwrite, truncate, fsync, remount, verify
# proves: nr_written
# needs: VFAT_FS NLS_CODEPAGE_437 NLS_ISO8859_1
# timeout: 120
. "$KREFACTOR_BOOT_DIR/lib.sh"
roundtrip vfat mkfs.vfat
