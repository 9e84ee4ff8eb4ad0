#!/bin/sh
# workload: compaction, and soft offline of mapped dirty pages, on gfs2 journaled data (lock_nolock), whose ->writepage migration must call (no migrate_folio: fallback_migrate_folio -> writeout); verified after remount
# proves: pgmigrate_success
# needs: GFS2_FS COMPACTION MIGRATION X86_MCE MEMORY_FAILURE ADVISE_SYSCALLS
# timeout: 300
. "$KREFACTOR_BOOT_DIR/migrate.sh"
watch 280
migrate gfs2 mkfs.gfs2 -O -p lock_nolock -j 1
