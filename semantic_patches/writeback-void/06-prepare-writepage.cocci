// SPDX-License-Identifier: GPL-2.0-only
/// Prepare the code a ->writepage() method or write_cache_pages() callback
/// reaches for a folio that the VFS has already put under writeback, while
/// keeping it right for a folio that arrives without it, as today:
///  - an assertion that writeback is not set, guarding the filesystem own
///    start, is dropped (a second start is harmless);
///  - where the folio leaves without I/O (unlocked, or returned locked with
///    AOP_WRITEPAGE_ACTIVATE) or moves to the swap cache, on paths that
///    neither started nor ended writeback before, writeback is ended if it
///    is set. Today it never is there, so the change is inert until the VFS
///    starts writeback.
/// Only functions reached from a hand-off, across the whole tree, are
/// changed: krefactor runs this file once with -D reached=? to list candidate
/// functions (verdict "candidate") and the calls that take the folio before
/// an exit (verdict "callee"), searches the tree, and runs it again in patch
/// mode with -D reached=file:function,... and -D inert=file:callee,... (the
/// callees that the call graph shows start no writeback), and -D
/// always=file:callee,... (callees, of other files too, that start writeback on
/// the folio on every path: the folio leaves them under I/O). With -D
/// reached=* it does both in one run: it lists as with ?, and patches as if
/// every function were reached, each callee outside -D starters=name,...
/// (the functions the call graph shows reach a start) taken as inert;
/// krefactor keeps that patch for a file whose candidates are all reached and
/// none of whose callees is in `always`, and runs the file again otherwise.
/// An exit reached
/// after a call that takes the folio and may start writeback is left, named;
/// so is one reached after the folio was unlocked earlier on the same path
/// (its writeback ended there, and once the folio is locked again it may be
/// another writer's).
//
// Confidence: Moderate
// Options: --no-includes

virtual patch
virtual report

@initialize:python@
reached << virtual.reached;
inert << virtual.inert;
on_every_path << virtual.always;
reaching << virtual.starters;
@@
import collections, re
# reached=? lists the candidate functions; reached=- reaches none;
# reached=* lists them and patches as if all were reached.
LISTING = reached in ("?", "*")
ALL = reached == "*"
R = set(x for x in reached.split(",") if x and x not in "-?*")
INERT = set(x for x in inert.split(",") if x and x not in "-?")
# With reached=*: the names of the functions that reach a start (-D
# starters=); every other callee is inert. "-": none given.
STARTERS = None if reaching == "-" else set(x for x in reaching.split(",") if x)
listed_calls = {}                         # exit -> the callees a listing names
# Callees that start writeback on the folio on every path (always.py, by
# file:function of the call): after one, the folio leaves with I/O.
ALWAYS = set(x for x in on_every_path.split(",") if x and x not in "-?")
objs = collections.defaultdict(set)       # (file, fn) -> names of the hand-off folio
folio_name = {}                           # (file, fn) -> its folio variable, if any
asserts = []
exits = []                                # (pos, kind, name)
after_start = set()                       # exits some path reaches after a start or an end
after_call = {}                           # exit -> the calls that may have started I/O
after_exit = {}                           # exit -> an earlier exit on a path to it
holders = set()                           # ((file, fn), struct variable holding the folio)
every_start = collections.defaultdict(set)  # file -> functions that start writeback on every path
early_rets = collections.defaultdict(set) # (file, fn) -> returns no start of its own precedes
# Calls that take the folio and are known neither to start nor to end writeback.
SAFE = re.compile(r"^(unlock_page|folio_unlock|lock_page|folio_lock|"
                  r"redirty_page_for_writepage|folio_redirty_for_writepage|"
                  r"set_page_dirty|folio_mark_dirty|folio_test_set_dirty|__set_page_dirty_nobuffers|"
                  r"clear_page_dirty_for_io|folio_clear_dirty_for_io|cancel_dirty_page|"
                  r"(Test)?(Set|Clear)?Page[A-Z]\w*|folio_(test|set|clear)_\w+|"
                  r"page_folio|folio_page|page_buffers|folio_buffers|page_has_buffers|"
                  r"page_mapping|folio_mapping|folio_file_mapping|page_offset|folio_pos|"
                  r"folio_size|folio_nr_pages|offset_in_folio|offset_in_page|page_index|"
                  r"folio_index|page_private|folio_get_private|"
                  r"zero_user|zero_user_segment|zero_user_segments|folio_zero_segment|"
                  r"folio_zero_segments|folio_zero_range|flush_dcache_page|flush_dcache_folio|"
                  r"k(un)?map\w*|get_page|put_page|folio_get|folio_put|"
                  r"folio_invalidate|do_invalidatepage|block_invalidatepage|"
                  r"block_invalidate_folio|folio_mark_uptodate|SetPageUptodate|"
                  r"folio_alloc_swap|put_swap_folio|folio_mapped|page_mapped|add_to_swap_cache|"
                  r"mapping_set_error|split_huge_page|trace_\w+|iomap_page_create|i_blocks_per_folio|"
                  # iomap_writeback_ops.discard_folio: only xfs_discard_folio in 6.1,
                  # which punches out delalloc blocks and invalidates the folio.
                  r"discard_folio|"
                  # Macros and helpers that only look: a debug print, the
                  # superblock of a page, the fscache wait, buffer set-up, and
                  # nilfs clearing the dirty state of a page and its buffers.
                  r"p9_debug|F2FS_P_SB|wait_on_page_fscache|create_empty_buffers|"
                  r"nilfs_clear_dirty_page|"
                  r"folio_start_writeback|folio_start_writeback_keepwrite|"
                  r"set_page_writeback|set_page_writeback_keepwrite|"
                  r"folio_end_writeback|end_page_writeback)$")

