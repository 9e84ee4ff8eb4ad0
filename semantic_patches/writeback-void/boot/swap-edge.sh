#!/bin/sh
# workload: tmpfs overflowing into a 32 MiB swap, smaller than the overflow (swap full: shmem_writepage redirties, AOP_WRITEPAGE_ACTIVATE); no OOM where the base has none
# proves: pswpout
# needs: SWAP
# timeout: 180
. "$KREFACTOR_BOOT_DIR/lib.sh"
swapdev=$(disk 2)
mkswap "$swapdev" 32768 > /dev/null || fail "mkswap"
swapon "$swapdev" || fail "swapon"
mkdir -p /tmp/edge
mount -t tmpfs -o size=400m tmpfs /tmp/edge || fail "mount tmpfs"
head -c 8388608 /dev/urandom > /tmp/edge/rand || fail "writing random data"
want=$(md5sum < /tmp/edge/rand)
# 240 MiB of zeroes into 256 MiB of memory and 32 MiB of swap: swap fills, and
# shmem_writepage finds no slot. dd may fail for want of memory (ENOSPC,
# ENOMEM); the kernel must not kill processes for it.
dd if=/dev/zero of=/tmp/edge/zero bs=1M count=240 2>/tmp/dd.err || note "dd: $(tail -n 1 /tmp/dd.err)"
[ "$(md5sum < /tmp/edge/rand)" = "$want" ] || fail "tmpfs data differs after swap-in"
rm -f /tmp/edge/zero /tmp/edge/rand
umount /tmp/edge || fail "umount tmpfs"
swapoff "$swapdev" || fail "swapoff"
echo "swap-edge: swap full and drained, pswpout=$(vmstat pswpout)"
