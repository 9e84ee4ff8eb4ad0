#!/bin/sh
# workload: exfat (exfat_writepage -> block_write_full_page): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: EXFAT_FS NLS_CODEPAGE_437 NLS_ISO8859_1
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
fsload exfat "" mkfs.exfat