def key(p):
    return (p.file, p.current_element)

def here(p):
    return (p.file, p.line, p.column)

def site(p, verdict, why):
    print("krefactor-site:%s:%s:%s:%s:%s:%s" % (p.file, p.line, p.column,
          verdict, p.current_element, why))

def in_reach(p):
    return ALL or "%s:%s" % (p[0].file, p[0].current_element) in R

def ok(e):
    return in_reach([e]) and here(e) not in after_start and \
        here(e) not in after_call and here(e) not in after_exit

def end_here(p, kinds):
    return any(here(e) == here(p[0]) and k in kinds and ok(e) for e, k, n in exits)

def obj(p):
    return next(n for e, k, n in exits if here(e) == here(p[0]))

def drop(p):
    return any(here(a) == here(p[0]) for a in asserts) and in_reach(p)

def called_before(u, c, g):
    """`g`, called at `c` with the folio, comes before the exit at `u`."""
    if SAFE.match(g):
        return
    if LISTING and g not in every_start[c.file]:
        calls = listed_calls.setdefault(here(u), [])
        if g not in calls:
            calls.append(g)
    if "%s:%s" % (c.file, g) in INERT or (STARTERS is not None and g not in STARTERS):
        return
    if g in every_start[c.file] or "%s:%s" % (c.file, g) in ALWAYS:
        after_start.add(here(u))
        return
    calls = after_call.setdefault(here(u), [])
    if g not in calls:
        calls.append(g)

def holds(p, S, X):
    """The structure `S` carries the folio `X` of the function at `p`."""
    if X in objs[key(p)]:
        holders.add((key(p), S))

def exit_at(u, kind, X=None):
    fn = key(u)
    if X is None:           # returned locked: the folio of the function, else its page
        X = folio_name.get(fn) or next(iter(sorted(objs[fn])), None)
        if X is None:
            return
        kind = ("aop-" if kind is None else kind + "-") + \
            ("folio" if X == folio_name.get(fn) else "page")
    elif X not in objs[fn]:
        return
    exits.append((u, kind, X))

