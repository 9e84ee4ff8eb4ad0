// SPDX-License-Identifier: GPL-2.0-only
/// Call folio_wait_start_writeback() where the VFS hands a locked folio to
/// the filesystem: before write_cache_pages() calls its callback, and before
/// every direct ->writepage() call that is not itself inside such a
/// callback (the callback already runs after write_cache_pages() started
/// writeback; starting it again there would wait for itself).
//
// Confidence: Moderate
// Options: --no-includes

virtual patch
virtual report

// Hand-off points that already start writeback are left as they are.
@initialize:python@
@@
started = set()

def already(p):
    return (p[0].file, p[0].line) in started

@started@
expression E1, E2;
position p;
@@
  folio_wait_start_writeback(E1);
  E2@p;

@script:python@
p << started.p;
@@
started.add((p[0].file, p[0].line))

@wcp depends on patch@
identifier fn = write_cache_pages;
identifier wp;
expression E, P, W, D;
position p : script:python() { not already(p) };
@@
  fn(...) {
  <...
+ folio_wait_start_writeback(page_folio(P));
  E@p = (*wp)(P, W, D);
  ...>
  }

@cb@
identifier f;
expression E1, E2, E3;
@@
  write_cache_pages(E1, E2, f, E3)

@incb@
identifier cb.f;
expression M, P, W;
position p;
@@
  f(...) { <... M->a_ops->writepage@p(P, W) ...> }

@handoff depends on patch@
expression E, M, F, P, W;
position p != incb.p;
position q : script:python() { not already(q) };
@@
(
+ folio_wait_start_writeback(F);
  E@q = M->a_ops->writepage@p(&F->page, W);
|
+ folio_wait_start_writeback(page_folio(P));
  E@q = M->a_ops->writepage@p(P, W);
)

@rep_call depends on report@
expression M, P, W;
position p != incb.p;
@@
  M->a_ops->writepage@p(P, W)

@script:python depends on report@
p << rep_call.p;
@@
coccilib.report.print_report(p[0], "folio handed to ->writepage(): start writeback here")

@script:python depends on report@
p << incb.p;
f << cb.f;
@@
coccilib.report.print_report(p[0], "left: ->writepage() called from %s(), a write_cache_pages() callback" % f)
