#!/bin/sh
# workload: NFSv3 over loopback inside the guest (kernel nfsd exporting ext4; nfs_writepages -> nfs_writepages_callback, nfs_writepage from migration): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: NFS_FS NFS_V3 NFSD INOTIFY_USER EXT4_FS
# (nfsd depends on FSNOTIFY, which no one can enable but a notifier that selects it)
# timeout: 420
. "$KREFACTOR_BOOT_DIR/lib.sh"
# The server's state directories live on tmpfs over the read-only root; the
# export is given on exportfs's command line, not in /etc/exports. NFSv3
# needs rpcbind for the mount and nothing else; nolock: no statd.
server() {
    ip link set lo up || fail "loopback up"
    for d in /run /var/lib/nfs; do mount -t tmpfs tmpfs "$d" || fail "tmpfs on $d"; done
    mkdir -p /run/rpcbind /var/lib/nfs/sm /var/lib/nfs/v4recovery
    : > /var/lib/nfs/etab; : > /var/lib/nfs/rmtab
    rpcbind -w || fail "rpcbind"
    mount -t nfsd nfsd /proc/fs/nfsd || fail "mount nfsd"
    mkdir -p /tmp/exp
    mount -t ext4 "$dev" /tmp/exp || fail "mount the exported ext4"
    exportfs -o rw,no_root_squash,insecure,no_subtree_check,fsid=1 127.0.0.1:/tmp/exp \
        || fail "exportfs"
    rpc.mountd -N 4 || fail "rpc.mountd"
    rpc.nfsd -N 4 2 || fail "rpc.nfsd"
}
do_mount() {
    mountpoint -q /tmp/exp || server
    mount -t nfs -o vers=3,proto=tcp,nolock 127.0.0.1:/tmp/exp /tmp/mnt
}
do_umount() { umount /tmp/mnt; }
fsload nfs "" mkfs.ext4 -q -F
rpc.nfsd 0
pkill rpc.mountd; pkill rpcbind
exportfs -ua
umount /proc/fs/nfsd /tmp/exp /var/lib/nfs /run