// The folio handed over: a page or folio parameter, or a folio local
// made from one with page_folio().
@param_page@
identifier fn, P;
position p;
@@
  fn@p(..., struct page *P, ...) { ... }

@script:python@
fn << param_page.fn;
P << param_page.P;
p << param_page.p;
@@
objs[(p[0].file, fn)].add(P)

@param_folio@
identifier fn, P;
position p;
@@
  fn@p(..., struct folio *P, ...) { ... }

@script:python@
fn << param_folio.fn;
P << param_folio.P;
p << param_folio.p;
@@
objs[(p[0].file, fn)].add(P)
folio_name.setdefault((p[0].file, fn), P)

@alias@
identifier V, P;
position p;
@@
(
  struct folio *V@p = page_folio(P);
|
  V@p = page_folio(P)
)

@script:python@
V << alias.V;
P << alias.P;
p << alias.p;
@@
if P in objs[key(p[0])]:
    objs[key(p[0])].add(V)
    folio_name.setdefault(key(p[0]), V)

// An assertion that guards the filesystem own start.
@guard exists@
expression X;
position a;
@@
(
  BUG_ON@a(PageWriteback(X));
|
  WARN_ON@a(PageWriteback(X));
|
  WARN_ON_ONCE@a(PageWriteback(X));
|
  WARN_ON_ONCE@a(folio_test_writeback(X));
|
  VM_BUG_ON_PAGE@a(PageWriteback(X), ...);
|
  VM_BUG_ON_FOLIO@a(folio_test_writeback(X), ...);
)
  ... when any
(
  set_page_writeback(X)
|
  set_page_writeback_keepwrite(X)
|
  folio_start_writeback(X)
|
  folio_start_writeback_keepwrite(X)
)

@script:python@
a << guard.a;
@@
asserts.append(a[0])

// Where the folio leaves without I/O: unlocked, returned locked, or moved
// to the swap cache (after which ending writeback would end it against
// the swap mapping, not the one that started it).
@leave_page@
identifier X;
position u;
@@
  unlock_page@u(X);

@script:python@
u << leave_page.u;
X << leave_page.X;
@@
exit_at(u[0], "page", X)

@leave_folio@
identifier X;
position u;
@@
  folio_unlock@u(X);

@script:python@
u << leave_folio.u;
X << leave_folio.X;
@@
exit_at(u[0], "folio", X)

@leave_aop@
position u;
@@
  return AOP_WRITEPAGE_ACTIVATE@u;

@script:python@
u << leave_aop.u;
@@
exit_at(u[0], None)

@leave_move@
identifier X;
position u;
@@
  add_to_swap_cache@u(X, ...)

@script:python@
u << leave_move.u;
X << leave_move.X;
@@
exit_at(u[0], "move", X)

// Paths on which the function already started or ended writeback itself.
@started exists@
expression Y;
position u;
@@
(
  set_page_writeback(Y)
|
  set_page_writeback_keepwrite(Y)
|
  folio_start_writeback(Y)
|
  folio_start_writeback_keepwrite(Y)
|
  __folio_start_writeback(Y, ...)
|
  end_page_writeback(Y)
|
  folio_end_writeback(Y)
)
  ... when any
(
  unlock_page@u(...)
|
  folio_unlock@u(...)
|
  AOP_WRITEPAGE_ACTIVATE@u
|
  add_to_swap_cache@u(...)
)

@script:python@
u << started.u;
@@
after_start.add(here(u[0]))

// Functions of this file that start writeback on the folio they are given
// on every path to their return (cifs_writepage_locked(),
// fuse_writepage_locked()), or end it where they do not (as prepared
// below): for their callers the call is a start of writeback, as their own
// would be, and the folio leaves the call either with I/O under way or with
// writeback ended again.
@starter@
identifier F, X;
type T;
position p;
@@
F@p(..., T X, ...) {
  <+... \(set_page_writeback(X)\|set_page_writeback_keepwrite(X)\|folio_start_writeback(X)\|
         folio_start_writeback_keepwrite(X)\|__folio_start_writeback(X, ...)\) ...+>
}

