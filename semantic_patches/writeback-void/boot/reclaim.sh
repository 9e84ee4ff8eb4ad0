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
# 8 MiB of random data, written over and over: few processes to start under
# TCG, and the checksum is taken on the way in (tee), not by a second pass.
head -c 8388608 /dev/urandom > /tmp/chunk || fail "writing /tmp/chunk"
n=$((KREFACTOR_MEM_MB * 5 / 4 / 8))
mb=$((n * 8))
want=$(i=0; while [ $i -lt $n ]; do cat /tmp/chunk; i=$((i + 1)); done \
       | tee /tmp/shm/big | md5sum)
[ "$(md5sum < /tmp/shm/big)" = "$want" ] || fail "tmpfs data differs after swap-in"
rm /tmp/shm/big /tmp/chunk
umount /tmp/shm || fail "umount tmpfs"
swapoff "$swapdev" || fail "swapoff"
echo "reclaim: $mb MiB of tmpfs through swap, verified; pswpout=$(vmstat pswpout)"
