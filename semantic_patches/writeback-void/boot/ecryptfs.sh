#!/bin/sh
# workload: ecryptfs over ext4 (generic_writepages -> ecryptfs_writepage, which encrypts into the lower file): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: ECRYPT_FS KEYS CRYPTO_AES EXT4_FS
# timeout: 300
. "$KREFACTOR_BOOT_DIR/lib.sh"
# The mount helper takes the passphrase from the options and puts the key in
# the session keyring; no_sig_cache: it asks nothing and writes nothing under
# the read-only root.
opts=key=passphrase:passphrase_passwd=krefactor,ecryptfs_cipher=aes,ecryptfs_key_bytes=16
opts=$opts,ecryptfs_passthrough=no,ecryptfs_enable_filename_crypto=no,no_sig_cache
do_mount() {
    mkdir -p /tmp/lower
    mountpoint -q /tmp/lower || mount -t ext4 "$dev" /tmp/lower || return 1
    mkdir -p /tmp/lower/crypt
    HOME=/tmp mount -t ecryptfs -o "$opts" /tmp/lower/crypt /tmp/mnt > /tmp/ecryptfs.log 2>&1 \
        || { cat /tmp/ecryptfs.log; return 1; }
}
do_umount() { umount /tmp/mnt && umount /tmp/lower; }
fsload ecryptfs "" mkfs.ext4 -q -F
