//! The Linux x86-64 user ABI, as Iso-UniK implements it and as `strace` shows it.
//!
//! This crate is the single source of truth for everything a static Linux x86-64 binary
//! can observe about the kernel: system call numbers ([`syscall::nr`]), the `errno` values
//! ([`Errno`]), the flag and command constants of every interface (one module per header),
//! the byte layouts of the structures exchanged with user memory ([`structs`]), the
//! signal frame ([`structs::sigframe`]) and a `strace`-style formatter ([`strace`]).
//!
//! Everything matches the x86-64 uapi headers exactly. Structures are produced as
//! little-endian byte arrays by safe code (`to_bytes`) and parsed from byte slices
//! (`from_bytes`); nothing is transmuted.
//!
//! Modules:
//! * [`errno`] has [`Errno`], [`Result`] and [`errno::syscall_return`].
//! * [`syscall`] has the system call table ([`syscall::TABLE`], [`syscall::nr`]).
//! * [`strace`] has [`strace::format_call`].
//! * [`flags`] has the generic flag/enum decoders the other modules use.
//! * Constants, one module per header: [`fcntl`], [`stat`], [`mman`], [`time`],
//!   [`sched`], [`wait`], [`signal`], [`futex`], [`resource`], [`prctl`],
//!   [`arch_prctl`], [`random`], [`ioctl`], [`termios`], [`poll`], [`socket`], [`auxv`].
//! * [`structs`] has the structure layouts and the signal frame.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod arch_prctl;
pub mod auxv;
pub mod errno;
pub mod fcntl;
pub mod flags;
pub mod futex;
pub mod ioctl;
pub mod mman;
pub mod poll;
pub mod prctl;
pub mod random;
pub mod resource;
pub mod sched;
pub mod signal;
pub mod socket;
pub mod stat;
pub mod strace;
pub mod structs;
pub mod syscall;
pub mod termios;
pub mod time;
pub mod wait;

pub use errno::{Errno, Result};
