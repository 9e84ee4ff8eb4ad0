// SPDX-License-Identifier: GPL-2.0-only
/// Make __folio_start_writeback() (and so folio_start_writeback()) and
/// set_page_writeback() return void. No caller uses the value any more.
/// The local that held the old flag value stays: it still decides whether
/// the writeback statistics are updated.
//
// Confidence: High
// Options: --no-includes

virtual patch
virtual report

@def depends on patch@
identifier f = {__folio_start_writeback, set_page_writeback};
type T;
identifier x;
expression E;
@@
- T
+ void
  f(...)
  {
  <...
(
- return x;
|
- return E;
+ E;
)
  ...>
  }

@proto depends on patch@
identifier f = {__folio_start_writeback, set_page_writeback};
type T;
@@
- T
+ void
  f(...);

@rep depends on report@
identifier f = {__folio_start_writeback, set_page_writeback};
type T;
position p;
@@
  T f@p(...) { ... }

@rep_proto depends on report@
identifier f = {__folio_start_writeback, set_page_writeback};
type T;
position p;
@@
  T f@p(...);

@script:python depends on report@
p << rep.p;
f << rep.f;
T << rep.T;
@@
if T != "void":
    coccilib.report.print_report(p[0], "%s() returns %s, can return void" % (f, T))

@script:python depends on report@
p << rep_proto.p;
f << rep_proto.f;
T << rep_proto.T;
@@
if T != "void":
    coccilib.report.print_report(p[0], "%s() is declared to return %s, can return void" % (f, T))