@script:python@
F << starter.F;
p << starter.p;
@@
every_start[p[0].file].add(F)

@avoids exists@
identifier starter.F, starter.X;
type T;
position q;
@@
F@q(..., T X, ...) {
  ... when != set_page_writeback(X)
      when != set_page_writeback_keepwrite(X)
      when != folio_start_writeback(X)
      when != folio_start_writeback_keepwrite(X)
      when != __folio_start_writeback(X, ...)
      when != end_page_writeback(X)
      when != folio_end_writeback(X)
      when != if (PageWriteback(X)) end_page_writeback(X);
      when != if (folio_test_writeback(X)) folio_end_writeback(X);
}

@script:python@
F << starter.F;
q << avoids.q;
@@
every_start[q[0].file].discard(F)

// Their early ways out: a return that some path reaches before the
// function's own start, and none after a start or an end of writeback
// (v9fs_vfs_write_folio_locked() returns 0 when a truncation raced with it).
// Today writeback is not set there; once the VFS starts it, nothing would
// end it.
@early exists@
identifier starter.F, starter.X;
type T;
position r;
@@
F(..., T X, ...) {
  ...
      when != set_page_writeback(X)
      when != set_page_writeback_keepwrite(X)
      when != folio_start_writeback(X)
      when != folio_start_writeback_keepwrite(X)
      when != __folio_start_writeback(X, ...)
      when != unlock_page(X)
      when != folio_unlock(X)
  return@r ...;
}

@script:python@
F << starter.F;
r << early.r;
@@
early_rets[(r[0].file, F)].add(here(r[0]))

@late exists@
identifier starter.F, starter.X;
type T;
position early.r, l;
@@
F(..., T X, ...) {
  ... when any
(
  set_page_writeback(X)
|
  set_page_writeback_keepwrite(X)
|
  folio_start_writeback(X)
|
  folio_start_writeback_keepwrite(X)
|
  __folio_start_writeback(X, ...)
|
  end_page_writeback(X)
|
  folio_end_writeback(X)
)
  ... when any
  return@r@l ...;
}

@script:python@
F << starter.F;
r << late.l;
@@
early_rets[(r[0].file, F)].discard(here(r[0]))

// A return that hands the folio on (`return swap_writepage_fs(page, wbc);`)
// is no way out without I/O.
@handed_on@
identifier starter.X;
position early.r, l;
@@
  return@r@l <+... X ...+>;

@script:python@
F << starter.F;
r << handed_on.l;
@@
early_rets[(r[0].file, F)].discard(here(r[0]))

// Only where the callee is static and no caller goes on to start writeback
// itself after it returns: __swap_writepage() falls back to a bio of its own
// when bdev_write_page() returns early, and writeback ended there would be
// started again, without the reclaim mark.
@static_fn@
identifier starter.F;
type R;
@@
  static R F(...) { ... }

@fallback exists@
identifier starter.F, Y;
expression list es;
position c;
@@
  F@c(es)
  ... when any
(
  set_page_writeback(Y)
|
  set_page_writeback_keepwrite(Y)
|
  folio_start_writeback(Y)
|
  folio_start_writeback_keepwrite(Y)
|
  __folio_start_writeback(Y, ...)
)

@script:python depends on !static_fn || fallback@
F << starter.F;
r << early.r;
@@
early_rets[(r[0].file, F)].discard(here(r[0]))

