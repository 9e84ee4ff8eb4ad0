#!/bin/sh
# workload: compaction, and soft offline of mapped dirty pages, also after an emergency read-only remount, on nilfs2, whose ->writepage migration must call (no migrate_folio: fallback_migrate_folio -> writeout); verified after remount
# proves: pgmigrate_success
# needs: NILFS2_FS COMPACTION MIGRATION X86_MCE MEMORY_FAILURE ADVISE_SYSCALLS
# timeout: 420
. "$KREFACTOR_BOOT_DIR/migrate.sh"
watch 400
migrate nilfs2 mkfs.nilfs2 -f -q
