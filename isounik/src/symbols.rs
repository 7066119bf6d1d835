//! Turns kernel code addresses into `function+0xoffset` using the kernel ELF's symbol table.

use anyhow::{anyhow, Context, Result};
use elf::endian::AnyEndian;
use elf::ElfBytes;

/// One function (or code label) of the symbol table.
#[derive(Clone, Debug)]
struct Function {
    start: u64,
    /// 0 when the symbol has no size (assembly labels): it then extends to the next one.
    size: u64,
    /// Demangled, without the hash suffix.
    name: String,
}

/// The code symbols of an ELF, sorted by address.
#[derive(Clone, Debug, Default)]
pub struct Symbolizer {
    functions: Vec<Function>,
}

impl Symbolizer {
    /// Reads the `.symtab` of `elf`: `STT_FUNC` symbols, and untyped symbols that sit in
    /// executable sections (labels in assembly entry code).
    pub fn from_elf(elf: &[u8]) -> Result<Self> {
        let file = ElfBytes::<AnyEndian>::minimal_parse(elf)
            .map_err(|e| anyhow!("not a valid ELF file: {e}"))?;
        let sections = file.section_headers();
        let (symtab, strtab) = file
            .symbol_table()
            .map_err(|e| anyhow!("cannot read the ELF symbol table: {e}"))?
            .context("the ELF file has no symbol table (stripped?)")?;
        let in_code = |shndx: u16| {
            sections
                .as_ref()
                .and_then(|s| s.get(usize::from(shndx)).ok())
                .is_some_and(|s| s.sh_flags & u64::from(elf::abi::SHF_EXECINSTR) != 0)
        };
        let mut functions: Vec<Function> = symtab
            .iter()
            .filter(|sym| !sym.is_undefined() && sym.st_value != 0)
            .filter(|sym| match sym.st_symtype() {
                elf::abi::STT_FUNC => true,
                elf::abi::STT_NOTYPE => in_code(sym.st_shndx),
                _ => false,
            })
            .filter_map(|sym| {
                let name = strtab.get(sym.st_name as usize).ok()?;
                // Assembler-local labels carry no information.
                if name.is_empty() || name.starts_with(".L") || name.starts_with('$') {
                    return None;
                }
                Some(Function {
                    start: sym.st_value,
                    size: sym.st_size,
                    name: format!("{:#}", rustc_demangle::demangle(name)),
                })
            })
            .collect();
        // Sort by address; among aliases of one address keep the one with a size (and then
        // the first name), so lookups are deterministic.
        functions.sort_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then(b.size.cmp(&a.size))
                .then(a.name.cmp(&b.name))
        });
        functions.dedup_by_key(|f| f.start);
        Ok(Symbolizer { functions })
    }

    /// The function containing `address` and the offset into it.
    pub fn lookup(&self, address: u64) -> Option<(&str, u64)> {
        let after = self.functions.partition_point(|f| f.start <= address);
        let function = self.functions.get(after.checked_sub(1)?)?;
        let offset = address - function.start;
        if function.size != 0 && offset >= function.size {
            return None;
        }
        Some((&function.name, offset))
    }

    /// `  #I 0xADDR symbol+0xoff` (`??` when unknown). Frames after the first hold return
    /// addresses, which may point just past the end of a call at a function's end, so their
    /// symbol is looked up at `address - 1` (as debuggers do); the offset shown stays the
    /// true one.
    pub fn frame(&self, index: u32, address: u64) -> String {
        let probe = if index > 0 {
            address.saturating_sub(1)
        } else {
            address
        };
        match self.lookup(probe) {
            Some((name, offset)) => {
                let offset = offset + (address - probe);
                format!("  #{index} {address:#018x} {name}+{offset:#x}")
            }
            None => format!("  #{index} {address:#018x} ??"),
        }
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A function whose symbol the tests look for in this very test binary.
    #[inline(never)]
    fn symbolizer_test_marker(x: u64) -> u64 {
        std::hint::black_box(x).wrapping_mul(31).rotate_left(7) ^ 0x5a5a
    }

    fn this_binary() -> Symbolizer {
        let bytes = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        Symbolizer::from_elf(&bytes).unwrap()
    }

    fn marker(symbols: &Symbolizer) -> &Function {
        assert_eq!(symbolizer_test_marker(1), symbolizer_test_marker(1));
        symbols
            .functions
            .iter()
            .find(|f| f.name.ends_with("symbols::tests::symbolizer_test_marker"))
            .expect("the marker function is in the symbol table, demangled without hash")
    }

    #[test]
    fn symbolizes_own_functions() {
        let symbols = this_binary();
        assert!(!symbols.is_empty());
        let f = marker(&symbols).clone();
        assert!(f.size > 1);
        assert_eq!(symbols.lookup(f.start), Some((f.name.as_str(), 0)));
        assert_eq!(symbols.lookup(f.start + 1), Some((f.name.as_str(), 1)));
        assert_eq!(
            symbols.frame(0, f.start + 1),
            format!("  #0 {:#018x} {}+0x1", f.start + 1, f.name)
        );
        // A return address just past the end of the function still names it.
        assert_eq!(
            symbols.frame(3, f.start + f.size),
            format!("  #3 {:#018x} {}+{:#x}", f.start + f.size, f.name, f.size)
        );
        assert_eq!(symbols.lookup(0), None);
        assert_eq!(symbols.frame(1, 0x10), "  #1 0x0000000000000010 ??");
    }

    #[test]
    fn rejects_non_elf_input() {
        let err = Symbolizer::from_elf(b"#!/bin/sh\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a valid ELF"), "{err}");
    }

    #[test]
    fn lookup_respects_sizes_and_labels() {
        let symbols = Symbolizer {
            functions: vec![
                Function {
                    start: 0x1000,
                    size: 0x10,
                    name: "a".into(),
                },
                Function {
                    start: 0x2000,
                    size: 0,
                    name: "label".into(),
                },
                Function {
                    start: 0x3000,
                    size: 0x8,
                    name: "b".into(),
                },
            ],
        };
        assert_eq!(symbols.lookup(0xfff), None);
        assert_eq!(symbols.lookup(0x100f), Some(("a", 0xf)));
        assert_eq!(symbols.lookup(0x1010), None);
        assert_eq!(symbols.lookup(0x2fff), Some(("label", 0xfff)));
        assert_eq!(symbols.lookup(0x3007), Some(("b", 7)));
        assert_eq!(symbols.lookup(0x3008), None);
    }
}
