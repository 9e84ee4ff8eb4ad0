#!/bin/sh
# workload: buffered writes to a raw virtio disk, fsync, read-back compare (blkdev_writepage via generic_writepages)
# proves: nr_written
# timeout: 90
. "$KREFACTOR_BOOT_DIR/lib.sh"
dev=$(disk 1)
head -c 8388608 /dev/urandom > data
dd if=data of="$dev" bs=65536 conv=fsync 2>/dev/null || fail "buffered write + fsync of $dev"
dd if=data of="$dev" bs=1000 seek=4097 count=13 conv=notrunc,fsync 2>/dev/null \
    || fail "partial-page rewrite of $dev"
cp data want
dd if=data of=want bs=1000 seek=4097 count=13 conv=notrunc 2>/dev/null
drop_caches
head -c 8388608 "$dev" | cmp -s - want || fail "read-back of $dev differs from what was written"
echo "bdev: 8 MiB written, partly rewritten, read back and compared"
