//! `getrandom` flags (linux/random.h).

use crate::flags::Names;

pub const GRND_NONBLOCK: u32 = 0x0001;
pub const GRND_RANDOM: u32 = 0x0002;
pub const GRND_INSECURE: u32 = 0x0004;
pub const GRND_NAMES: Names = &[
    (GRND_NONBLOCK as u64, "GRND_NONBLOCK"),
    (GRND_RANDOM as u64, "GRND_RANDOM"),
    (GRND_INSECURE as u64, "GRND_INSECURE"),
];
