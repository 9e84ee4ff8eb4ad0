// SPDX-License-Identifier: GPL-2.0-only
/// Add folio_wait_start_writeback(): wait until the folio is no longer under
/// writeback, then mark it as under writeback. The VFS will call it before it
/// hands a locked folio to the filesystem, so that filesystems no longer have
/// to start writeback themselves.
//
// Confidence: High
// Options: --no-includes

virtual patch
virtual report

// Anchor on the EXPORT_SYMBOL line: anchored on the function, the new code
// would land between __folio_start_writeback() and its export. spatch 1.1.1
// cannot parse a function followed by its declarer in one pattern.
// Nothing to add where the tree already has it.
@have_def@
type T;
@@
  T folio_wait_start_writeback(...) { ... }

@have_proto@
symbol folio;
@@
  void folio_wait_start_writeback(struct folio *folio);

@def depends on patch && !have_def@
identifier f = __folio_start_writeback;
declarer name EXPORT_SYMBOL;
symbol folio;
@@
  EXPORT_SYMBOL(f);
+/**
+ * folio_wait_start_writeback - Wait for writeback to end, then start it.
+ * @folio: The folio to start writeback on.
+ *
+ * Wait until @folio is no longer under writeback, then set its writeback
+ * flag. Called by the VFS before it hands a folio to the filesystem for
+ * writing, so the filesystem does not have to start writeback itself.
+ *
+ * The start keeps PAGECACHE_TAG_TOWRITE, as a keepwrite start does: a
+ * filesystem that writes only part of the folio and redirties the rest
+ * during data-integrity writeback (ext4) needs the tag to survive, and
+ * one that starts writeback itself still clears it there.
+ *
+ * Context: The caller holds the folio lock. May sleep.
+ */
+void folio_wait_start_writeback(struct folio *folio)
+{
+	folio_wait_writeback(folio);
+	folio_start_writeback_keepwrite(folio);
+}
+EXPORT_SYMBOL(folio_wait_start_writeback);

// spatch 1.1.1 applies no rule whose only anchor is a context prototype,
// so the prototype is removed and added back unchanged.
@decl depends on patch && !have_proto@
symbol folio;
@@
- void folio_wait_writeback(struct folio *folio);
+ void folio_wait_writeback(struct folio *folio);
+ void folio_wait_start_writeback(struct folio *folio);

@rep depends on report@
identifier f = __folio_start_writeback;
declarer name EXPORT_SYMBOL;
position p;
@@
  EXPORT_SYMBOL@p(f);

@script:python depends on report@
p << rep.p;
@@
coccilib.report.print_report(p[0], "folio_wait_start_writeback() can be added after this export")
