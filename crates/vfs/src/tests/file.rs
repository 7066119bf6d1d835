use std::vec;
use std::vec::Vec;

use super::*;
use crate::{FsError, MAX_FILE_SIZE, PAGE_SIZE};

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn write_and_read_across_pages() {
    let mut vfs = new_vfs();
    let f = create(&mut vfs, "/f", b"");
    let data = pattern(3 * PAGE_SIZE + 100, 1);
    assert_eq!(vfs.write_at(f, 0, &data), Ok(data.len()));
    assert_eq!(read_all(&mut vfs, f), data);
    // Overwrite a range straddling a page boundary.
    let patch = pattern(300, 9);
    assert_eq!(vfs.write_at(f, 4000, &patch), Ok(300));
    let mut expect = data.clone();
    expect[4000..4300].copy_from_slice(&patch);
    assert_eq!(read_all(&mut vfs, f), expect);
    // Reads at every offset near boundaries, with small buffers.
    for offset in [
        0u64,
        1,
        4095,
        4096,
        4097,
        8191,
        12388,
        12389,
        12390,
        1 << 40,
        u64::MAX,
    ] {
        let mut buf = [0u8; 7];
        let n = vfs.read_at(f, offset, &mut buf).unwrap();
        let start = (offset as usize).min(expect.len());
        let want = &expect[start..(start + 7).min(expect.len())];
        assert_eq!(&buf[..n], want, "offset {offset}");
    }
    assert_eq!(vfs.read_at(f, 0, &mut []), Ok(0));
    let st = vfs.stat(f).unwrap();
    assert_eq!(
        (st.size, st.blocks, st.blksize),
        (data.len() as u64, 32, 4096)
    );
}

#[test]
fn sparse_files_and_holes() {
    let mut vfs = new_vfs();
    let f = create(&mut vfs, "/f", b"");
    assert_eq!(vfs.write_at(f, 10 * PAGE_SIZE as u64 + 5, b"end"), Ok(3));
    let st = vfs.stat(f).unwrap();
    assert_eq!((st.size, st.blocks), (10 * 4096 + 8, 8));
    let mut buf = vec![0xaau8; 11 * PAGE_SIZE];
    assert_eq!(vfs.read_at(f, 0, &mut buf), Ok(10 * 4096 + 8));
    assert!(buf[..10 * PAGE_SIZE + 5].iter().all(|&b| b == 0));
    assert_eq!(&buf[10 * PAGE_SIZE + 5..10 * PAGE_SIZE + 8], b"end");
    // A write near the maximum size costs one page, not a table covering the gap.
    let g = create(&mut vfs, "/g", b"");
    let before = live_pages(&vfs);
    assert_eq!(vfs.write_at(g, MAX_FILE_SIZE - 2, b"xyz"), Ok(2));
    assert_eq!(live_pages(&vfs), before + 1);
    assert_eq!(vfs.stat(g).unwrap().size, MAX_FILE_SIZE);
    let mut tail = [0u8; 4];
    assert_eq!(vfs.read_at(g, MAX_FILE_SIZE - 3, &mut tail), Ok(3));
    assert_eq!(&tail[..3], b"\0xy");
    // Reading a huge hole range touches only the pages that exist.
    let mut big = vec![1u8; 1 << 20];
    assert_eq!(vfs.read_at(g, 1 << 30, &mut big), Ok(1 << 20));
    assert!(big.iter().all(|&b| b == 0));
}

#[test]
fn write_limits() {
    let mut vfs = new_vfs();
    let f = create(&mut vfs, "/f", b"");
    assert_eq!(
        vfs.write_at(f, MAX_FILE_SIZE, b"x"),
        Err(FsError::FileTooBig)
    );
    assert_eq!(
        vfs.write_at(f, i64::MAX as u64, b"x"),
        Err(FsError::Invalid)
    );
    assert_eq!(vfs.write_at(f, u64::MAX, b"x"), Err(FsError::Invalid));
    assert_eq!(vfs.write_at(f, u64::MAX - 1, b"xyz"), Err(FsError::Invalid));
    assert_eq!(vfs.write_at(f, u64::MAX, b""), Ok(0));
    assert_eq!(vfs.stat(f).unwrap().size, 0);
    assert_eq!(vfs.truncate(f, MAX_FILE_SIZE + 1), Err(FsError::FileTooBig));
    assert_eq!(vfs.truncate(f, u64::MAX), Err(FsError::Invalid));
    assert_eq!(vfs.truncate(f, MAX_FILE_SIZE), Ok(()));
    assert_eq!(live_pages(&vfs), 0);
    let d = mkdir(&mut vfs, "/d");
    assert_eq!(vfs.write_at(d, 0, b"x"), Err(FsError::IsDirectory));
    assert_eq!(vfs.read_at(d, 0, &mut [0; 1]), Err(FsError::IsDirectory));
    assert_eq!(vfs.truncate(d, 0), Err(FsError::IsDirectory));
    assert_eq!(vfs.page(d, 0).err(), Some(FsError::IsDirectory));
    let s = symlink(&mut vfs, "/s", "f");
    assert_eq!(vfs.write_at(s, 0, b"x"), Err(FsError::Invalid));
}

