// SPDX-License-Identifier: GPL-2.0-only
/// test_set_page_writeback() is about to go away and set_page_writeback()
/// to return void. The only caller that looks at the result warns when
/// writeback was already set; the page is locked and was just cleaned for
/// I/O, so start writeback unconditionally and drop the warning.
//
// Confidence: High
// Options: --no-includes

virtual patch
virtual report

// Two rules rather than one: removing the declaration and the warning in a
// single rule makes spatch drop the blank line after the declarations.
@r depends on patch@
identifier ret;
expression P;
@@
  int ret = test_set_page_writeback(P);
  ... when != ret
- WARN_ON_ONCE(ret != 0);
+ set_page_writeback(P);

@depends on patch@
identifier r.ret;
expression r.P;
@@
- int ret = test_set_page_writeback(P);

@rep depends on report@
identifier ret;
expression P;
position p;
@@
  int ret = test_set_page_writeback@p(P);

@script:python depends on report@
p << rep.p;
@@
coccilib.report.print_report(p[0], "return value of test_set_page_writeback() only feeds a WARN_ON_ONCE()")
