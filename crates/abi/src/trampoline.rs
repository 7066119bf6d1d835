//! The gate mode's system call trampoline: the page mapped execute-only at virtual address 0
//! (zpoline-style). A rewritten `syscall` site runs `call *%rax`, so it lands on the byte
//! whose address is the system call number, and from every byte of the page execution must
//! reach a jump to the gate entry without touching memory or any register but the flags.
//!
//! A `nop` sled does that in one instruction per byte (about 4,000 for `read`, number 0);
//! an `a9` sled (`test eax, imm32` from any offset) in one per five bytes. This page does it
//! in a few `jmp rel8` hops: the entries below [`FAST_ENTRIES`] (every Linux x86-64 system
//! call number) are pairs `eb r`, where `r` is chosen among the bytes that the CPU ignores
//! as a prefix in front of a `jmp` (segment overrides `26 2e 36 3e 64 65`, REX `40`-`4f`).
//! Entered at `eb`, a pair jumps `r` bytes past itself; entered at `r`, the prefix and the
//! next pair's `eb` and `r'` decode as one (prefixed) `jmp rel8`, the same jump the next
//! pair makes. So both phases of every pair reach the same places, and `r` (38 to 101) is
//! chosen per pair, from the last pair back to the first, to minimise the hops to the jump.
//!
//! Layout: `[0, FAST_ENTRIES)` pairs; an `a9` sled and four `nop`s up to [`FIRST_JUMP`]
//! (pairs cannot reach nearer than 38 bytes); the first jump to the gate (13 bytes); then an
//! `a9` sled for the numbers no system call has, ending in the second jump at the end of
//! the page. The 12 numbers whose entry lies inside a jump's bytes after its first
//! (`FIRST_JUMP + 1 ..= FIRST_JUMP + 12` and the same at the page end) do not reach the gate
//! (they execute the jump's address bytes, with the application's rights).

/// How far around a `syscall` site [`red_zone_near`] looks, each way.
pub const RED_ZONE_WINDOW: usize = 64;

/// Whether the code around a `syscall` site (`code`, with the site somewhere inside it)
/// seems to address memory below the stack pointer: a memory operand `[rsp - n]`
/// (ModRM with an SIB byte whose base is `rsp` and that has no index, and a negative
/// displacement), at any byte offset. Such a function keeps data in the 128-byte red zone,
/// and the `call *%rax` of a rewritten site would overwrite its first 16 bytes (the return
/// address, then the gate's saved `rdx`): glibc's `__longjmp_chk` keeps `sigaltstack`'s
/// answer there, for instance. The kernel leaves such a site to trap. A heuristic: it may
/// see an operand where the bytes are really something else (the site then only traps), and
/// it cannot see a red zone used far from the site or through another register.
pub fn red_zone_near(code: &[u8]) -> bool {
    code.windows(3).enumerate().any(|(i, w)| {
        let (modrm, sib) = (w[0], w[1]);
        let rsp_based = modrm & 7 == 4 && sib & 7 == 4 && (sib >> 3) & 7 == 4;
        match modrm >> 6 {
            // disp8
            1 => rsp_based && w[2] >= 0x80,
            // disp32: its top byte carries the sign
            2 => rsp_based && code.get(i + 5).is_some_and(|top| *top >= 0x80),
            _ => false,
        }
    })
}

/// The trampoline is one page.
pub const PAGE: usize = 4096;
/// Entry points below this take the short path of `jmp` hops.
pub const FAST_ENTRIES: usize = 480;
/// Offset of the first jump to the gate.
pub const FIRST_JUMP: usize = 520;
/// Offset of the second jump to the gate (for numbers above the first one).
pub const LAST_JUMP: usize = PAGE - JUMP_LEN;
/// Length of a jump to the gate: `movabs r11, imm64; jmp r11`.
pub const JUMP_LEN: usize = 13;

