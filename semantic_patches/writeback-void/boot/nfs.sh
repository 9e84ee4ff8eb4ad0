#!/bin/sh
# workload: NFSv3 over loopback inside the guest (kernel nfsd exporting ext4; nfs_writepages -> nfs_writepages_callback, nfs_writepage from migration): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: NFS_FS NFS_V3 NFSD INOTIFY_USER EXT4_FS
# (nfsd depends on FSNOTIFY, which no one can enable but a notifier that selects it)
# timeout: 420
. "$KREFACTOR_BOOT_DIR/lib.sh"
do_mount() {
    mountpoint -q /tmp/exp || nfs_server
    mount -t nfs -o vers=3,proto=tcp,nolock 127.0.0.1:/tmp/exp /tmp/mnt
}
do_umount() { umount /tmp/mnt; }
fsload nfs "" mkfs.ext4 -q -F
nfs_server_stop
