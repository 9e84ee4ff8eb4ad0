// SPDX-License-Identifier: GPL-2.0-only
/// Remove test_set_page_writeback(): it has no callers left.
//
// Confidence: High
// Options: --no-includes

virtual patch
virtual report

@r depends on patch@
type T;
@@
- T test_set_page_writeback(...)
- {
- ...
- }

@rep depends on report@
type T;
position p;
@@
  T test_set_page_writeback@p(...) { ... }

@script:python depends on report@
p << rep.p;
@@
coccilib.report.print_report(p[0], "test_set_page_writeback() can be removed")
