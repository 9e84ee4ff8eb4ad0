// SPDX-License-Identifier: GPL-2.0-only
/// Inventory of every reference to the recipe's symbols and of its hand-off
/// points, for `krefactor coverage`. Prints one krefactor-ref line per
/// reference: calls whose value is discarded or used, the function's name
/// used as a value (address taken or passed on), declarations and
/// definitions, ->writepage() calls and write_cache_pages() callbacks.
/// The symbols are those of recipe.toml, spelled out in the rules below.
//
// Confidence: High
// Options: --no-includes

virtual report

@initialize:python@
@@
seen = set()

def ref(p, kind, sym):
    key = (p.file, p.line, p.column)
    if key in seen:
        return
    seen.add(key)
    print("krefactor-ref:%s:%s:%s:%s:%s:%s" % (p.file, p.line, p.column, kind,
                                               p.current_element, sym))

@defn@
identifier f =~ "^(__folio_start_writeback|folio_start_writeback|folio_start_writeback_keepwrite|set_page_writeback|set_page_writeback_keepwrite|test_set_page_writeback)$";
type T;
position p;
@@
  T f@p(...) { ... }

@script:python@
f << defn.f;
p << defn.p;
@@
ref(p[0], "definition", f)

@decl@
identifier f =~ "^(__folio_start_writeback|folio_start_writeback|folio_start_writeback_keepwrite|set_page_writeback|set_page_writeback_keepwrite|test_set_page_writeback)$";
type T;
position p;
@@
  T f@p(...);

@script:python@
f << decl.f;
p << decl.p;
@@
ref(p[0], "declaration", f)

@discarded@
identifier f =~ "^(__folio_start_writeback|folio_start_writeback|folio_start_writeback_keepwrite|set_page_writeback|set_page_writeback_keepwrite|test_set_page_writeback)$";
position p;
@@
  f@p(...);

@script:python@
f << discarded.f;
p << discarded.p;
@@
ref(p[0], "call", f)

@used@
identifier f =~ "^(__folio_start_writeback|folio_start_writeback|folio_start_writeback_keepwrite|set_page_writeback|set_page_writeback_keepwrite|test_set_page_writeback)$";
position p;
@@
  f@p(...)

@script:python@
f << used.f;
p << used.p;
@@
ref(p[0], "call-value-used", f)

@value@
identifier f =~ "^(__folio_start_writeback|folio_start_writeback|folio_start_writeback_keepwrite|set_page_writeback|set_page_writeback_keepwrite|test_set_page_writeback)$";
position p;
@@
  f@p

@script:python@
f << value.f;
p << value.p;
@@
ref(p[0], "address-taken", f)

@writepage@
expression M;
position p;
@@
  M->a_ops->writepage@p(...)

@script:python@
p << writepage.p;
@@
ref(p[0], "handoff-call", "->writepage")

@callback@
identifier cb;
expression E1, E2, E3;
position p;
@@
  write_cache_pages(E1, E2, cb@p, E3)

@script:python@
cb << callback.cb;
p << callback.p;
@@
ref(p[0], "handoff-callback", cb)

// The VFS's own hand-off: write_cache_pages() calling its callback.
@core@
identifier fn = write_cache_pages;
identifier wp;
position p;
@@
  fn(...) { <... (*wp@p)(...) ...> }

@script:python@
p << core.p;
@@
ref(p[0], "handoff-core", "write_cache_pages")
