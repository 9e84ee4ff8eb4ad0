// SPDX-License-Identifier: GPL-2.0-only
/// Inventory of every reference to strlcpy(), for `krefactor coverage`:
/// calls whose value is discarded or used, the name used as a value,
/// declarations and definitions. One krefactor-ref line per reference.
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
identifier f =~ "^strlcpy$";
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
identifier f =~ "^strlcpy$";
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
identifier f =~ "^strlcpy$";
position p;
@@
  f@p(...);

@script:python@
f << discarded.f;
p << discarded.p;
@@
ref(p[0], "call", f)

@used@
identifier f =~ "^strlcpy$";
position p;
@@
  f@p(...)

@script:python@
f << used.f;
p << used.p;
@@
ref(p[0], "call-value-used", f)

@value@
identifier f =~ "^strlcpy$";
position p;
@@
  f@p

@script:python@
f << value.f;
p << value.p;
@@
ref(p[0], "address-taken", f)
