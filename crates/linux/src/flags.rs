//! Generic decoders for flag sets and enumerations, in strace's style.
//!
//! A name table is a slice of `(value, name)`. For flags, entries are matched in table
//! order against the bits not yet printed, so a composite value (`O_SYNC`, `O_TMPFILE`)
//! must come before its parts; bits no entry covers are appended as hex
//! (`O_RDONLY|0x400000`). For enumerations, an unknown value is printed as
//! `0x5 /* SEEK_??? */`, like strace.

use alloc::string::String;
use core::fmt::Write;

/// A name table: `(value, name)` pairs.
pub type Names = &'static [(u64, &'static str)];

/// Appends the names of the bits of `value` separated by `|`, then leftover bits in hex.
/// Zero prints as `0` (callers with a name for zero, like `PROT_NONE`, handle it first).
pub fn write_flags(out: &mut String, value: u64, names: Names) {
    if value == 0 {
        out.push('0');
        return;
    }
    let mut rest = value;
    let mut first = true;
    for &(bits, name) in names {
        if bits != 0 && rest & bits == bits {
            if !first {
                out.push('|');
            }
            out.push_str(name);
            rest &= !bits;
            first = false;
        }
    }
    if rest != 0 {
        if !first {
            out.push('|');
        }
        let _ = write!(out, "{rest:#x}");
    }
}

/// [`write_flags`] into a new string.
pub fn flags_string(value: u64, names: Names) -> String {
    let mut s = String::new();
    write_flags(&mut s, value, names);
    s
}

/// The name of `value` in an enumeration table.
pub fn lookup(value: u64, names: Names) -> Option<&'static str> {
    names.iter().find(|&&(v, _)| v == value).map(|&(_, n)| n)
}

/// Appends the name of `value`, or `0x5 /* PREFIX??? */` (`unknown` is e.g. `"SEEK_???"`).
pub fn write_enum(out: &mut String, value: u64, names: Names, unknown: &str) {
    match lookup(value, names) {
        Some(n) => out.push_str(n),
        None => {
            write_hex(out, value);
            let _ = write!(out, " /* {unknown} */");
        }
    }
}

/// [`write_enum`] into a new string.
pub fn enum_string(value: u64, names: Names, unknown: &str) -> String {
    let mut s = String::new();
    write_enum(&mut s, value, names, unknown);
    s
}

/// Appends `v` as strace prints `%#lx`: `0` for zero, else `0x...`.
pub fn write_hex(out: &mut String, v: u64) {
    if v == 0 {
        out.push('0');
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

/// [`write_hex`] into a new string.
pub fn hex_string(v: u64) -> String {
    let mut s = String::new();
    write_hex(&mut s, v);
    s
}

/// Appends `v` as strace prints a mode, `%#03o`: `000`, `022`, `0644`.
pub fn write_octal(out: &mut String, v: u64) {
    if v == 0 {
        out.push_str("000");
    } else {
        let _ = write!(out, "0{v:02o}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Names = &[(0x3, "BOTH"), (0x1, "ONE"), (0x2, "TWO"), (0x8, "EIGHT")];

    #[test]
    fn flags() {
        assert_eq!(flags_string(0, T), "0");
        assert_eq!(flags_string(1, T), "ONE");
        assert_eq!(flags_string(3, T), "BOTH");
        assert_eq!(flags_string(0xb, T), "BOTH|EIGHT");
        assert_eq!(flags_string(0x400008, T), "EIGHT|0x400000");
        assert_eq!(flags_string(0x400000, T), "0x400000");
    }

    #[test]
    fn enums_and_numbers() {
        assert_eq!(enum_string(8, T, "X_???"), "EIGHT");
        assert_eq!(enum_string(5, T, "X_???"), "0x5 /* X_??? */");
        let mut s = String::new();
        write_octal(&mut s, 0);
        s.push(' ');
        write_octal(&mut s, 0o22);
        s.push(' ');
        write_octal(&mut s, 0o644);
        s.push(' ');
        write_octal(&mut s, 0o4755);
        s.push(' ');
        write_hex(&mut s, 0);
        s.push(' ');
        write_hex(&mut s, 0x1000);
        assert_eq!(s, "000 022 0644 04755 0 0x1000");
    }
}
