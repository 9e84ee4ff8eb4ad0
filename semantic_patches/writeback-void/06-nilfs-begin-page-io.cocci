// SPDX-License-Identifier: GPL-2.0-only
/// Once the VFS starts writeback before it calls ->writepage(), a page can
/// be under writeback for a moment while its lock is held, before the
/// filesystem ends it again at an exit that does no I/O. A segment
/// constructor that reads the flag without the page lock, to skip a page
/// it has already started (split b-tree node pages), can take such a page
/// for one of its own, write it without starting writeback, and end
/// writeback on it at completion, when nothing has it under writeback.
/// Read the flag only for the pages that check exists for: b-tree node
/// pages, which have no ->writepage(). Other pages are locked first, so
/// the VFS's start and end are both over.
//
// Confidence: High (nilfs2: nilfs_begin_page_io())
// Options: --no-includes

virtual patch
virtual report

@r depends on patch@
identifier fn;
identifier P;
@@
fn(struct page *P)
{
  if (!P ||
-     PageWriteback(P)
+     (buffer_nilfs_node(page_buffers(P)) && PageWriteback(P))
  )
	return;
  lock_page(P);
  ...
}

@rep depends on report@
identifier fn;
identifier P;
position p;
@@
fn(struct page *P)
{
  if (!P || PageWriteback@p(P))
	return;
  lock_page(P);
  ...
}

@script:python depends on report@
p << rep.p;
@@
coccilib.report.print_report(p[0], "writeback flag read before the page lock")
