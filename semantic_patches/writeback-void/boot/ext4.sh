#!/bin/sh
# workload: ext4 (its own writeback loop, keepwrite): write, overwrite, truncate, fsync against concurrent redirty, remount, verify
# proves: nr_written
# needs: EXT4_FS
# timeout: 150
. "$KREFACTOR_BOOT_DIR/lib.sh"
roundtrip ext4 mkfs.ext4 -q -F
# fsync while another writer keeps redirtying the same pages (keepwrite path).
dev=$(disk 1)
mount -t ext4 "$dev" /tmp/mnt || fail "mount ext4"
head -c 1048576 /dev/urandom > /tmp/mnt/hot
( i=0; while [ $i -lt 40 ]; do
      dd if=/dev/urandom of=/tmp/mnt/hot bs=4096 seek=$((i % 256)) count=1 conv=notrunc 2>/dev/null
      i=$((i + 1)); done ) &
for i in 1 2 3 4 5 6 7 8 9 10; do sync /tmp/mnt/hot || fail "fsync during redirty"; done
wait
md5sum < /tmp/mnt/hot > /tmp/hot.sum
umount /tmp/mnt && mount -t ext4 "$dev" /tmp/mnt || fail "remount ext4"
[ "$(md5sum < /tmp/mnt/hot)" = "$(cat /tmp/hot.sum)" ] || fail "redirtied file differs after remount"
umount /tmp/mnt
