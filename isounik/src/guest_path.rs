//! Paths inside the guest: absolute, normalized lexically (`.` and `..` resolved without
//! looking at any file system, symlinks never resolved), kept as bytes.

use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// An absolute, lexically normalized guest path (`/`, `/bin/busybox`; never a trailing `/`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuestPath(Vec<u8>);

impl GuestPath {
    /// The root directory.
    #[cfg(test)]
    pub fn root() -> Self {
        GuestPath(b"/".to_vec())
    }

    /// Normalizes `path`, which must be absolute (`None` otherwise).
    pub fn new(path: &[u8]) -> Option<Self> {
        path.starts_with(b"/")
            .then(|| GuestPath(normalize_absolute(path)))
    }

    /// The guest path of a host path: made absolute against `cwd`, then normalized.
    pub fn from_host(path: &Path, cwd: &Path) -> Self {
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            cwd.join(path)
        };
        GuestPath(normalize_absolute(absolute.as_os_str().as_bytes()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == b"/"
    }

    /// The name inside an archive: the path without its leading `/` (empty for the root).
    pub fn archive_name(&self) -> &[u8] {
        &self.0[1..]
    }

    /// The path components (none for the root).
    pub fn components(&self) -> impl Iterator<Item = &[u8]> {
        self.archive_name()
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
    }

    /// The last component (`None` for the root).
    pub fn file_name(&self) -> Option<&[u8]> {
        self.components().last()
    }

    /// Every ancestor, outermost first, excluding the root and the path itself:
    /// `/a/b/c` gives `/a`, `/a/b`.
    pub fn ancestors(&self) -> Vec<GuestPath> {
        let mut out = Vec::new();
        let mut current = Vec::new();
        let components: Vec<&[u8]> = self.components().collect();
        for component in components.iter().take(components.len().saturating_sub(1)) {
            current.push(b'/');
            current.extend_from_slice(component);
            out.push(GuestPath(current.clone()));
        }
        out
    }

    /// `self/name` for one path component `name` (no `/`, not `.` or `..`).
    pub fn join(&self, name: &[u8]) -> GuestPath {
        let mut path = self.0.clone();
        if !self.is_root() {
            path.push(b'/');
        }
        path.extend_from_slice(name);
        GuestPath(normalize_absolute(&path))
    }

    /// Whether `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &GuestPath) -> bool {
        other.is_root()
            || self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.get(other.0.len()) == Some(&b'/'))
    }
}

impl fmt::Display for GuestPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Debug for GuestPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GuestPath({self})")
    }
}

/// Lexical normalization of an absolute path: repeated `/` collapse, `.` disappears, `..`
/// removes the previous component (and stays at the root at the top), no trailing `/`.
fn normalize_absolute(path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for component in path.split(|&b| b == b'/') {
        match component {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return b"/".to_vec();
    }
    let mut out = Vec::with_capacity(path.len());
    for part in parts {
        out.push(b'/');
        out.extend_from_slice(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        GuestPath::new(s.as_bytes()).unwrap().to_string()
    }

    #[test]
    fn normalizes_lexically() {
        assert_eq!(norm("/"), "/");
        assert_eq!(norm("//"), "/");
        assert_eq!(norm("/bin/busybox"), "/bin/busybox");
        assert_eq!(norm("/bin//./busybox/"), "/bin/busybox");
        assert_eq!(norm("/usr/bin/../../bin/busybox"), "/bin/busybox");
        assert_eq!(norm("/../../x"), "/x");
        assert_eq!(norm("/a/b/.."), "/a");
        assert_eq!(norm("/a/.../b"), "/a/.../b");
        assert!(GuestPath::new(b"relative").is_none());
        assert!(GuestPath::new(b"").is_none());
    }

    #[test]
    fn host_paths_become_absolute_without_resolving_symlinks() {
        let cwd = Path::new("/home/u/work");
        assert_eq!(
            GuestPath::from_host(Path::new("./prog"), cwd).to_string(),
            "/home/u/work/prog"
        );
        assert_eq!(
            GuestPath::from_host(Path::new("../data/x"), cwd).to_string(),
            "/home/u/data/x"
        );
        // /bin is a symlink to usr/bin on Debian: the guest path stays /bin/busybox.
        assert_eq!(
            GuestPath::from_host(Path::new("/bin/busybox"), cwd).to_string(),
            "/bin/busybox"
        );
    }

    #[test]
    fn components_ancestors_and_joins() {
        let p = GuestPath::new(b"/a/b/c").unwrap();
        assert_eq!(p.archive_name(), b"a/b/c");
        assert_eq!(p.components().collect::<Vec<_>>(), [b"a", b"b", b"c"]);
        assert_eq!(p.file_name(), Some(&b"c"[..]));
        let ancestors: Vec<String> = p.ancestors().iter().map(|a| a.to_string()).collect();
        assert_eq!(ancestors, ["/a", "/a/b"]);
        assert!(GuestPath::root().ancestors().is_empty());
        assert_eq!(GuestPath::root().components().count(), 0);
        assert_eq!(GuestPath::root().archive_name(), b"");
        assert_eq!(GuestPath::root().join(b"x").to_string(), "/x");
        assert_eq!(p.join(b"d").to_string(), "/a/b/c/d");
        assert!(p.starts_with(&GuestPath::new(b"/a/b").unwrap()));
        assert!(p.starts_with(&p));
        assert!(p.starts_with(&GuestPath::root()));
        assert!(!p.starts_with(&GuestPath::new(b"/a/bc").unwrap()));
        assert!(!GuestPath::new(b"/a/bc")
            .unwrap()
            .starts_with(&GuestPath::new(b"/a/b").unwrap()));
    }
}
