//! Structure layouts of the x86-64 user ABI, as little-endian byte arrays.
//!
//! Every structure has `SIZE`, `to_bytes(&self) -> [u8; SIZE]` and, where the kernel
//! reads it from user memory, `from_bytes(&[u8]) -> Option<Self>` (`None` when the slice
//! is shorter than `SIZE`; longer slices are fine and the tail is ignored unless a type
//! says otherwise). Padding is always written as zero. Sizes and offsets are those of the
//! x86-64 uapi headers; the tests check every field at its Linux offset.

pub mod clone;
pub mod io;
pub mod sigframe;
pub mod signal;
pub mod sockaddr;
pub mod stat;
pub mod system;
pub mod time;
pub mod tty;

pub use clone::CloneArgs;
pub use io::{
    dirent64_reclen, dirent_reclen, write_dirent, write_dirent64, EpollEvent, Flock, Iovec,
    OpenHow, Pollfd,
};
pub use sigframe::{FpxSwBytes, FrameLayout, RtSigframe, SigContext, UContext};
pub use signal::{Sigaction, Siginfo, Sigset, Stack};
pub use sockaddr::{
    cmsg_bytes, cmsg_space, parse_cmsgs, AddressUse, Cmsg, Msghdr, SocketAddress, Ucred, CMSG_HDR,
};
pub use stat::{Stat, Statx, StatxTimestamp};
pub use system::{Rlimit, Rusage, Sysinfo, Utsname};
pub use time::{Itimerspec, Itimerval, Timespec, Timeval, Timezone, Tms};
pub use tty::{Termios, Termios2, Winsize};

/// Little-endian field access on byte buffers. Callers check lengths first; an
/// out-of-range offset is a bug in this crate and panics.
pub(crate) mod le {
    pub fn put_u8(b: &mut [u8], off: usize, v: u8) {
        b[off] = v;
    }
    pub fn put_u16(b: &mut [u8], off: usize, v: u16) {
        b[off..off + 2].copy_from_slice(&v.to_le_bytes());
    }
    pub fn put_u32(b: &mut [u8], off: usize, v: u32) {
        b[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }
    pub fn put_u64(b: &mut [u8], off: usize, v: u64) {
        b[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }
    pub fn put_i16(b: &mut [u8], off: usize, v: i16) {
        put_u16(b, off, v as u16);
    }
    pub fn put_i32(b: &mut [u8], off: usize, v: i32) {
        put_u32(b, off, v as u32);
    }
    pub fn put_i64(b: &mut [u8], off: usize, v: i64) {
        put_u64(b, off, v as u64);
    }
    pub fn get_u16(b: &[u8], off: usize) -> u16 {
        u16::from_le_bytes([b[off], b[off + 1]])
    }
    pub fn get_u32(b: &[u8], off: usize) -> u32 {
        let mut a = [0u8; 4];
        a.copy_from_slice(&b[off..off + 4]);
        u32::from_le_bytes(a)
    }
    pub fn get_u64(b: &[u8], off: usize) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[off..off + 8]);
        u64::from_le_bytes(a)
    }
    pub fn get_i16(b: &[u8], off: usize) -> i16 {
        get_u16(b, off) as i16
    }
    pub fn get_i32(b: &[u8], off: usize) -> i32 {
        get_u32(b, off) as i32
    }
    pub fn get_i64(b: &[u8], off: usize) -> i64 {
        get_u64(b, off) as i64
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    /// Reads a little-endian integer of `n` bytes at `off`.
    pub fn rd(b: &[u8], off: usize, n: usize) -> u64 {
        let mut v = 0u64;
        for i in (0..n).rev() {
            v = (v << 8) | b[off + i] as u64;
        }
        v
    }
}
