#!/bin/sh
# workload: tmpfs larger than memory pushed to swap by reclaim (pageout -> shmem_writepage -> swap_writepage), read back, removed
# proves: pswpout nr_vmscan_write
# needs: SWAP
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
swapdev=$(disk 2)
mkswap "$swapdev" > /dev/null || fail "mkswap"
swapon "$swapdev" || fail "swapon"
mkdir -p /tmp/shm
mount -t tmpfs -o size=1g tmpfs /tmp/shm || fail "mount tmpfs"
head -c 1048576 /dev/urandom > /tmp/block
mb=$((KREFACTOR_MEM_MB * 5 / 4))
i=0; while [ $i -lt $mb ]; do cat /tmp/block; i=$((i + 1)); done > /tmp/shm/big \
    || fail "filling tmpfs"
want=$(i=0; while [ $i -lt $mb ]; do cat /tmp/block; i=$((i + 1)); done | md5sum)
[ "$(md5sum < /tmp/shm/big)" = "$want" ] || fail "tmpfs data differs after swap-in"
rm /tmp/shm/big
umount /tmp/shm || fail "umount tmpfs"
swapoff "$swapdev" || fail "swapoff"
echo "reclaim: $mb MiB of tmpfs through swap, verified; pswpout=$(vmstat pswpout)"