// Writeback is ended on the object the function starts it on (ceph starts
// it on the page, not on the folio made from it), so that the early and
// late rules see the end on a second run.
@script:python@
F << starter.F;
X << starter.X;
r << early.r;
@@
if here(r[0]) in early_rets[(r[0].file, F)] and X in objs[key(r[0])] and \
        all(here(e)[:2] != here(r[0])[:2] for e, k, n in exits):
    exits.append((r[0], "ret-folio" if X == folio_name.get(key(r[0])) else "ret-page", X))

// Paths on which the folio went to a function that may have started I/O.
@called exists@
identifier g, X;
expression E;
position c, u;
@@
(
  g@c(..., X, ...)
|
  g@c(..., &X->page, ...)
|
  E->g@c(..., X, ...)
|
  E->g@c(..., &X->page, ...)
)
  ... when any
(
  unlock_page@u(...)
|
  folio_unlock@u(...)
|
  AOP_WRITEPAGE_ACTIVATE@u
|
  add_to_swap_cache@u(...)
)

@script:python@
g << called.g;
X << called.X;
c << called.c;
u << called.u;
@@
if X in objs[key(c[0])] and here(c[0]) != here(u[0]):
    called_before(u[0], c[0], g)

@called_ret exists@
identifier g, X;
expression E;
position c, early.r, l;
@@
(
  g@c(..., X, ...)
|
  g@c(..., &X->page, ...)
|
  E->g@c(..., X, ...)
|
  E->g@c(..., &X->page, ...)
)
  ... when any
  return@r@l ...;

@script:python@
g << called_ret.g;
X << called_ret.X;
c << called_ret.c;
r << called_ret.l;
@@
if X in objs[key(c[0])] and any(here(e) == here(r[0]) for e, k, n in exits):
    called_before(r[0], c[0], g)

// The folio carried in a structure that a call takes: f2fs hands its page
// on in a struct f2fs_io_info (`.page = page`, then `f(&fio)`). Counted for
// every exit below the call in the function: a path search here costs
// minutes on fs/f2fs/data.c.
@holder_init@
identifier S, fld, X;
type T;
position p;
@@
  T S@p = { ..., .fld = X, ... };

@script:python@
S << holder_init.S;
X << holder_init.X;
p << holder_init.p;
@@
holds(p[0], S, X)

@holder_set@
identifier S, fld, X;
position p;
@@
  S.fld@p = X

@script:python@
S << holder_set.S;
X << holder_set.X;
p << holder_set.p;
@@
holds(p[0], S, X)

@holder_call@
identifier S, g;
expression E;
position c;
@@
(
  g@c(..., &S, ...)
|
  E->g@c(..., &S, ...)
)

@script:python@
S << holder_call.S;
g << holder_call.g;
c << holder_call.c;
@@
if (key(c[0]), S) in holders:
    for e, k, n in exits:
        if key(e) == key(c[0]) and int(e.line) > int(c[0].line):
            called_before(e, c[0], g)

// Paths on which the folio was unlocked before: writeback ended there, and
// once the folio is locked again it may be another writer's to end.
@relocked exists@
identifier X;
position u1, u;
@@
(
  unlock_page@u1(X)
|
  folio_unlock@u1(X)
)
  ... when any
(
  unlock_page@u(X)
|
  folio_unlock@u(X)
)

@script:python@
u1 << relocked.u1;
u << relocked.u;
@@
if here(u1[0]) != here(u[0]):
    after_exit.setdefault(here(u[0]), u1[0].line)