#[test]
fn truncate_shrinks_zeroes_and_grows() {
    let mut vfs = new_vfs();
    let f = create(&mut vfs, "/f", &[0xff; 3 * PAGE_SIZE]);
    assert_eq!(live_pages(&vfs), 3);
    vfs.truncate(f, 4100).unwrap();
    assert_eq!(live_pages(&vfs), 2);
    assert_eq!(vfs.stat(f).unwrap().size, 4100);
    // Growing again exposes zeros, not the old bytes.
    vfs.truncate(f, 3 * PAGE_SIZE as u64).unwrap();
    let data = read_all(&mut vfs, f);
    assert!(data[..4100].iter().all(|&b| b == 0xff));
    assert!(data[4100..].iter().all(|&b| b == 0));
    assert_eq!(live_pages(&vfs), 2);
    // Shrinking to a page boundary drops that page too.
    vfs.truncate(f, PAGE_SIZE as u64).unwrap();
    assert_eq!(live_pages(&vfs), 1);
    vfs.truncate(f, 0).unwrap();
    assert_eq!(live_pages(&vfs), 0);
    assert_eq!(vfs.stat(f).unwrap().blocks, 0);
    // A write past the end leaves zeros between.
    vfs.write_at(f, 0, b"abc").unwrap();
    vfs.truncate(f, 1).unwrap();
    vfs.write_at(f, 5, b"z").unwrap();
    assert_eq!(read_all(&mut vfs, f), b"a\0\0\0\0z");
}

#[test]
fn times_on_write_truncate_and_read() {
    let mut vfs = new_vfs();
    set_time(&mut vfs, 100);
    let f = create(&mut vfs, "/f", b"");
    set_time(&mut vfs, 200);
    vfs.write_at(f, 0, b"x").unwrap();
    let st = vfs.stat(f).unwrap();
    assert_eq!((st.mtime.sec, st.ctime.sec, st.atime.sec), (200, 200, 100));
    set_time(&mut vfs, 250);
    vfs.write_at(f, 0, b"").unwrap();
    assert_eq!(vfs.stat(f).unwrap().mtime.sec, 200);
    set_time(&mut vfs, 300);
    vfs.truncate(f, 1).unwrap();
    assert_eq!(vfs.stat(f).unwrap().mtime.sec, 300);
    // relatime: a read refreshes an atime older than mtime, then not again...
    set_time(&mut vfs, 400);
    vfs.read_at(f, 0, &mut [0; 1]).unwrap();
    assert_eq!(vfs.stat(f).unwrap().atime.sec, 400);
    set_time(&mut vfs, 500);
    vfs.read_at(f, 0, &mut [0; 1]).unwrap();
    assert_eq!(vfs.stat(f).unwrap().atime.sec, 400);
    // ...until a day passed.
    set_time(&mut vfs, 400 + 86400);
    vfs.read_at(f, 0, &mut [0; 1]).unwrap();
    assert_eq!(vfs.stat(f).unwrap().atime.sec, 400 + 86400);
    // The noatime read never touches it.
    set_time(&mut vfs, 900_000);
    vfs.write_at(f, 0, b"y").unwrap();
    vfs.read_at_noatime(f, 0, &mut [0; 1]).unwrap();
    assert_eq!(vfs.stat(f).unwrap().atime.sec, 400 + 86400);
}

