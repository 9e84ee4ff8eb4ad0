// SPDX-License-Identifier: GPL-2.0-only
/// Once the VFS starts writeback before it calls ->writepage(), a data page
/// that f2fs_write_data_page() passes to f2fs_write_single_data_page()
/// arrives under writeback. Its other callers (f2fs_write_cache_pages(),
/// f2fs_write_raw_pages()) wait for writeback to end first, so at entry the
/// flag is set only by the VFS. Where the page leaves without I/O, nothing
/// ends that writeback, and a later writer waits on it for ever.
///
/// f2fs_do_write_data_page() starts writeback only on a path that then
/// returns 0 with the write under way: it returns an error before its own
/// start, or after ending writeback when the in-place write fails. So
/// writeback is the VFS's, and ended here, at:
///  - the redirty exit (cp_error on a directory, roll-forward recovery,
///    no free sections for reclaim, or an error from the write);
///  - each jump to the exit that drops the dirty count without I/O
///    (cp_error, beyond EOF, inline data written into the inode page);
///  - -ENOENT from the write (the node is gone: the page was truncated);
///  - in f2fs_do_write_data_page(), the page whose block was already
///    truncated, which returns 0 without I/O; its other caller, the
///    garbage collector's move_data_page(), waits for writeback first.
//
// Confidence: High (f2fs: f2fs_write_single_data_page())
// Options: --no-includes

virtual patch
virtual report

// The function that hands the page to f2fs_do_write_data_page() in a
// struct f2fs_io_info.
@writer@
identifier fn, P, fio, fld;
@@
fn(struct page *P, ...)
{
  ...
  struct f2fs_io_info fio = { ..., .fld = P, ... };
  <+... f2fs_do_write_data_page(&fio) ...+>
}

// Its exit that drops the dirty count of a page it is done with.
@done_exit@
identifier writer.fn, L, I;
@@
fn(...)
{
  <...
L:
  inode_dec_dirty_pages(I);
  ...>
}

@redirty depends on patch@
identifier writer.fn, writer.P, wbc;
@@
fn(struct page *P, ...)
{
  <...
  redirty_page_for_writepage(wbc, P);
+ if (PageWriteback(P))
+ 	end_page_writeback(P);
  ...>
}

@jump depends on patch@
identifier writer.fn, writer.P, done_exit.L;
@@
fn(struct page *P, ...)
{
  <...
+ if (PageWriteback(P))
+ 	end_page_writeback(P);
  goto L;
  ...>
}

@gone depends on patch@
identifier writer.fn, writer.P, R, err;
@@
fn(struct page *P, ...)
{
  <...
  if (err && err != -ENOENT)
  	goto R;
+ if (err && PageWriteback(P))
+ 	end_page_writeback(P);
  ...>
}

@truncated depends on patch@
identifier fn, fio, L;
identifier P;
@@
fn(struct f2fs_io_info *fio)
{
  ...
  struct page *P = fio->page;
  <...
  if (fio->old_blkaddr == NULL_ADDR) {
  	...
  	ClearPageUptodate(P);
  	...
+ 	if (PageWriteback(P))
+ 		end_page_writeback(P);
  	goto L;
  }
  ...>
}

@rep depends on report@
identifier writer.fn, writer.P, wbc;
position p;
@@
fn(struct page *P, ...)
{
  <...
  redirty_page_for_writepage@p(wbc, P);
  ...>
}

@script:python depends on report@
p << rep.p;
@@
coccilib.report.print_report(p[0], "page redirtied without ending writeback the VFS started")