// One rule for every change: spatch re-parses a file after each rule
// that changes it, and the positions found above would no longer hold.
@prepare depends on patch@
position a : script:python() { drop(a) };
position u : script:python() { end_here(u, ("page", "folio", "aop-folio", "move")) };
position v : script:python() { end_here(v, ("aop-page",)) };
position w : script:python() { end_here(w, ("ret-folio",)) };
position y : script:python() { end_here(y, ("ret-page",)) };
expression X;
fresh identifier F = script:python(u) { obj(u) };
fresh identifier P = script:python(v) { obj(v) };
fresh identifier G = script:python(w) { obj(w) };
fresh identifier Q = script:python(y) { obj(y) };
statement S1, S2;
@@
(
- BUG_ON@a(PageWriteback(X));
|
- WARN_ON@a(PageWriteback(X));
|
- WARN_ON_ONCE@a(PageWriteback(X));
|
- WARN_ON_ONCE@a(folio_test_writeback(X));
|
- VM_BUG_ON_PAGE@a(PageWriteback(X), ...);
|
- VM_BUG_ON_FOLIO@a(folio_test_writeback(X), ...);
|
+ if (PageWriteback(X))
+ 	end_page_writeback(X);
  unlock_page@u(X);
|
+ if (folio_test_writeback(X))
+ 	folio_end_writeback(X);
  folio_unlock@u(X);
|
+ if (folio_test_writeback(F))
+ 	folio_end_writeback(F);
  return AOP_WRITEPAGE_ACTIVATE@u;
|
+ if (PageWriteback(P))
+ 	end_page_writeback(P);
  return AOP_WRITEPAGE_ACTIVATE@v;
|
+ if (folio_test_writeback(G))
+ 	folio_end_writeback(G);
  return@w ...;
|
+ if (PageWriteback(Q))
+ 	end_page_writeback(Q);
  return@y ...;
|
+ if (folio_test_writeback(X)) {
+ 	bool reclaim = folio_test_reclaim(X);
+
+ 	folio_end_writeback(X);
+ 	if (reclaim)
+ 		folio_set_reclaim(X);
+ }
  if (<+... add_to_swap_cache@u(X, ...) ...+>) S1 else S2
|
+ if (folio_test_writeback(X)) {
+ 	bool reclaim = folio_test_reclaim(X);
+
+ 	folio_end_writeback(X);
+ 	if (reclaim)
+ 		folio_set_reclaim(X);
+ }
  if (<+... add_to_swap_cache@u(X, ...) ...+>) S1
)

@finalize:python@
@@
for a in asserts:
    if LISTING:
        site(a, "candidate", "")
        if not ALL:
            continue
    if in_reach([a]):
        site(a, "changed/assertion", "assertion that writeback is not set dropped")
    else:
        site(a, "left/unreached", "not reached from a ->writepage method or write_cache_pages() callback")
# Functions whose every early return ends writeback (prepared here): for
# their callers the call is a start of writeback, as with `every_start`.
settled = collections.defaultdict(set)
for (f, fn), rets in early_rets.items():
    mine = [e for e, k, n in exits if here(e) in rets and key(e) == (f, fn)]
    if mine and all(ok(e) or here(e) in after_start for e in mine):
        settled[f].add(fn)
for e, k, n in exits:
    if LISTING:
        site(e, "candidate", "")
        for g in listed_calls.get(here(e), []):
            site(e, "callee", g)
        if not ALL:
            continue
    if not in_reach([e]):
        site(e, "left/unreached", "not reached from a ->writepage method or write_cache_pages() callback")
    elif here(e) in after_start:
        pass        # writeback of the function itself: nothing to prepare
    elif here(e) in after_call and all(g in settled[e.file] for g in after_call[here(e)]):
        pass        # the callee starts writeback or ends it on each way out
    elif here(e) in after_call:
        site(e, "left/after-call", "the folio leaves after %s(), which may have started writeback"
             % "(), ".join(after_call[here(e)]))
    elif here(e) in after_exit:
        site(e, "left", "the folio was unlocked before, at line %s, on a path to here; "
             "locked again, its writeback may be another writer's" % after_exit[here(e)])
    elif k == "move":
        site(e, "changed/moves", "writeback ended before the folio moves to the swap cache")
    elif k.startswith("ret-"):
        site(e, "changed/exit", "writeback ended where the function returns before it starts "
             "writeback itself")
    else:
        site(e, "changed/exit", "writeback ended where the folio leaves without I/O")

