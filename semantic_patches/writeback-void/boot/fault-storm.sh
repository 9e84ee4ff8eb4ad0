#!/bin/sh
# workload: the thread's workload: 10 processes per vCPU write-fault on one shared file page while compaction runs
# proves: pgfault compact_migrate_scanned
# needs: EXT2_FS COMPACTION MIGRATION
# timeout: 180
. "$KREFACTOR_BOOT_DIR/lib.sh"
dev=$(disk 1)
mkfs.ext2 -q -F "$dev" || fail "mkfs.ext2"
mkdir -p /tmp/mnt
mount -t ext2 "$dev" /tmp/mnt || fail "mount ext2"
head -c 4096 /dev/zero > /tmp/mnt/page
procs=$((10 * $(nproc)))
start=$(date +%s)
( for r in $(seq 1 20); do echo 1 > /proc/sys/vm/compact_memory; sync; done ) &
/usr/bin/python3 - "$procs" /tmp/mnt/page <<'PY' || fail "fault storm"
import mmap, os, sys
procs, path = int(sys.argv[1]), sys.argv[2]
fd = os.open(path, os.O_RDWR)
kids = []
for p in range(procs):
    pid = os.fork()
    if pid == 0:
        m = mmap.mmap(fd, 4096, mmap.MAP_SHARED)
        for i in range(3000):
            m[(p * 8 + i) % 4096] = i & 0xff
            if i % 500 == 0:
                m.flush()
        os._exit(0)
    kids.append(pid)
bad = sum(os.waitpid(k, 0)[1] != 0 for k in kids)
sys.exit(1 if bad else 0)
PY
wait
echo "fault-storm: $procs processes finished in $(( $(date +%s) - start ))s"
umount /tmp/mnt || fail "umount"
