//! A bitmap allocator of 4 KiB frames. One bit per frame of the managed range (1 = free);
//! allocation scans from a moving hint, so it is fast when memory is mostly free and never
//! fails while a free frame exists.

use crate::{is_page_aligned, FrameAllocator, PAGE_SIZE};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The frame is outside the managed range or not page aligned.
    OutOfRange(u64),
    /// The frame was already free.
    DoubleFree(u64),
}

pub struct BitmapFrameAllocator<'a> {
    /// Bit `i` of word `w` covers frame `base + (64 w + i) * PAGE_SIZE`.
    bitmap: &'a mut [u64],
    base: u64,
    hint: usize,
    free: usize,
    total: usize,
}

impl<'a> BitmapFrameAllocator<'a> {
    /// Manages frames from `base` (page aligned) up to `bitmap.len() * 64` frames; all start
    /// used until [`add_free_range`](Self::add_free_range) frees them.
    pub fn new(bitmap: &'a mut [u64], base: u64) -> Self {
        assert!(is_page_aligned(base));
        bitmap.fill(0);
        BitmapFrameAllocator {
            bitmap,
            base,
            hint: 0,
            free: 0,
            total: 0,
        }
    }

    /// Words of bitmap needed to cover `[base, end)`.
    pub const fn words_for(base: u64, end: u64) -> usize {
        let frames = (end - base).div_ceil(PAGE_SIZE) as usize;
        frames.div_ceil(64)
    }

    fn index(&self, frame: u64) -> Result<usize, FrameError> {
        if !is_page_aligned(frame) || frame < self.base {
            return Err(FrameError::OutOfRange(frame));
        }
        let i = ((frame - self.base) / PAGE_SIZE) as usize;
        if i >= self.bitmap.len() * 64 {
            return Err(FrameError::OutOfRange(frame));
        }
        Ok(i)
    }

    /// Marks the whole frames inside `[start, end)` free (a usable RAM range).
    pub fn add_free_range(&mut self, start: u64, end: u64) {
        let first = start.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let mut frame = first.max(self.base);
        while frame + PAGE_SIZE <= end {
            if let Ok(i) = self.index(frame) {
                if self.bitmap[i / 64] & (1 << (i % 64)) == 0 {
                    self.bitmap[i / 64] |= 1 << (i % 64);
                    self.free += 1;
                    self.total += 1;
                }
            }
            frame += PAGE_SIZE;
        }
    }

    /// Marks `[start, end)` used (e.g. memory the boot loader put something in).
    pub fn reserve_range(&mut self, start: u64, end: u64) {
        let mut frame = start / PAGE_SIZE * PAGE_SIZE;
        while frame < end {
            if let Ok(i) = self.index(frame) {
                if self.bitmap[i / 64] & (1 << (i % 64)) != 0 {
                    self.bitmap[i / 64] &= !(1 << (i % 64));
                    self.free -= 1;
                    self.total -= 1;
                }
            }
            frame += PAGE_SIZE;
        }
    }

    pub fn free_frames(&self) -> usize {
        self.free
    }

    /// Frames ever made available (free or allocated).
    pub fn total_frames(&self) -> usize {
        self.total
    }

    /// `count` physically contiguous free frames (for device DMA rings), lowest first; the
    /// address of the first. A linear scan: devices ask a few times, at boot.
    pub fn allocate_contiguous(&mut self, count: usize) -> Option<u64> {
        if count == 0 || count > self.free {
            return None;
        }
        let is_free = |bitmap: &[u64], i: usize| bitmap[i / 64] & (1 << (i % 64)) != 0;
        let frames = self.bitmap.len() * 64;
        let mut run = 0;
        for i in 0..frames {
            run = if is_free(self.bitmap, i) { run + 1 } else { 0 };
            if run == count {
                let first = i + 1 - count;
                for j in first..=i {
                    self.bitmap[j / 64] &= !(1 << (j % 64));
                }
                self.free -= count;
                return Some(self.base + first as u64 * PAGE_SIZE);
            }
        }
        None
    }

    /// Frees `frame`, reporting misuse instead of corrupting the bitmap.
    pub fn try_deallocate(&mut self, frame: u64) -> Result<(), FrameError> {
        let i = self.index(frame)?;
        let bit = 1 << (i % 64);
        if self.bitmap[i / 64] & bit != 0 {
            return Err(FrameError::DoubleFree(frame));
        }
        self.bitmap[i / 64] |= bit;
        self.free += 1;
        if i / 64 < self.hint {
            self.hint = i / 64;
        }
        Ok(())
    }
}

