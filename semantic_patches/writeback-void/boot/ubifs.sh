#!/bin/sh
# workload: ubifs on a simulated NAND chip (nandsim, a UBI volume; ubifs_writepage from write_cache_pages): files, mmap exerciser, fio mmap verify, remount, verify; then fsync raced by truncation to zero (truncrace.py), so that ubifs_writepage() may meet a page wholly past the end of the file (its exit that writes nothing), and the file's last content verified after a remount
# proves: nr_written
# needs: MTD MTD_RAW_NAND MTD_NAND_NANDSIM MTD_UBI UBIFS_FS
# timeout: 480
. "$KREFACTOR_BOOT_DIR/lib.sh"
# nandsim, built in, registers its default chip at boot as mtd0: 128 MiB of
# small-page NAND (512-byte pages, 16 KiB erase blocks) held in the guest's
# memory. UBI attaches it (and formats it, as it is blank) and an empty UBI
# volume becomes ubifs on its first mount, so the "mkfs" is a new volume.
ubi_volume() {
    [ -e /dev/ubi0 ] || ubiattach -m 0 > /tmp/ubi.log 2>&1 || { cat /tmp/ubi.log; return 1; }
    ubirmvol /dev/ubi0 -N krefactor > /dev/null 2>&1
    ubimkvol /dev/ubi0 -N krefactor -m
}
grep -q '^mtd0:' /proc/mtd || fail "no mtd0 in /proc/mtd: nandsim did not register its chip"
FSLOAD_DEV=ubi0:krefactor fsload ubifs "" ubi_volume
truncation_race ubifs
ubidetach -m 0 || fail "ubidetach"