/// Bytes the CPU ignores as a prefix of `jmp rel8` (`eb`) and of `test eax, imm32` (`a9`):
/// the segment overrides and the REX prefixes. 66 (operand size) is left out: some CPUs
/// truncate the target of a jump with it; f2/f3 too (not meant for `jmp`).
const PREFIXES: [u8; 22] = [
    0x26, 0x2e, 0x36, 0x3e, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b,
    0x4c, 0x4d, 0x4e, 0x4f, 0x64, 0x65,
];

const JMP_REL8: u8 = 0xeb;
const TEST_EAX_IMM32: u8 = 0xa9;
const NOP: u8 = 0x90;

/// The page for a gate entry at `gate_entry`.
pub fn build(gate_entry: u64) -> [u8; PAGE] {
    let mut page = [0u8; PAGE];
    let jump = jump_to(gate_entry);
    // The two sleds and the jumps.
    page[FAST_ENTRIES..FIRST_JUMP - 4].fill(TEST_EAX_IMM32);
    page[FIRST_JUMP - 4..FIRST_JUMP].fill(NOP);
    page[FIRST_JUMP..FIRST_JUMP + JUMP_LEN].copy_from_slice(&jump);
    page[FIRST_JUMP + JUMP_LEN..LAST_JUMP - 4].fill(TEST_EAX_IMM32);
    page[LAST_JUMP - 4..LAST_JUMP].fill(NOP);
    page[LAST_JUMP..].copy_from_slice(&jump);
    // Instructions from each offset up to the first jump (the jump itself not counted).
    let mut cost = [u32::MAX; FIRST_JUMP + 1];
    cost[FIRST_JUMP] = 0;
    for at in (FAST_ENTRIES..FIRST_JUMP).rev() {
        let next = match page[at] {
            TEST_EAX_IMM32 => at + 5,
            _ => at + 1,
        };
        cost[at] = 1 + cost[next.min(FIRST_JUMP)];
    }
    // The pairs, from the last back: each jumps where the fewest hops remain. A target is
    // the jump, a pair's `eb` (the cost there), or a pair's `r` (the cost of the next pair's
    // `eb`, computed already since it lies further on).
    for at in (0..FAST_ENTRIES).step_by(2).rev() {
        let (r, best) = PREFIXES
            .iter()
            .filter_map(|&r| {
                let target = at + 2 + r as usize;
                (target <= FIRST_JUMP).then(|| (r, cost[target]))
            })
            .min_by_key(|&(r, c)| (c, core::cmp::Reverse(r)))
            .expect("some prefix reaches on from every pair");
        page[at] = JMP_REL8;
        page[at + 1] = r;
        cost[at] = 1 + best;
        // Entered at `r`: with the next instruction as one, or as a prefixed `test` when the
        // sled follows.
        cost[at + 1] = if at + 2 < FAST_ENTRIES {
            cost[at + 2]
        } else {
            1 + cost[at + 2 + 5]
        };
    }
    page
}

