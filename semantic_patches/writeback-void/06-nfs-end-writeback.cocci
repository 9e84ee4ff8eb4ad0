// SPDX-License-Identifier: GPL-2.0-only
/// Once the VFS starts writeback before it calls ->writepage() or a
/// write_cache_pages() callback, nfs_writepage() and
/// nfs_writepages_callback() hand nfs_page_async_flush() a page under
/// writeback. Its other way in, nfs_wb_page() through
/// nfs_writepage_locked(), waits for writeback to end first, so at entry
/// the flag is set only by the VFS. nfs_page_async_flush() returns before
/// its own start when the page has no request to write, or when taking the
/// requests fails; nothing ends the VFS's writeback there.
///
/// End it if it is set on the jumps to the exit taken before the start
/// (nfs_set_page_writeback()). After the start, the exits are the
/// filesystem's own: the request is written, or nfs_redirty_request() and
/// nfs_write_error() end writeback through nfs_end_page_writeback().
//
// Confidence: High (nfs: nfs_page_async_flush())
// Options: --no-includes

virtual patch
virtual report

@early depends on patch exists@
identifier fn, P, req, L;
@@
fn(struct page *P, ...)
{
  ...
  req = nfs_lock_and_join_requests(P);
  ... when != nfs_set_page_writeback(P)
+ if (PageWriteback(P))
+ 	end_page_writeback(P);
  goto L;
  ... when any
}

@rep depends on report exists@
identifier fn, P, req, L;
position p;
@@
fn(struct page *P, ...)
{
  ...
  req = nfs_lock_and_join_requests(P);
  ... when != nfs_set_page_writeback(P)
  goto@p L;
  ... when any
}

@script:python depends on report@
p << rep.p;
@@
coccilib.report.print_report(p[0], "page leaves before its start of writeback, under the VFS's")
