#!/bin/sh
# workload: gfs2 with lock_nolock (gfs2_jdata/aops writepage, its own starts): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: GFS2_FS
# timeout: 300
. "$KREFACTOR_BOOT_DIR/lib.sh"
fsload gfs2 "" mkfs.gfs2 -O -p lock_nolock -j 1