#[test]
fn pages_for_mapping_and_copy_on_write() {
    let mut vfs = new_vfs();
    let f = create(&mut vfs, "/f", b"hello");
    vfs.truncate(f, 3 * PAGE_SIZE as u64).unwrap();
    let p0 = vfs.page(f, 0).unwrap();
    assert_eq!(&p0.bytes[..5], b"hello");
    assert_eq!(live_pages(&vfs), 1);
    // A hole inside the file becomes a real zero page.
    let p2 = vfs.page(f, 2).unwrap();
    assert!(p2.bytes.iter().all(|&b| b == 0));
    assert_eq!(live_pages(&vfs), 2);
    assert_eq!(vfs.stat(f).unwrap().blocks, 16);
    // The same page again is shared, not copied.
    let again = vfs.page(f, 0).unwrap();
    assert!(std::rc::Rc::ptr_eq(&p0, &again));
    // Past the end.
    assert_eq!(vfs.page(f, 3).err(), Some(FsError::Invalid));
    assert_eq!(vfs.page(f, u64::MAX).err(), Some(FsError::Invalid));
    // Writing while a clone is alive copies: the clone keeps the old bytes.
    assert_eq!(vfs.platform().copies, 0);
    vfs.write_at(f, 0, b"HE").unwrap();
    assert_eq!(vfs.platform().copies, 1);
    assert_eq!(&p0.bytes[..5], b"hello");
    assert_eq!(&read_all(&mut vfs, f)[..5], b"HEllo");
    // The file now owns a private page; writing again does not copy.
    drop((p0, again));
    vfs.write_at(f, 0, b"h").unwrap();
    assert_eq!(vfs.platform().copies, 1);
    // Shrinking while a clone is alive leaves the clone whole.
    let p0 = vfs.page(f, 0).unwrap();
    vfs.truncate(f, 2).unwrap();
    assert_eq!(&p0.bytes[..5], b"hEllo");
    assert_eq!(read_all(&mut vfs, f), b"hE");
    // Freeing the file leaves only the clones alive.
    let root = vfs.root();
    vfs.unlink(root, b"f").unwrap();
    assert_eq!(live_pages(&vfs), 2); // p0 (old copy) and p2
    drop((p0, p2));
    assert_eq!(live_pages(&vfs), 0);
}

#[test]
fn out_of_memory_gives_short_writes_and_no_space() {
    let mut vfs = new_vfs();
    vfs.platform_mut().limit = Some(2);
    let f = create(&mut vfs, "/f", b"");
    let data = pattern(3 * PAGE_SIZE, 3);
    assert_eq!(vfs.write_at(f, 0, &data), Ok(2 * PAGE_SIZE));
    assert_eq!(vfs.stat(f).unwrap().size, 2 * PAGE_SIZE as u64);
    assert_eq!(
        vfs.write_at(f, 2 * PAGE_SIZE as u64, b"x"),
        Err(FsError::NoSpace)
    );
    assert_eq!(vfs.stat(f).unwrap().size, 2 * PAGE_SIZE as u64);
    // Existing pages can still be overwritten.
    assert_eq!(vfs.write_at(f, 10, b"ok"), Ok(2));
    vfs.truncate(f, 5 * PAGE_SIZE as u64).unwrap();
    assert_eq!(vfs.page(f, 4).err(), Some(FsError::NoSpace));
    // A shared page cannot be copied without memory: the write fails, the clone survives.
    let p = vfs.page(f, 0).unwrap();
    assert_eq!(vfs.write_at(f, 0, b"zz"), Err(FsError::NoSpace));
    assert_eq!(&p.bytes[10..12], b"ok");
    drop(p);
    assert_eq!(vfs.write_at(f, 0, b"zz"), Ok(2));
    assert_eq!(&read_all(&mut vfs, f)[..2], b"zz");
}

#[test]
fn data_version_changes_with_every_write_and_truncate() {
    let mut vfs = new_vfs();
    let f = create(&mut vfs, "/f", b"");
    let v0 = vfs.data_version(f).unwrap();
    assert_eq!(vfs.write_at(f, 0, b"abc"), Ok(3));
    let v1 = vfs.data_version(f).unwrap();
    assert_ne!(v0, v1);
    let mut buf = [0u8; 3];
    assert_eq!(vfs.read_at(f, 0, &mut buf), Ok(3));
    assert_eq!(vfs.data_version(f), Ok(v1), "reads change nothing");
    assert_eq!(vfs.write_at(f, 1, b"x"), Ok(1));
    let v2 = vfs.data_version(f).unwrap();
    assert_ne!(v1, v2);
    vfs.truncate(f, 1).unwrap();
    assert_ne!(vfs.data_version(f).unwrap(), v2);
}

/// A source that gives only its first `good` bytes, like a program's buffer running into a
/// page it cannot read.
struct ShortSource {
    data: Vec<u8>,
    good: usize,
}