impl FrameAllocator for BitmapFrameAllocator<'_> {
    fn allocate(&mut self) -> Option<u64> {
        if self.free == 0 {
            return None;
        }
        let words = self.bitmap.len();
        for step in 0..words {
            let w = (self.hint + step) % words;
            let word = self.bitmap[w];
            if word != 0 {
                let bit = word.trailing_zeros() as usize;
                self.bitmap[w] &= !(1 << bit);
                self.free -= 1;
                self.hint = w;
                return Some(self.base + ((w * 64 + bit) as u64) * PAGE_SIZE);
            }
        }
        None
    }

    fn deallocate(&mut self, frame: u64) {
        if let Err(e) = self.try_deallocate(frame) {
            panic!("frame allocator misuse: {e:?}");
        }
    }
}

#[cfg(test)]
mod contiguous_tests {
    use super::*;

    #[test]
    fn contiguous_runs_skip_holes_and_are_freed_one_by_one() {
        let mut bitmap = [0u64; 2];
        let mut a = BitmapFrameAllocator::new(&mut bitmap, 0x10_0000);
        a.add_free_range(0x10_0000, 0x10_0000 + 128 * PAGE_SIZE);
        // Make a hole at frame 2: a run of 3 must start after it.
        let f0 = a.allocate().unwrap();
        let f1 = a.allocate().unwrap();
        let f2 = a.allocate().unwrap();
        a.deallocate(f0);
        a.deallocate(f1);
        let run = a.allocate_contiguous(3).unwrap();
        assert_eq!(run, f2 + PAGE_SIZE);
        assert_eq!(a.free_frames(), 128 - 4);
        for k in 0..3 {
            a.deallocate(run + k * PAGE_SIZE);
        }
        assert_eq!(a.allocate_contiguous(200), None);
        assert_eq!(a.allocate_contiguous(0), None);
        // A run across a word boundary.
        let big = a.allocate_contiguous(100).unwrap();
        assert_eq!(a.free_frames(), 128 - 1 - 100);
        assert!(big > f2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::vec;

    #[test]
    fn allocates_each_free_frame_once() {
        let mut bits = vec![0u64; 4];
        let mut a = BitmapFrameAllocator::new(&mut bits, 0x10_0000);
        a.add_free_range(0x10_0000 + 10 * PAGE_SIZE, 0x10_0000 + 110 * PAGE_SIZE);
        assert_eq!(a.free_frames(), 100);
        let mut seen = HashSet::new();
        while let Some(f) = a.allocate() {
            assert!((0x10_0000 + 10 * PAGE_SIZE..0x10_0000 + 110 * PAGE_SIZE).contains(&f));
            assert!(seen.insert(f), "frame {f:#x} handed out twice");
        }
        assert_eq!(seen.len(), 100);
        assert_eq!(a.free_frames(), 0);
        assert_eq!(a.allocate(), None);
    }

    #[test]
    fn free_makes_frames_reusable_and_catches_misuse() {
        let mut bits = vec![0u64; 1];
        let mut a = BitmapFrameAllocator::new(&mut bits, 0);
        a.add_free_range(0, 4 * PAGE_SIZE);
        let f = a.allocate().unwrap();
        assert_eq!(a.free_frames(), 3);
        a.try_deallocate(f).unwrap();
        assert_eq!(a.try_deallocate(f), Err(FrameError::DoubleFree(f)));
        assert_eq!(a.try_deallocate(123), Err(FrameError::OutOfRange(123)));
        assert_eq!(
            a.try_deallocate(64 * PAGE_SIZE),
            Err(FrameError::OutOfRange(64 * PAGE_SIZE))
        );
        assert_eq!(a.free_frames(), 4);
    }

    #[test]
    fn partial_pages_and_reservations() {
        let mut bits = vec![0u64; 1];
        let mut a = BitmapFrameAllocator::new(&mut bits, 0);
        // Only whole frames inside the range count.
        a.add_free_range(100, 3 * PAGE_SIZE + 5);
        assert_eq!(a.free_frames(), 2);
        a.reserve_range(PAGE_SIZE, PAGE_SIZE + 1);
        assert_eq!(a.free_frames(), 1);
        assert_eq!(a.allocate(), Some(2 * PAGE_SIZE));
        assert_eq!(BitmapFrameAllocator::words_for(0, 65 * PAGE_SIZE), 2);
    }
}
