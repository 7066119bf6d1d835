//! Finding the WRPKRU instruction in code. With it, application code could change its own
//! protection-key rights; so no executable application mapping may contain its encoding
//! `0f 01 ef` at any byte offset (ARCHITECTURE.md §4.1). XRSTOR needs no scan: XCR0 never
//! enables the PKRU component, so XRSTOR cannot load PKRU.

/// The encoding of WRPKRU.
pub const WRPKRU: [u8; 3] = [0x0f, 0x01, 0xef];

/// Index of the first WRPKRU encoding in `bytes`.
pub fn find_wrpkru(bytes: &[u8]) -> Option<usize> {
    // Looking for the rare 0xef first is faster than comparing every window.
    let mut i = 2;
    while i < bytes.len() {
        if bytes[i] == WRPKRU[2] && bytes[i - 1] == WRPKRU[1] && bytes[i - 2] == WRPKRU[0] {
            return Some(i - 2);
        }
        i += 1;
    }
    None
}

/// Scans `len` bytes of a file from `offset` in chunks (overlapping by two bytes so an
/// instruction split across chunks is found); returns the file offset of a match.
pub fn find_wrpkru_in_file(
    file: &crate::fs::FileRef,
    offset: u64,
    len: u64,
) -> Result<Option<u64>, isounik_linux::errno::Errno> {
    const CHUNK: usize = 64 * 1024;
    let mut buf = alloc::vec![0u8; CHUNK + 2];
    let mut carried = 0usize;
    let mut pos = offset;
    let end = offset.saturating_add(len);
    while pos < end {
        let want = ((end - pos) as usize).min(CHUNK);
        let n = file.read_at(pos, &mut buf[carried..carried + want])?;
        if n == 0 {
            break;
        }
        let filled = carried + n;
        if let Some(i) = find_wrpkru(&buf[..filled]) {
            return Ok(Some(pos + i as u64 - carried as u64));
        }
        let keep = filled.min(2);
        buf.copy_within(filled - keep..filled, 0);
        carried = keep;
        pos += n as u64;
    }
    Ok(None)
}
