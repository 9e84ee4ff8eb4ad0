// SPDX-License-Identifier: GPL-2.0-only
/// Replace strlcpy() with strscpy() where the conversion keeps the meaning:
///  - the return value is not used: strlcpy(d, s, n); -> strscpy(d, s, n);
///  - the value only tests for truncation, strlcpy(d, s, n) >= n (or
///    n <= strlcpy(d, s, n)): strscpy() returns -E2BIG exactly then, so the
///    test becomes strscpy(d, s, n) < 0.
/// Every other use of the value is left and reported: strlcpy() returns
/// strlen(src), strscpy() the number of bytes copied or -E2BIG, so a length
/// computed from it changes on truncation.
//
// Confidence: High
// Options: --no-includes

virtual patch
virtual report

@initialize:python@
@@
# Keyed by file too: krefactor may give spatch many files in one run.
calls = {}                # (file, line, column) -> position, every strlcpy() call
converted = {}            # (file, line, column) -> why

def at(p):
    return (p.file, p.line, p.column)

def site(p, verdict, why):
    print("krefactor-site:%s:%s:%s:%s:%s:%s" % (p.file, p.line, p.column,
          verdict, p.current_element, why))

// Everything is found before anything changes: spatch re-parses a file
// after a rule changes it, and positions found later name a fragment.
@call@
expression D, S, N;
position p;
@@
  strlcpy@p(D, S, N)

@script:python@
p << call.p;
@@
calls[at(p[0])] = p[0]

@unused@
expression D, S, N;
position p;
@@
  strlcpy@p(D, S, N);

@script:python@
p << unused.p;
@@
converted[at(p[0])] = "return value unused"

@truncation@
expression D, S, N;
position p;
@@
(
  strlcpy@p(D, S, N) >= N
|
  N <= strlcpy@p(D, S, N)
)

@script:python@
p << truncation.p;
@@
converted[at(p[0])] = "truncation test"

@convert depends on patch@
expression D, S, N;
position p : script:python() { at(p[0]) in converted };
@@
(
- strlcpy@p(D, S, N);
+ strscpy(D, S, N);
|
- strlcpy@p(D, S, N) >= N
+ strscpy(D, S, N) < 0
|
- N <= strlcpy@p(D, S, N)
+ strscpy(D, S, N) < 0
)

@finalize:python@
@@
for key in sorted(calls):
    p = calls[key]
    if key in converted:
        site(p, "changed", converted[key])
    elif p.current_element == "something_else":
        site(p, "left", "in a macro definition: its uses are the sites, and the macro "
             "may be used for its value")
    else:
        site(p, "left", "its return value is used other than to test for truncation: "
             "strlcpy() returns strlen(src), strscpy() the bytes copied or -E2BIG, "
             "so the value changes when the source does not fit")
