//! The kernel ELF to boot: the one embedded at build time, or one given with `--kernel`.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::symbols::Symbolizer;

/// The kernel built by build.rs from `<repo>/kernel`.
static EMBEDDED: &[u8] = include_bytes!(env!("ISOUNIK_KERNEL_ELF"));

pub struct KernelImage {
    bytes: Cow<'static, [u8]>,
    /// Where it already is on disk (`--kernel`); the embedded one is written out per boot.
    path: Option<PathBuf>,
    symbols: OnceCell<Option<Symbolizer>>,
}

impl KernelImage {
    pub fn embedded() -> Self {
        KernelImage {
            bytes: Cow::Borrowed(EMBEDDED),
            path: None,
            symbols: OnceCell::new(),
        }
    }

    /// Reads `path` and checks that it is an ELF file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read kernel {}", path.display()))?;
        if !bytes.starts_with(b"\x7fELF") {
            bail!("kernel {} is not an ELF file", path.display());
        }
        Ok(KernelImage {
            bytes: Cow::Owned(bytes),
            path: Some(path.to_owned()),
            symbols: OnceCell::new(),
        })
    }

    /// `--kernel` if given, else the embedded kernel.
    pub fn select(path: Option<&Path>) -> Result<Self> {
        path.map_or_else(|| Ok(Self::embedded()), Self::from_file)
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn describe(&self) -> String {
        match &self.path {
            Some(path) => format!("{} ({} bytes)", path.display(), self.len()),
            None => format!("embedded ({} bytes)", self.len()),
        }
    }

    /// A path QEMU can load the kernel from; the embedded kernel is written into `dir`.
    pub fn path_in(&self, dir: &Path) -> Result<PathBuf> {
        if let Some(path) = &self.path {
            return Ok(path.clone());
        }
        let path = dir.join("isounik-kernel");
        std::fs::write(&path, &self.bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    /// The kernel's code symbols, read on first use; `None` if the ELF has none.
    pub fn symbols(&self) -> Option<&Symbolizer> {
        self.symbols
            .get_or_init(|| Symbolizer::from_elf(&self.bytes).ok())
            .as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_missing_and_non_elf_kernels() {
        let err = KernelImage::from_file(Path::new("/nonexistent/kernel"))
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("cannot read kernel /nonexistent/kernel"));
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("text");
        std::fs::write(&text, "not a kernel").unwrap();
        let err = KernelImage::from_file(&text).err().unwrap();
        assert!(err.to_string().contains("is not an ELF file"));
    }

    #[test]
    fn embedded_kernel_is_an_elf_and_writes_out() {
        let kernel = KernelImage::embedded();
        assert!(EMBEDDED.starts_with(b"\x7fELF"));
        let dir = tempfile::tempdir().unwrap();
        let path = kernel.path_in(dir.path()).unwrap();
        assert_eq!(std::fs::read(path).unwrap(), EMBEDDED);
    }
}
