#!/bin/sh
# workload: tmpfs pages handed to shmem_writepage() by madvise(MADV_PAGEOUT), which reclaims a mapping's pages whether or not swap has room (reclaim proper scans no swap-backed pages without free swap): with no swap, and with an 8 MiB swap that 24 MiB overflow, shmem_writepage() redirties them (AOP_WRITEPAGE_ACTIVATE); what fits goes to swap; every byte checked through the mapping and read(2) (gcov at the tip: shmem_writepage()'s redirty exit under reclaim ran)
# proves: pswpout
# needs: SWAP SHMEM TMPFS ADVISE_SYSCALLS
# timeout: 180
. "$KREFACTOR_BOOT_DIR/lib.sh"
[ -z "$(tail -n +2 /proc/swaps)" ] || fail "swap is on before the workload: $(tail -n +2 /proc/swaps)"
mkdir -p /tmp/po
mount -t tmpfs -o size=64m tmpfs /tmp/po || fail "mount tmpfs"
/usr/bin/python3 "$KREFACTOR_BOOT_DIR/pageout.py" /tmp/po/noswap 16 1 || fail "tmpfs with no swap"
swapdev=$(disk 2)
mkswap "$swapdev" 8192 > /dev/null || fail "mkswap"
swapon "$swapdev" || fail "swapon"
/usr/bin/python3 "$KREFACTOR_BOOT_DIR/pageout.py" /tmp/po/full 24 2 || fail "tmpfs into a full swap"
rm -f /tmp/po/noswap /tmp/po/full
umount /tmp/po || fail "umount tmpfs"
swapoff "$swapdev" || fail "swapoff"
echo "shmem-pageout: 40 MiB of tmpfs through MADV_PAGEOUT with no swap and a full one, verified"
