//! The cpio "newc" format (SVR4 without CRC, magic `070701`), as the Linux initramfs uses
//! it: a 110-byte ASCII-hex header, the NUL-terminated name padded to 4 bytes, the data
//! padded to 4 bytes, and a final entry named `TRAILER!!!`.
//!
//! The reader validates everything (magic, hex digits, lengths against the buffer, NUL
//! terminators) and never panics on malformed input; the writer produces what the reader and
//! Linux accept.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;

pub const MAGIC: &[u8; 6] = b"070701";
pub const HEADER_LEN: usize = 110;
pub const TRAILER: &[u8] = b"TRAILER!!!";

/// File type bits of `mode` (as in `st_mode`).
pub mod mode {
    pub const TYPE_MASK: u32 = 0o170000;
    pub const REGULAR: u32 = 0o100000;
    pub const DIRECTORY: u32 = 0o040000;
    pub const SYMLINK: u32 = 0o120000;
    pub const CHAR_DEVICE: u32 = 0o020000;
    pub const BLOCK_DEVICE: u32 = 0o060000;
    pub const FIFO: u32 = 0o010000;
    pub const SOCKET: u32 = 0o140000;
}

/// One archive member. `name` has no leading `/` or `./` stripped: callers decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub name: &'a [u8],
    /// File contents, or the target of a symlink.
    pub data: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A header does not start with `070701` (offset of the header).
    BadMagic(usize),
    /// A header field is not 8 hex digits (offset of the header).
    BadNumber(usize),
    /// The archive ends inside a header, name or data (offset of the header).
    Truncated(usize),
    /// A name is empty or not NUL-terminated (offset of the header).
    BadName(usize),
    /// No `TRAILER!!!` entry.
    MissingTrailer,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::BadMagic(at) => write!(f, "not a newc cpio header at offset {at}"),
            Error::BadNumber(at) => write!(f, "malformed number in the cpio header at offset {at}"),
            Error::Truncated(at) => write!(f, "cpio archive truncated in the entry at offset {at}"),
            Error::BadName(at) => write!(f, "malformed name in the cpio entry at offset {at}"),
            Error::MissingTrailer => write!(f, "cpio archive has no TRAILER!!! entry"),
        }
    }
}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn hex_field(header: &[u8], index: usize, at: usize) -> Result<u32, Error> {
    let digits = &header[6 + index * 8..6 + index * 8 + 8];
    let mut value: u32 = 0;
    for &d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return Err(Error::BadNumber(at)),
        };
        value = (value << 4) | v as u32;
    }
    Ok(value)
}

/// Iterates over the entries of an archive, stopping at the trailer. After an error the
/// iterator ends.
pub struct Reader<'a> {
    data: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader {
            data,
            offset: 0,
            done: false,
        }
    }

    fn parse_one(&mut self) -> Result<Option<Entry<'a>>, Error> {
        let at = self.offset;
        // Some writers pad between archives with NULs (concatenated initramfs parts).
        if at >= self.data.len() {
            return Err(Error::MissingTrailer);
        }
        let header = self
            .data
            .get(at..at + HEADER_LEN)
            .ok_or(Error::Truncated(at))?;
        if &header[..6] != MAGIC {
            return Err(Error::BadMagic(at));
        }
        let field = |i| hex_field(header, i, at);
        let name_size = field(11)? as usize;
        let file_size = field(6)? as usize;
        let name_start = at + HEADER_LEN;
        let name_end = name_start
            .checked_add(name_size)
            .ok_or(Error::Truncated(at))?;
        let name_with_nul = self
            .data
            .get(name_start..name_end)
            .ok_or(Error::Truncated(at))?;
        let name = match name_with_nul.split_last() {
            Some((0, name)) if !name.is_empty() && !name.contains(&0) => name,
            _ => return Err(Error::BadName(at)),
        };
        let data_start = align4(name_end);
        let data_end = data_start
            .checked_add(file_size)
            .ok_or(Error::Truncated(at))?;
        let data = self
            .data
            .get(data_start..data_end)
            .ok_or(Error::Truncated(at))?;
        self.offset = align4(data_end);
        if name == TRAILER {
            return Ok(None);
        }
        Ok(Some(Entry {
            ino: field(0)?,
            mode: field(1)?,
            uid: field(2)?,
            gid: field(3)?,
            nlink: field(4)?,
            mtime: field(5)?,
            dev_major: field(7)?,
            dev_minor: field(8)?,
            rdev_major: field(9)?,
            rdev_minor: field(10)?,
            name,
            data,
        }))
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Entry<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.parse_one() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Builds an archive in memory.
#[derive(Default)]
pub struct Writer {
    out: Vec<u8>,
    next_ino: u32,
}

/// Metadata of an entry to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: u32,
    pub nlink: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    /// Entries that share an inode number (hard links) must give the same nonzero value;
    /// 0 lets the writer assign a fresh one.
    pub ino: u32,
}

