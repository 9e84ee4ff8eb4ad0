#!/bin/sh
# workload: compaction in a loop while dirty folios sit on vfat, which has no migrate_folio (fallback_migrate_folio -> writeout)
# proves: pgmigrate_success
# needs: VFAT_FS NLS_CODEPAGE_437 NLS_ISO8859_1 COMPACTION MIGRATION
# timeout: 180
. "$KREFACTOR_BOOT_DIR/lib.sh"
dev=$(disk 1)
mkfs.vfat "$dev" > /dev/null || fail "mkfs.vfat"
mkdir -p /tmp/mnt
mount -t vfat "$dev" /tmp/mnt || fail "mount vfat"
# Keep the pages dirty: no periodic flush, high thresholds.
echo 0 > /proc/sys/vm/dirty_writeback_centisecs
echo 90 > /proc/sys/vm/dirty_ratio
echo 80 > /proc/sys/vm/dirty_background_ratio
for n in 1 2 3 4 5 6 7 8; do head -c 4000000 /dev/urandom > /tmp/mnt/d$n; done
(cd /tmp/mnt && md5sum d*) > /tmp/sums
before=$(vmstat nr_written)
for r in 1 2 3 4 5; do echo 1 > /proc/sys/vm/compact_memory; done
during=$(( $(vmstat nr_written) - before ))
echo 500 > /proc/sys/vm/dirty_writeback_centisecs
if [ "$during" -gt 0 ]; then
    note "pages written during compaction with the flusher off: $during (writeout() from migration)"
else
    note "no page written during compaction: writeout() could not be exercised"
fi
sync; drop_caches
(cd /tmp/mnt && md5sum -c --quiet /tmp/sums) || fail "checksum mismatch after compaction"
umount /tmp/mnt