/// `movabs r11, target; jmp r11`.
fn jump_to(target: u64) -> [u8; JUMP_LEN] {
    let mut jump = [0u8; JUMP_LEN];
    jump[0] = 0x49;
    jump[1] = 0xbb;
    jump[2..10].copy_from_slice(&target.to_le_bytes());
    jump[10] = 0x41;
    jump[11] = 0xff;
    jump[12] = 0xe3;
    jump
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn red_zone_operands_are_seen() {
        let below_rsp: [(&str, &[u8]); 4] = [
            // glibc's __longjmp_chk, before and after its sigaltstack
            (
                "lea -0x18(%rsp),%rsi; syscall",
                &[0x48, 0x8d, 0x74, 0x24, 0xe8, 0x0f, 0x05],
            ),
            (
                "syscall; testl $1,-0x10(%rsp)",
                &[0x0f, 0x05, 0xf7, 0x44, 0x24, 0xf0, 1, 0, 0, 0],
            ),
            ("mov -0x8(%rsp),%rax", &[0x48, 0x8b, 0x44, 0x24, 0xf8]),
            (
                "mov %rdi,-0x100(%rsp)",
                &[0x48, 0x89, 0xbc, 0x24, 0x00, 0xff, 0xff, 0xff],
            ),
        ];
        for (what, code) in below_rsp {
            assert!(red_zone_near(code), "{what}");
        }
        let elsewhere: [(&str, &[u8]); 8] = [
            ("mov 0x8(%rsp),%rax", &[0x48, 0x8b, 0x44, 0x24, 0x08]),
            (
                "mov 0x100(%rsp),%rax",
                &[0x48, 0x8b, 0x84, 0x24, 0x00, 0x01, 0, 0],
            ),
            ("mov %edi,-0x14(%rbp)", &[0x89, 0x7d, 0xec]),
            ("mov (%rsp),%rax", &[0x48, 0x8b, 0x04, 0x24]),
            (
                "musl: mov %rdi,%rax; mov %rsi,%rdi; mov %rdx,%rsi; syscall; ret",
                &[
                    0x48, 0x89, 0xf8, 0x48, 0x89, 0xf7, 0x48, 0x89, 0xd6, 0x0f, 0x05, 0xc3,
                ],
            ),
            (
                "an index register: mov -0x8(%rsp,%rcx,1),%rax",
                &[0x48, 0x8b, 0x44, 0x0c, 0xf8],
            ),
            (
                "a disp32 cut off by the window",
                &[0x48, 0x89, 0xbc, 0x24, 0x00],
            ),
            ("nothing", &[]),
        ];
        for (what, code) in elsewhere {
            assert!(!red_zone_near(code), "{what}");
        }
    }

    const GATE: u64 = 0xffff_ffff_8012_3440;

    /// Decodes the one instruction at `at`, accepting only what the trampoline may contain:
    /// `Ok(next offset)`, `Err(())` at a jump to the gate. Anything else fails the test.
    fn step(page: &[u8; PAGE], at: usize) -> Result<usize, ()> {
        if at == FIRST_JUMP || at == LAST_JUMP {
            assert_eq!(page[at..at + JUMP_LEN], jump_to(GATE), "jump at {at}");
            return Err(());
        }
        let (prefixed, op) = if PREFIXES.contains(&page[at]) {
            (1, at + 1)
        } else {
            (0, at)
        };
        match page[op] {
            JMP_REL8 => {
                let rel = page[op + 1] as i8;
                assert!(rel > 0, "backward jump at {at}");
                Ok(op + 2 + rel as usize)
            }
            TEST_EAX_IMM32 => Ok(op + 5),
            NOP if prefixed == 0 || page[at] == 0x48 || page[at] < 0x40 => Ok(op + 1),
            b => panic!("entry {at}: byte {b:#04x} at {op} is not a sled instruction"),
        }
    }

    /// Instructions executed from entry `n` before the jump to the gate, or `None` if the
    /// entry lies inside a jump's bytes.
    fn path_length(page: &[u8; PAGE], n: usize) -> Option<u32> {
        if (FIRST_JUMP + 1..FIRST_JUMP + JUMP_LEN).contains(&n) || n > LAST_JUMP {
            return None;
        }
        let mut at = n;
        let mut count = 0;
        while let Ok(next) = step(page, at) {
            assert!(
                next > at && next < PAGE,
                "entry {n} leaves forward in the page"
            );
            at = next;
            count += 1;
        }
        Some(count)
    }

    #[test]
    fn every_entry_reaches_the_gate_forward() {
        let page = build(GATE);
        let mut lengths = [0u32; PAGE];
        for (n, len) in lengths.iter_mut().enumerate() {
            *len = path_length(&page, n).unwrap_or(0);
        }
        // Every Linux number (below 470) reaches the jump in at most 6 instructions, 3.5 on
        // average; an `a9` sled took up to 96, a `nop` sled up to 4,000.
        let linux = &lengths[..470];
        let longest = linux.iter().max().copied().unwrap_or(0);
        let total: u32 = linux.iter().sum();
        assert!(longest <= 6, "longest path {longest}");
        assert!(total <= 470 * 4, "average {}", total as f64 / 470.0);
        for (name, nr, most) in [("read", 0, 6), ("write", 1, 6), ("getppid", 110, 4)] {
            assert!(lengths[nr] <= most, "{name} takes {}", lengths[nr]);
        }
        // The pair that faces the sled: its `r` starts a prefixed `test`.
        assert!(lengths[FAST_ENTRIES - 1] <= 9);
    }

    #[test]
    fn the_page_has_no_wrpkru_and_only_sled_bytes() {
        let page = build(GATE);
        assert!(!page.windows(3).any(|w| w == [0x0f, 0x01, 0xef]));
        for (i, b) in page[..FIRST_JUMP].iter().enumerate() {
            assert!(
                [JMP_REL8, TEST_EAX_IMM32, NOP].contains(b) || PREFIXES.contains(b),
                "byte {b:#04x} at {i}"
            );
        }
    }

    /// The decoder above agrees with binutils on every instruction form the page uses
    /// (skipped, with a note, where objdump is missing).
    #[test]
    fn binutils_decodes_the_sled_forms_the_same_way() {
        extern crate std;
        use std::string::String;
        use std::vec::Vec;
        let mut code = Vec::new();
        let mut expected = Vec::new();
        for &r in &PREFIXES {
            code.extend_from_slice(&[JMP_REL8, r]);
            expected.push((2, "jmp"));
            code.extend_from_slice(&[r, JMP_REL8, 0x05]);
            expected.push((3, "jmp"));
            code.extend_from_slice(&[r, TEST_EAX_IMM32, 0xa9, 0xa9, 0xa9, 0xa9]);
            expected.push((6, "test"));
        }
        code.extend_from_slice(&[TEST_EAX_IMM32; 5]);
        expected.push((5, "test eax,0xa9a9a9a9"));
        code.push(NOP);
        expected.push((1, "nop"));
        code.extend_from_slice(&jump_to(GATE));
        expected.push((10, "movabs r11,0xffffffff80123440"));
        expected.push((3, "jmp r11"));
        let path = std::env::temp_dir().join(std::format!("trampoline-{}.bin", std::process::id()));
        std::fs::write(&path, &code).unwrap();
        let out = std::process::Command::new("objdump")
            .args([
                "-D",
                "-b",
                "binary",
                "-m",
                "i386:x86-64",
                "-M",
                "intel",
                "-w",
            ])
            .arg(&path)
            .output();
        let _ = std::fs::remove_file(&path);
        let Ok(out) = out else {
            std::eprintln!("note: objdump not found; the binutils cross-check is skipped");
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        // Lines look like "   5:\t4f eb 05             \trex.WRXB jmp 0xd".
        let decoded: Vec<(usize, String)> = text
            .lines()
            .filter_map(|l| {
                let mut cols = l.split('\t');
                cols.next()?.trim().strip_suffix(':')?;
                let bytes = cols.next()?.split_whitespace().count();
                let asm = cols
                    .next()?
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                Some((bytes, asm))
            })
            .collect();
        assert_eq!(decoded.len(), expected.len(), "{text}");
        for ((len, asm), (want_len, want)) in decoded.iter().zip(&expected) {
            assert_eq!(len, want_len, "{asm}");
            // Prefixes show as words before the instruction ("es", "gs", "rex.WRXB").
            let ins: Vec<&str> = asm
                .split(' ')
                .skip_while(|w| {
                    ["es", "cs", "ss", "ds", "fs", "gs"].contains(w) || w.starts_with("rex")
                })
                .collect();
            assert!(ins.join(" ").starts_with(want), "{asm:?} is not {want:?}");
        }
    }
}
