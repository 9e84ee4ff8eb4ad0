#!/bin/sh
# workload: tmpfs overflowing into a 32 MiB swap, smaller than the overflow: reclaim writes tmpfs pages to swap until it is full, and then frees only file pages (without free swap it scans no swap-backed pages, so shmem_writepage()'s redirty exit is not reached here: shmem-pageout reaches it); no OOM where the base has none
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
# 16 MiB more zeroes than the memory available now, into 32 MiB of swap:
# reclaim must write tmpfs pages to swap, and does so while memory is at its
# edge. 40 MiB more ran the base out of memory: what does not fit in memory
# plus swap is an OOM at every commit, and proves nothing. Sized from MemAvailable
# after dropping caches, so that what earlier workloads left does not move
# the edge (a fixed 240 MiB ran the base out of memory after 20 workloads).
# dd may fail for want of memory (ENOSPC, ENOMEM); the kernel must not kill
# processes for it.
drop_caches
avail=$(mem_available)
count=$((avail + 16))
note "MemAvailable ${avail} MiB: writing ${count} MiB"
dd if=/dev/zero of=/tmp/edge/zero bs=1M count="$count" 2>/tmp/dd.err || note "dd: $(tail -n 1 /tmp/dd.err)"
[ "$(md5sum < /tmp/edge/rand)" = "$want" ] || fail "tmpfs data differs after swap-in"
rm -f /tmp/edge/zero /tmp/edge/rand
umount /tmp/edge || fail "umount tmpfs"
swapoff "$swapdev" || fail "swapoff"
echo "swap-edge: swap full and drained, pswpout=$(vmstat pswpout)"