impl Meta {
    pub const fn new(mode: u32) -> Self {
        Meta {
            mode,
            uid: 0,
            gid: 0,
            mtime: 0,
            nlink: 1,
            rdev_major: 0,
            rdev_minor: 0,
            ino: 0,
        }
    }
}

impl Writer {
    pub fn new() -> Self {
        Writer {
            out: Vec::new(),
            next_ino: 1 << 20,
        }
    }

    fn header(&mut self, meta: &Meta, name: &[u8], data_len: usize) {
        let ino = if meta.ino != 0 {
            meta.ino
        } else {
            self.next_ino += 1;
            self.next_ino
        };
        let fields = [
            ino,
            meta.mode,
            meta.uid,
            meta.gid,
            meta.nlink,
            meta.mtime,
            data_len as u32,
            0,
            0,
            meta.rdev_major,
            meta.rdev_minor,
            name.len() as u32 + 1,
            0,
        ];
        self.out.extend_from_slice(MAGIC);
        for f in fields {
            for shift in (0..8).rev() {
                let nibble = ((f >> (shift * 4)) & 0xf) as u8;
                self.out.push(if nibble < 10 {
                    b'0' + nibble
                } else {
                    b'a' + nibble - 10
                });
            }
        }
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    /// Adds an entry. `data` is the file contents or symlink target (empty for others).
    /// Names longer than `u32::MAX` or data over 4 GiB cannot be represented: the caller
    /// must check (`isounik` refuses such files).
    pub fn add(&mut self, name: &[u8], meta: Meta, data: &[u8]) {
        self.header(&meta, name, data.len());
        self.out.extend_from_slice(name);
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    /// Ends the archive.
    pub fn finish(mut self) -> Vec<u8> {
        let meta = Meta {
            nlink: 1,
            ino: 0,
            ..Meta::new(0)
        };
        self.header(&meta, TRAILER, 0);
        self.out.extend_from_slice(TRAILER);
        self.out.push(0);
        self.pad();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sample() -> Vec<u8> {
        let mut w = Writer::new();
        w.add(b"bin", Meta::new(mode::DIRECTORY | 0o755), b"");
        w.add(
            b"bin/hello",
            Meta {
                mtime: 1_700_000_000,
                uid: 1000,
                ..Meta::new(mode::REGULAR | 0o755)
            },
            b"hello\n",
        );
        w.add(b"bin/sh", Meta::new(mode::SYMLINK | 0o777), b"hello");
        w.add(b"odd", Meta::new(mode::REGULAR | 0o644), b"abc");
        w.finish()
    }

    #[test]
    fn round_trip() {
        let archive = sample();
        assert_eq!(archive.len() % 4, 0);
        let entries: Vec<_> = Reader::new(&archive).collect::<Result<_, _>>().unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].name, b"bin");
        assert_eq!(entries[0].mode, mode::DIRECTORY | 0o755);
        assert_eq!(entries[1].name, b"bin/hello");
        assert_eq!(entries[1].data, b"hello\n");
        assert_eq!((entries[1].mtime, entries[1].uid), (1_700_000_000, 1000));
        assert_eq!(entries[2].data, b"hello");
        assert_eq!(entries[3].data, b"abc");
        assert_ne!(entries[1].ino, entries[3].ino);
    }

    #[test]
    fn malformed_archives_are_errors_not_panics() {
        let archive = sample();
        // Every truncation is an error (or, at the very start, an empty archive error).
        for cut in 0..archive.len() - 1 {
            let result: Result<Vec<_>, _> = Reader::new(&archive[..cut]).collect();
            assert!(result.is_err() || cut == 0, "truncation at {cut} accepted");
        }
        let mut bad = archive.clone();
        bad[0] = b'1';
        assert_eq!(Reader::new(&bad).next(), Some(Err(Error::BadMagic(0))));
        let mut bad = archive.clone();
        bad[10] = b'z';
        assert_eq!(Reader::new(&bad).next(), Some(Err(Error::BadNumber(0))));
        // A huge file size must not overflow or panic.
        let mut bad = archive.clone();
        bad[6 + 6 * 8..6 + 7 * 8].copy_from_slice(b"ffffffff");
        assert!(matches!(
            Reader::new(&bad).next(),
            Some(Err(Error::Truncated(0)))
        ));
        // A name without its NUL.
        let mut bad = archive;
        let name_size_at = 6 + 11 * 8;
        bad[name_size_at..name_size_at + 8].copy_from_slice(b"00000003");
        assert_eq!(Reader::new(&bad).next(), Some(Err(Error::BadName(0))));
        let garbage = vec![0xffu8; 300];
        assert!(Reader::new(&garbage).next().unwrap().is_err());
    }

    #[test]
    fn missing_trailer_is_reported() {
        let mut w = Writer::new();
        w.add(b"a", Meta::new(mode::REGULAR), b"x");
        let mut archive = w.finish();
        archive.truncate(archive.len() - 124); // drop the trailer
        let result: Result<Vec<_>, _> = Reader::new(&archive).collect();
        assert_eq!(result, Err(Error::MissingTrailer));
    }
}
