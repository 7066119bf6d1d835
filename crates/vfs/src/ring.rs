//! [`ByteRing`]: the bytes waiting in a pipe, as a ring over storage that grows (doubling,
//! from 4 KiB) only as far as needed, so that a pipe carrying a few bytes does not hold its
//! whole capacity. Data moves in and out as at most two contiguous slices, so the kernel
//! copies it straight between the ring and a program's memory.

use alloc::vec::Vec;

/// Smallest storage a ring allocates.
pub const MIN_STORAGE: usize = 4096;

pub struct ByteRing {
    storage: Vec<u8>,
    head: usize,
    len: usize,
}

impl ByteRing {
    pub const fn new() -> ByteRing {
        ByteRing {
            storage: Vec::new(),
            head: 0,
            len: 0,
        }
    }

    /// Bytes stored.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The stored bytes, oldest first, as two slices (the second empty unless they wrap).
    #[inline]
    pub fn filled(&self) -> (&[u8], &[u8]) {
        let size = self.storage.len();
        if self.head + self.len <= size {
            (&self.storage[self.head..self.head + self.len], &[])
        } else {
            let first = &self.storage[self.head..];
            (first, &self.storage[..self.len - first.len()])
        }
    }

    /// Drops the oldest `n` bytes (at most all of them).
    #[inline]
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.len -= n;
        self.head = if self.len == 0 {
            0
        } else {
            (self.head + n) % self.storage.len()
        };
    }

    /// Free room, in order, as two slices, after growing the storage (if it can) so that
    /// `n` more bytes fit without the stored ones exceeding `limit`; `None` when growing
    /// needs memory that is not there. The room may be smaller than `n` (at `limit`).
    #[inline]
    pub fn room(&mut self, n: usize, limit: usize) -> Option<(&mut [u8], &mut [u8])> {
        let want = self.len.saturating_add(n).min(limit);
        if want > self.storage.len() {
            let size = want
                .next_power_of_two()
                .clamp(MIN_STORAGE, limit.max(MIN_STORAGE));
            let mut grown = Vec::new();
            grown.try_reserve_exact(size).ok()?;
            grown.resize(size, 0);
            let (a, b) = self.filled();
            grown[..a.len()].copy_from_slice(a);
            grown[a.len()..a.len() + b.len()].copy_from_slice(b);
            self.storage = grown;
            self.head = 0;
        }
        let size = self.storage.len();
        if size == 0 {
            return Some((&mut [], &mut []));
        }
        let tail = (self.head + self.len) % size;
        let free = size - self.len;
        if tail >= self.head && self.len != size {
            // Free: from the tail to the end, then from the start to the head.
            let (before, after) = self.storage.split_at_mut(tail);
            let first = after.len().min(free);
            Some((&mut after[..first], &mut before[..free - first]))
        } else {
            // The stored bytes wrap (or fill everything): free is between tail and head.
            Some((&mut self.storage[tail..tail + free], &mut []))
        }
    }

    /// Records that the first `n` bytes of the room just given now hold data.
    #[inline]
    pub fn commit(&mut self, n: usize) {
        self.len = (self.len + n).min(self.storage.len());
    }
}

impl Default for ByteRing {
    fn default() -> Self {
        ByteRing::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Writes `data` through `room`/`commit`; returns how much went in.
    fn put(r: &mut ByteRing, data: &[u8], limit: usize) -> usize {
        let (a, b) = r.room(data.len(), limit).unwrap();
        let first = a.len().min(data.len());
        a[..first].copy_from_slice(&data[..first]);
        let second = b.len().min(data.len() - first);
        b[..second].copy_from_slice(&data[first..first + second]);
        r.commit(first + second);
        first + second
    }

    fn take(r: &mut ByteRing, n: usize) -> Vec<u8> {
        let (a, b) = r.filled();
        let mut out: Vec<u8> = a.iter().chain(b.iter()).copied().take(n).collect();
        out.truncate(n);
        r.consume(out.len());
        out
    }

    #[test]
    fn grows_from_nothing_to_the_limit_only() {
        let mut r = ByteRing::new();
        assert!(r.is_empty() && r.filled() == (&[][..], &[][..]));
        assert_eq!(put(&mut r, &[1; 10], 65536), 10);
        assert_eq!(r.storage.len(), MIN_STORAGE);
        assert_eq!(put(&mut r, &[2; 5000], 65536), 5000);
        assert_eq!(r.storage.len(), 8192);
        // At the limit: the room stops there.
        assert_eq!(put(&mut r, &[3; 100_000], 65536), 65536 - 5010);
        assert_eq!((r.len(), r.storage.len()), (65536, 65536));
        assert_eq!(put(&mut r, &[4; 1], 65536), 0);
        assert_eq!(take(&mut r, 10), [1; 10]);
        assert_eq!(take(&mut r, 5000), [2; 5000].to_vec());
    }

    #[test]
    fn keeps_order_through_wrap_around_and_growth() {
        let mut r = ByteRing::new();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (mut written, mut read) = (0, 0);
        let mut step = 1usize;
        while read < data.len() {
            let n = (step * 613) % 9000 + 1;
            let end = (written + n).min(data.len());
            written += put(&mut r, &data[written..end], 16384);
            let m = (step * 389) % 7000 + 1;
            let got = take(&mut r, m);
            assert_eq!(got, data[read..read + got.len()], "at {read}");
            read += got.len();
            step += 1;
        }
        assert!(r.is_empty());
    }

    #[test]
    fn room_is_exactly_the_free_space_in_order() {
        let mut r = ByteRing::new();
        put(&mut r, &[0; 4096], 4096);
        take(&mut r, 1000);
        // Stored: [1000, 4096); free: [0, 1000) after the wrap.
        let (a, b) = r.room(5000, 4096).unwrap();
        assert_eq!((a.len(), b.len()), (1000, 0));
        r.commit(600);
        let (a, b) = r.room(5000, 4096).unwrap();
        assert_eq!((a.len(), b.len()), (400, 0));
        take(&mut r, 3096); // everything before the wrap
        let (a, b) = r.room(5000, 4096).unwrap();
        assert_eq!(a.len() + b.len(), 4096 - 600);
    }

    #[test]
    fn consume_past_the_end_and_commit_past_the_room_are_bounded() {
        let mut r = ByteRing::new();
        put(&mut r, &[9; 100], 4096);
        r.consume(1000);
        assert!(r.is_empty());
        r.room(10, 4096).unwrap();
        r.commit(100_000);
        assert_eq!(r.len(), 4096);
    }
}