impl crate::WriteSource for ShortSource {
    fn copy_to(&mut self, dst: &mut [u8], from: usize) -> usize {
        let n = dst.len().min(self.good.saturating_sub(from));
        dst[..n].copy_from_slice(&self.data[from..from + n]);
        n
    }
}

#[test]
fn write_from_a_source_that_stops_early() {
    let mut vfs = new_vfs();
    let f = create(&mut vfs, "/f", b"");
    let data = pattern(3 * PAGE_SIZE, 4);
    // Stops inside the second page: what it gave is written, the size follows.
    let mut source = ShortSource {
        data: data.clone(),
        good: PAGE_SIZE + 10,
    };
    assert_eq!(
        vfs.write_from(f, 100, data.len(), &mut source),
        Ok(PAGE_SIZE + 10)
    );
    let mut expect = vec![0u8; 100];
    expect.extend_from_slice(&data[..PAGE_SIZE + 10]);
    assert_eq!(read_all(&mut vfs, f), expect);
    // Gives nothing: Ok(0), size and data unchanged.
    let version = vfs.data_version(f).unwrap();
    let mut nothing = ShortSource {
        data: data.clone(),
        good: 0,
    };
    assert_eq!(vfs.write_from(f, 50, 10, &mut nothing), Ok(0));
    assert_eq!(vfs.write_from(f, 9000, 10, &mut nothing), Ok(0));
    assert_eq!(read_all(&mut vfs, f), expect);
    assert_eq!(vfs.data_version(f).unwrap(), version);
    // A slice is a source that never stops early.
    assert_eq!(vfs.write_from(f, 0, 3, &mut &b"abc"[..]), Ok(3));
    assert_eq!(&read_all(&mut vfs, f)[..4], b"abc\0");
}

#[test]
fn read_pages_gives_the_pages_of_a_range() {
    let mut vfs = new_vfs();
    let f = create(&mut vfs, "/f", b"");
    let data = pattern(PAGE_SIZE + 500, 7);
    assert_eq!(vfs.write_at(f, 0, &data), Ok(data.len()));
    // A hole at page 2, data again at page 3.
    assert_eq!(vfs.write_at(f, 3 * PAGE_SIZE as u64, b"xyz"), Ok(3));
    let mut pages = Vec::new();
    let n = vfs.read_pages(f, 4000, 10 * PAGE_SIZE, &mut pages).unwrap();
    assert_eq!(n, 3 * PAGE_SIZE + 3 - 4000);
    let indices: Vec<u64> = pages.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, vec![0, 1, 3]);
    // The clones hold the bytes as they were: a later write copies the shared page.
    assert_eq!(vfs.write_at(f, 0, b"NEW"), Ok(3));
    let mut now = [0u8; 3];
    vfs.read_at(f, 0, &mut now).unwrap();
    assert_eq!(&now, b"NEW");
    assert_eq!(&vfs.platform().bytes(&pages[0].1)[..3], &data[..3]);
    // Nothing at or past the end, nothing for an empty range; not a regular file: errors.
    pages.clear();
    assert_eq!(vfs.read_pages(f, 1 << 20, 10, &mut pages), Ok(0));
    assert_eq!(vfs.read_pages(f, 0, 0, &mut pages), Ok(0));
    assert!(pages.is_empty());
    let root = vfs.root();
    assert_eq!(
        vfs.read_pages(root, 0, 10, &mut pages),
        Err(FsError::IsDirectory)
    );
}

#[test]
fn page_for_write_copies_a_page_others_hold_then_keeps_it() {
    let mut vfs = new_vfs();
    let f = create(&mut vfs, "/f", b"shared");
    // Held by someone else (a private mapping, say): the file moves to a copy first,
    // which the writer gets; the other holder keeps the old bytes.
    let held = vfs.page(f, 0).unwrap();
    let w = vfs.page_for_write(f, 0).unwrap();
    assert_eq!(vfs.platform().copies, 1);
    assert!(!std::rc::Rc::ptr_eq(&held, &w));
    let again = vfs.page(f, 0).unwrap();
    assert!(
        std::rc::Rc::ptr_eq(&w, &again),
        "the file holds the writer's page"
    );
    drop((held, w, again));
    // Held by nobody else: no copy.
    let w = vfs.page_for_write(f, 0).unwrap();
    assert_eq!(vfs.platform().copies, 1);
    assert_eq!(&w.bytes[..6], b"shared");
    assert_eq!(vfs.page_for_write(f, 1).err(), Some(FsError::Invalid));
}
