#!/bin/sh
# workload: udf (udf_writepage -> block_write_full_page, in-ICB files): files, mmap exerciser, fio mmap verify, remount, verify
# proves: nr_written
# needs: UDF_FS
# timeout: 240
. "$KREFACTOR_BOOT_DIR/lib.sh"
fsload udf "" mkudffs --media-type=hd
