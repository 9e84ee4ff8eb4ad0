#!/bin/sh
# workload: compaction, and soft offline of mapped dirty pages, on fuse (fuse2fs over ext4), whose ->writepage migration must call (no migrate_folio: fallback_migrate_folio -> writeout), its congestion threshold at 0 meanwhile; verified after remount
# proves: pgmigrate_success
# needs: FUSE_FS EXT4_FS COMPACTION MIGRATION X86_MCE MEMORY_FAILURE ADVISE_SYSCALLS
# timeout: 300
. "$KREFACTOR_BOOT_DIR/migrate.sh"
watch 280
migrate fuse mkfs.ext4 -q -F
