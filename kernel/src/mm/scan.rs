//! Finding the WRPKRU instruction in code. With it, application code could change its own
//! protection-key rights; so no executable application mapping may contain its encoding
//! `0f 01 ef` at any byte offset (ARCHITECTURE.md §4.1). XRSTOR needs no scan: XCR0 never
//! enables the PKRU component, so XRSTOR cannot load PKRU.

use alloc::collections::BTreeMap;

use isounik_linux::errno::Errno;
use isounik_vfs::InodeId;

/// The encoding of WRPKRU.
pub const WRPKRU: [u8; 3] = [0x0f, 0x01, 0xef];

/// Index of the first WRPKRU encoding in `bytes`. `memmem` searches for the needle's
/// rarest byte a word at a time and compares the rest only there: about one instruction
/// per byte of code where a byte-by-byte loop took ten (every exec scans all of a
/// program's code).
pub fn find_wrpkru(bytes: &[u8]) -> Option<usize> {
    memchr::memmem::find(bytes, &WRPKRU)
}

/// Verdicts of earlier file scans: (inode, data version, offset, length) -> the match.
/// A file's bytes change only through the file system's write and truncate, which bump
/// its data version (writable shared file mappings do not exist), so a verdict holds for
/// as long as its version is current: the second and later execs of a program skip the
/// scan. Bounded; emptied when full.
static VERDICTS: spin::Mutex<BTreeMap<ScannedRange, Option<u64>>> =
    spin::Mutex::new(BTreeMap::new());

/// (inode, data version, offset, length).
type ScannedRange = (InodeId, u64, u64, u64);
const MAX_VERDICTS: usize = 256;

/// [`scan_file`], remembering the answer for the file's current contents.
pub fn find_wrpkru_in_file(
    file: &crate::fs::FileRef,
    offset: u64,
    len: u64,
) -> Result<Option<u64>, Errno> {
    let key = (file.inode(), file.data_version()?, offset, len);
    if let Some(&verdict) = VERDICTS.lock().get(&key) {
        return Ok(verdict);
    }
    let verdict = scan_file(file, offset, len)?;
    let mut verdicts = VERDICTS.lock();
    if verdicts.len() >= MAX_VERDICTS {
        verdicts.clear();
    }
    verdicts.insert(key, verdict);
    Ok(verdict)
}

/// Whether an earlier scan of the file's current contents found no WRPKRU anywhere in
/// `[start, end)` (file offsets): a code page faulted in from there need not be scanned
/// again.
pub fn file_range_known_clean(file: &crate::fs::FileRef, start: u64, end: u64) -> bool {
    let Ok(version) = file.data_version() else {
        return false;
    };
    let id = file.inode();
    VERDICTS
        .lock()
        .range((id, version, 0, 0)..=(id, version, u64::MAX, u64::MAX))
        .any(|(&(_, _, offset, len), verdict)| {
            verdict.is_none() && offset <= start && end <= offset.saturating_add(len)
        })
}

/// Scans `len` bytes of a file from `offset` in chunks (overlapping by two bytes so an
/// instruction split across chunks is found); returns the file offset of a match.
fn scan_file(file: &crate::fs::FileRef, offset: u64, len: u64) -> Result<Option<u64>, Errno> {
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
