//! uname and sysinfo.

use super::{Args, SysResult};
use crate::syscall::Caller;

pub const SYSNAME: &str = "Linux";
/// A Linux release string: programs compare versions (glibc refuses very old kernels).
pub const RELEASE: &str = "6.1.0-isounik";

pub fn sys_uname(c: &Caller, a: Args) -> SysResult {
    let mut buf = [0u8; 65 * 6];
    let hostname = crate::fs::hostname();
    let version = concat!("#1 Iso-UniK ", env!("CARGO_PKG_VERSION"));
    let fields: [&[u8]; 6] = [
        SYSNAME.as_bytes(),
        &hostname,
        RELEASE.as_bytes(),
        version.as_bytes(),
        b"x86_64",
        b"(none)",
    ];
    for (i, f) in fields.iter().enumerate() {
        let n = f.len().min(64);
        buf[i * 65..i * 65 + n].copy_from_slice(&f[..n]);
    }
    c.write(a.ptr(0), &buf)?;
    Ok(0)
}

pub fn sys_sysinfo(c: &Caller, a: Args) -> SysResult {
    let stats = crate::mm::stats();
    let mut b = [0u8; 112];
    let uptime = crate::time::uptime_ns() / 1_000_000_000;
    b[0..8].copy_from_slice(&uptime.to_le_bytes());
    // loads[3] stay 0
    b[32..40].copy_from_slice(&((stats.total_frames as u64) * 4096).to_le_bytes()); // totalram
    b[40..48].copy_from_slice(&((stats.free_frames as u64) * 4096).to_le_bytes()); // freeram
    b[80..82].copy_from_slice(
        &(crate::proc::process_count().min(u16::MAX as usize) as u16).to_le_bytes(),
    ); // procs
    b[104..108].copy_from_slice(&1u32.to_le_bytes()); // mem_unit
    c.write(a.ptr(0), &b)?;
    Ok(0)
}
