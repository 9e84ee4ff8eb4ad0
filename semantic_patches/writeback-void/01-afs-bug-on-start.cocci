// SPDX-License-Identifier: GPL-2.0-only
/// folio_start_writeback() is about to return void: stop asserting on its
/// return value. The callers hold the folio lock and have just cleared the
/// dirty flag, so writeback cannot already be set and the BUG() never fired.
//
// Confidence: High
// Options: --no-includes

virtual patch
virtual report

@r depends on patch@
expression F;
@@
- if (folio_start_writeback(F))
-	BUG();
+ folio_start_writeback(F);

@rep depends on report@
expression F;
position p;
@@
  if (folio_start_writeback@p(F))
	BUG();

@script:python depends on report@
p << rep.p;
@@
coccilib.report.print_report(p[0], "return value of folio_start_writeback() asserted with BUG()")
