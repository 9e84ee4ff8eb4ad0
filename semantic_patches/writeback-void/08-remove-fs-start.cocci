// SPDX-License-Identifier: GPL-2.0-only
/// The VFS now starts writeback before it hands a folio to ->writepage() or
/// to a write_cache_pages() callback. Remove the filesystem's own, now
/// redundant, set_page_writeback() / folio_start_writeback() from the code
/// reached from there: the ->writepage method named in an
/// address_space_operations initializer, the callback passed to
/// write_cache_pages(), and the functions of the same file they call.
/// A start that is conditional, sits in a loop over several pages (the
/// filesystem's own writeback loop) or next to keepwrite is left alone and
/// reported, as is a start outside that scope. An assertion that writeback
/// is not yet set, right before a removed start, now asserts that it is. A function qualifies only
/// when every way into it passes through the VFS: it is static, and each of
/// its callers in the file qualifies too (a ->writepage method or callback
/// is also entered from the VFS itself).
//
// Confidence: Moderate
// Options: --no-includes

virtual patch
virtual report

@initialize:python@
@@
import collections
roots = collections.defaultdict(set)
edges = collections.defaultdict(set)
statics = collections.defaultdict(set)
keepwrite = collections.defaultdict(set)
inloop = []
incond = []
removable = set()
API = {"set_page_writeback", "set_page_writeback_keepwrite", "folio_wait_start_writeback"}

def removable_at(p):
    return (p[0].file, p[0].line, p[0].column) in removable

def inside(p, ranges):
    at = (int(p.line), int(p.column))
    return any(f == p.file and (int(l0), int(c0)) <= at <= (int(l1), int(c1))
               for f, l0, c0, l1, c1 in ranges)

def reached(path):
    """Functions reached from the roots through calls in this file."""
    seen = set(roots[path])
    todo = list(seen)
    while todo:
        fn = todo.pop()
        for caller, callee in edges[path]:
            if caller == fn and callee not in seen:
                seen.add(callee)
                todo.append(callee)
    return seen

def covered(path):
    # The reached functions minus those with a way in that bypasses the VFS,
    # to a fixed point.
    seen = reached(path)
    changed = True
    while changed:
        changed = False
        for fn in sorted(seen):
            callers = {c for c, d in edges[path] if d == fn and c != fn}
            entry_ok = fn in roots[path] or fn in statics[path]
            if not entry_ok or not callers <= seen:
                seen.discard(fn)
                changed = True
    return seen

# Its kind is "unreached": krefactor checks the claim across the tree.
UNREACHED = "not reached from a ->writepage method or write_cache_pages() callback"

def why_not(path, fn):
    if fn in keepwrite[path]:
        return "keepwrite in the same function"
    seen = covered(path)
    if fn in seen:
        return None
    if fn not in reached(path):
        return UNREACHED
    if fn not in roots[path] and fn not in statics[path]:
        return "%s() is not static: callers outside this file may rely on it" % fn
    return "%s() is reachable other than through a ->writepage method or write_cache_pages() callback" % fn

def site(p, verdict, why):
    # One line per site, read by krefactor.
    print("krefactor-site:%s:%s:%s:%s:%s:%s" % (p.file, p.line, p.column,
          verdict, p.current_element, why))

@aops@
identifier ops, f;
position p;
@@
  struct address_space_operations ops = { .writepage = f@p, };

@script:python@
f << aops.f;
p << aops.p;
@@
roots[p[0].file].add(f)

@wcp@
identifier f;
expression E1, E2, E3;
position p;
@@
  write_cache_pages(E1, E2, f@p, E3)

@script:python@
f << wcp.f;
p << wcp.p;
@@
roots[p[0].file].add(f)

@static_fn@
identifier fn;
type T;
position p;
@@
  static T fn@p(...) { ... }

@script:python@
fn << static_fn.fn;
p << static_fn.p;
@@
statics[p[0].file].add(fn)

// The enclosing function comes from the position: matching whole function
// bodies with <... ...> is too slow on large writeback functions.
@calls@
identifier callee;
position p;
@@
  callee@p(...)

@script:python@
callee << calls.callee;
p << calls.p;
@@
edges[p[0].file].add((p[0].current_element, callee))

@kw@
position p;
@@
  \(set_page_writeback_keepwrite@p\|folio_start_writeback_keepwrite@p\)(...)

@script:python@
p << kw.p;
@@
keepwrite[p[0].file].add(p[0].current_element)
if p[0].current_element not in API:
    site(p[0], "left", "keepwrite: the start keeps the page tagged for writeback")

// Branch and loop bodies are recorded as ranges, from the position of their
// opening brace to that of their closing one, and the starts inside them are
// found in Python: matching the calls themselves inside <+... ...+> or
// { ... S ... } takes minutes on ceph's writeback functions. An unbraced
// body is its single statement. spatch 1.1.1 rejects "do S while (E);"
// with "not supported", so do-while bodies are not seen as loops.
@branch@
statement S, S2;
statement list SL;
position r, q;
expression E;
@@
(
  if (E) {@r SL }@q else S2
|
  if (E) S else {@r SL }@q
|
  if (E) {@r SL }@q
|
  if (E) S@r@q else S2
|
  if (E) S else S2@r@q
|
  if (E) S@r@q
)

@script:python@
r << branch.r;
q << branch.q;
@@
incond.append((r[0].file, r[0].line, r[0].column, q[0].line_end, q[0].column_end))

@loop@
statement S;
statement list SL;
position r, q;
expression E1, E2, E3;
iterator I;
@@
(
  for (E1;E2;E3) {@r SL }@q
|
  while (E1) {@r SL }@q
|
  I(...) {@r SL }@q
|
  for (E1;E2;E3) S@r@q
|
  while (E1) S@r@q
|
  I(...) S@r@q
)

@script:python@
r << loop.r;
q << loop.q;
@@
inloop.append((r[0].file, r[0].line, r[0].column, q[0].line_end, q[0].column_end))

@start@
expression P;
position p;
@@
(
  set_page_writeback@p(P);
|
  folio_start_writeback@p(P);
)

@script:python classify@
p << start.p;
@@
fn = p[0].current_element
# The API's own wrappers (set_page_writeback() itself...) are not call sites.
if fn not in API:
    if inside(p[0], inloop):
        why = "inside the filesystem's own writeback loop"
    elif inside(p[0], incond) and fn not in keepwrite[p[0].file]:
        why = "conditional start"
    else:
        why = why_not(p[0].file, fn)
    site(p[0], ("left/unreached" if why == UNREACHED else "left") if why else "removed",
         why or "")
    if not why:
        removable.add((p[0].file, p[0].line, p[0].column))

// A start is often guarded by BUG_ON(PageWriteback(page)): the VFS has now
// set the flag, so the assertion is turned around rather than dropped.
// The positions are chosen by a script constraint rather than inherited:
// spatch does not let a position be inherited past a rule that modified
// the code, and one rule with a disjunction tags the start twice.
@pair depends on patch@
position p : script:python() { removable_at(p) };
expression P;
@@
- BUG_ON(PageWriteback(P));
+ BUG_ON(!PageWriteback(P));
- set_page_writeback@p(P);

@single depends on patch@
position p : script:python() { removable_at(p) };
expression P;
@@
(
- set_page_writeback@p(P);
|
- folio_start_writeback@p(P);
)
