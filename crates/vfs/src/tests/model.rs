//! Thousands of random operations checked against a naive model of the tree.

use std::collections::{BTreeMap, BTreeSet};
use std::format;
use std::vec::Vec;

use super::*;
use crate::{FileType, FsError, Resolved, RENAME_EXCHANGE, RENAME_NOREPLACE};

type Comps = Vec<Vec<u8>>;

#[derive(Clone, Debug)]
enum MNode {
    Dir(BTreeMap<Vec<u8>, MNode>),
    File(usize),
}

#[derive(Default)]
struct MFile {
    data: Vec<u8>,
    pages: BTreeSet<u64>,
}

struct Model {
    root: MNode,
    files: BTreeMap<usize, MFile>,
    next_file: usize,
}

fn slash(comps: &[Vec<u8>]) -> Vec<u8> {
    let mut p = Vec::new();
    for c in comps {
        p.push(b'/');
        p.extend_from_slice(c);
    }
    p
}

impl Model {
    fn get(&self, comps: &[Vec<u8>]) -> Result<&MNode, FsError> {
        let mut cur = &self.root;
        for c in comps {
            cur = match cur {
                MNode::Dir(entries) => entries.get(c).ok_or(FsError::NotFound)?,
                MNode::File(_) => return Err(FsError::NotDirectory),
            };
        }
        Ok(cur)
    }

    fn dir(&self, comps: &[Vec<u8>]) -> Result<&BTreeMap<Vec<u8>, MNode>, FsError> {
        match self.get(comps)? {
            MNode::Dir(entries) => Ok(entries),
            MNode::File(_) => Err(FsError::NotDirectory),
        }
    }

    fn dir_mut(&mut self, comps: &[Vec<u8>]) -> &mut BTreeMap<Vec<u8>, MNode> {
        let mut cur = &mut self.root;
        for c in comps {
            let MNode::Dir(entries) = cur else {
                unreachable!()
            };
            cur = entries.get_mut(c).unwrap();
        }
        let MNode::Dir(entries) = cur else {
            unreachable!()
        };
        entries
    }

    fn file(&self, comps: &[Vec<u8>]) -> Result<usize, FsError> {
        match self.get(comps)? {
            MNode::File(id) => Ok(*id),
            MNode::Dir(_) => Err(FsError::IsDirectory),
        }
    }

    fn links(&self, id: usize) -> u32 {
        fn count(node: &MNode, id: usize) -> u32 {
            match node {
                MNode::File(f) => u32::from(*f == id),
                MNode::Dir(e) => e.values().map(|n| count(n, id)).sum(),
            }
        }
        count(&self.root, id)
    }

    /// Forgets files without names (the tests hold no open references).
    fn collect(&mut self) {
        let ids: Vec<usize> = self.files.keys().copied().collect();
        for id in ids {
            if self.links(id) == 0 {
                self.files.remove(&id);
            }
        }
    }

    fn create(&mut self, path: &Comps, dir: bool) -> Result<(), FsError> {
        let (name, parent) = path.split_last().unwrap();
        if self.dir(parent)?.contains_key(name) {
            return Err(FsError::Exists);
        }
        let node = if dir {
            MNode::Dir(BTreeMap::new())
        } else {
            self.next_file += 1;
            self.files.insert(self.next_file, MFile::default());
            MNode::File(self.next_file)
        };
        self.dir_mut(parent).insert(name.clone(), node);
        Ok(())
    }

    fn remove(&mut self, path: &Comps, dir: bool) -> Result<(), FsError> {
        let (name, parent) = path.split_last().unwrap();
        match (self.dir(parent)?.get(name), dir) {
            (None, _) => return Err(FsError::NotFound),
            (Some(MNode::Dir(_)), false) => return Err(FsError::IsDirectory),
            (Some(MNode::File(_)), true) => return Err(FsError::NotDirectory),
            (Some(MNode::Dir(e)), true) if !e.is_empty() => return Err(FsError::NotEmpty),
            _ => {}
        }
        self.dir_mut(parent).remove(name);
        self.collect();
        Ok(())
    }

    fn link(&mut self, from: &Comps, to: &Comps) -> Result<(), FsError> {
        let node = self.get(from)?.clone();
        let (name, parent) = to.split_last().unwrap();
        if self.dir(parent)?.contains_key(name) {
            return Err(FsError::Exists);
        }
        if let MNode::Dir(_) = node {
            return Err(FsError::NotPermitted);
        }
        self.dir_mut(parent).insert(name.clone(), node);
        Ok(())
    }

    fn rename(&mut self, from: &Comps, to: &Comps, flags: u32) -> Result<(), FsError> {
        let exchange = flags & RENAME_EXCHANGE != 0;
        let (old_name, old_parent) = from.split_last().unwrap();
        let (new_name, new_parent) = to.split_last().unwrap();
        self.dir(old_parent)?;
        self.dir(new_parent)?;
        let src = self
            .dir(old_parent)?
            .get(old_name)
            .cloned()
            .ok_or(FsError::NotFound)?;
        let dst = self.dir(new_parent)?.get(new_name).cloned();
        if flags & RENAME_NOREPLACE != 0 && dst.is_some() {
            return Err(FsError::Exists);
        }
        if exchange && dst.is_none() {
            return Err(FsError::NotFound);
        }
        let same =
            from == to || matches!((&src, &dst), (MNode::File(a), Some(MNode::File(b))) if a == b);
        if same {
            return Ok(());
        }
        let src_dir = matches!(src, MNode::Dir(_));
        if src_dir && new_parent.starts_with(from) {
            return Err(FsError::Invalid);
        }
        if let Some(MNode::Dir(entries)) = &dst {
            if old_parent.starts_with(to) {
                return Err(if exchange {
                    FsError::Invalid
                } else {
                    FsError::NotEmpty
                });
            }
            if !exchange && !src_dir {
                return Err(FsError::IsDirectory);
            }
            if !exchange && !entries.is_empty() {
                return Err(FsError::NotEmpty);
            }
        } else if dst.is_some() && src_dir && !exchange {
            return Err(FsError::NotDirectory);
        }
        if exchange {
            self.dir_mut(old_parent)
                .insert(old_name.clone(), dst.unwrap());
            self.dir_mut(new_parent).insert(new_name.clone(), src);
        } else {
            self.dir_mut(old_parent).remove(old_name);
            self.dir_mut(new_parent).insert(new_name.clone(), src);
            self.collect();
        }
        Ok(())
    }

    fn write(&mut self, path: &Comps, offset: usize, data: &[u8]) -> Result<usize, FsError> {
        let id = self.file(path)?;
        let f = self.files.get_mut(&id).unwrap();
        if data.is_empty() {
            return Ok(0);
        }
        let end = offset + data.len();
        if f.data.len() < end {
            f.data.resize(end, 0);
        }
        f.data[offset..end].copy_from_slice(data);
        for page in offset as u64 / 4096..=(end as u64 - 1) / 4096 {
            f.pages.insert(page);
        }
        Ok(data.len())
    }

    fn truncate(&mut self, path: &Comps, size: usize) -> Result<(), FsError> {
        let id = self.file(path)?;
        let f = self.files.get_mut(&id).unwrap();
        f.data.resize(size, 0);
        let keep = (size as u64).div_ceil(4096);
        f.pages.retain(|&p| p < keep);
        Ok(())
    }
}

struct Harness {
    vfs: TestVfs,
    model: Model,
    /// Model file -> vfs inode.
    ids: BTreeMap<usize, InodeId>,
}

impl Harness {
    fn node(&self, path: &Comps) -> Result<InodeId, FsError> {
        let root = self.vfs.root();
        match self.vfs.resolve(root, root, &slash(path), true)? {
            Resolved::Node(id) => Ok(id),
            Resolved::Foreign { .. } => unreachable!(),
        }
    }

    fn parent(&self, path: &Comps) -> Result<(InodeId, Vec<u8>), FsError> {
        parent(&self.vfs, std::str::from_utf8(&slash(path)).unwrap())
    }

    /// Compares the whole tree, link counts, sizes, contents and live pages.
    fn check(&mut self, step: usize) {
        let root = self.vfs.root();
        let model_root = self.model.root.clone();
        self.check_dir(root, &model_root, &mut Vec::new(), step);
        let pages: usize = self.model.files.values().map(|f| f.pages.len()).sum();
        assert_eq!(live_pages(&self.vfs), pages, "step {step}: live pages");
        let dirs = count_dirs(&self.model.root);
        assert_eq!(
            self.vfs.inode_count(),
            dirs + self.model.files.len(),
            "step {step}: inodes"
        );
    }

    fn check_dir(&mut self, dir: InodeId, model: &MNode, path: &mut Comps, step: usize) {
        let MNode::Dir(entries) = model else {
            unreachable!()
        };
        let names = list(&mut self.vfs, dir);
        let sorted: BTreeSet<Vec<u8>> = names.iter().cloned().collect();
        assert_eq!(names.len(), sorted.len(), "step {step}: duplicate names");
        let expected: BTreeSet<Vec<u8>> = entries.keys().cloned().collect();
        assert_eq!(
            sorted,
            expected,
            "step {step}: entries of {:?}",
            slash(path)
        );
        let st = self.vfs.stat(dir).unwrap();
        let subdirs = entries
            .values()
            .filter(|n| matches!(n, MNode::Dir(_)))
            .count();
        assert_eq!(
            st.nlink as usize,
            2 + subdirs,
            "step {step}: nlink of {:?}",
            slash(path)
        );
        assert_eq!(st.size as usize, (entries.len() + 2) * 20);
        for (name, child) in entries {
            let id = self.vfs.lookup(dir, name).unwrap();
            path.push(name.clone());
            match child {
                MNode::Dir(_) => {
                    assert_eq!(self.vfs.file_type(id), Ok(FileType::Directory));
                    assert_eq!(self.vfs.parent(id), Ok(dir));
                    assert_eq!(self.vfs.path_of(id), Ok(slash(path)));
                    self.check_dir(id, child, path, step);
                }
                MNode::File(f) => {
                    assert_eq!(self.ids[f], id, "step {step}: inode of {:?}", slash(path));
                    let st = self.vfs.stat(id).unwrap();
                    let mf = &self.model.files[f];
                    assert_eq!(st.nlink, self.model.links(*f), "step {step}");
                    assert_eq!(st.size as usize, mf.data.len(), "step {step}");
                    assert_eq!(st.blocks as usize, mf.pages.len() * 8, "step {step}");
                    let data = read_all(&mut self.vfs, id);
                    assert!(
                        data == mf.data,
                        "step {step}: contents of {:?}",
                        slash(path)
                    );
                }
            }
            path.pop();
        }
    }
}

fn count_dirs(node: &MNode) -> usize {
    match node {
        MNode::Dir(e) => 1 + e.values().map(count_dirs).sum::<usize>(),
        MNode::File(_) => 0,
    }
}

fn random_name(rng: &mut Rng) -> Vec<u8> {
    [&b"a"[..], b"b", b"c"][rng.below(3) as usize].to_vec()
}

/// Mostly paths that exist (or whose parent does), sometimes any path.
fn random_path(rng: &mut Rng, model: &Model) -> Comps {
    if rng.chance(25) {
        let depth = 1 + rng.below(3) as usize;
        return (0..depth).map(|_| random_name(rng)).collect();
    }
    let mut comps = Vec::new();
    let mut cur = &model.root;
    while let MNode::Dir(entries) = cur {
        if entries.is_empty() || comps.len() == 3 || rng.chance(30) {
            break;
        }
        let (name, child) = entries
            .iter()
            .nth(rng.below(entries.len() as u64) as usize)
            .unwrap();
        comps.push(name.clone());
        cur = child;
    }
    if comps.is_empty() || (comps.len() < 4 && rng.chance(40)) {
        comps.push(random_name(rng));
    }
    comps
}

#[test]
fn random_operations_match_the_model() {
    let mut outcomes: BTreeMap<std::string::String, usize> = BTreeMap::new();
    for seed in [0x1234_5678_9abc_def1, 7, 0xdead_beef] {
        run(seed, 3000, &mut outcomes);
    }
    // The runs must have exercised successes and the interesting errors.
    for key in [
        "rename Ok(())",
        "rename Err(Invalid)",
        "rename Err(NotEmpty)",
        "rename Err(IsDirectory)",
        "rename Err(NotDirectory)",
        "rename Err(Exists)",
        "link Ok(())",
        "link Err(NotPermitted)",
        "rmdir Ok(())",
        "rmdir Err(NotEmpty)",
        "unlink Ok(())",
        "write Ok(())",
        "write Err(IsDirectory)",
        "truncate Ok(())",
        "create Err(NotDirectory)",
    ] {
        assert!(
            outcomes.get(key).copied().unwrap_or(0) > 20,
            "rarely saw {key}: {outcomes:?}"
        );
    }
}

fn run(seed: u64, steps: usize, outcomes: &mut BTreeMap<std::string::String, usize>) {
    let mut rng = Rng::new(seed);
    let mut h = Harness {
        vfs: new_vfs(),
        model: Model {
            root: MNode::Dir(BTreeMap::new()),
            files: BTreeMap::new(),
            next_file: 0,
        },
        ids: BTreeMap::new(),
    };
    for step in 0..steps {
        let p = random_path(&mut rng, &h.model);
        let q = random_path(&mut rng, &h.model);
        let op = rng.below(13);
        let (name, expected, actual): (&str, Result<(), FsError>, Result<(), FsError>) = match op {
            0..=2 => {
                let expected = h.model.create(&p, false);
                let actual = h.parent(&p).and_then(|(dir, name)| {
                    h.vfs.create_file(dir, &name, 0o644, 0, 0).map(|id| {
                        h.ids.insert(h.model.next_file, id);
                    })
                });
                ("create", expected, actual)
            }
            3 => {
                let expected = h.model.create(&p, true);
                let actual = h
                    .parent(&p)
                    .and_then(|(dir, name)| h.vfs.mkdir(dir, &name, 0o755, 0, 0).map(|_| ()));
                ("mkdir", expected, actual)
            }
            4 => {
                let expected = h.model.remove(&p, false);
                let actual = h
                    .parent(&p)
                    .and_then(|(dir, name)| h.vfs.unlink(dir, &name));
                ("unlink", expected, actual)
            }
            5 => {
                let expected = h.model.remove(&p, true);
                let actual = h.parent(&p).and_then(|(dir, name)| h.vfs.rmdir(dir, &name));
                ("rmdir", expected, actual)
            }
            6 | 7 => {
                let expected = h.model.link(&p, &q);
                let actual = h.node(&p).and_then(|id| {
                    let (dir, name) = h.parent(&q)?;
                    h.vfs.link(id, dir, &name)
                });
                ("link", expected, actual)
            }
            8 | 9 => {
                let flags = [0, 0, RENAME_NOREPLACE, RENAME_EXCHANGE][rng.below(4) as usize];
                let expected = h.model.rename(&p, &q, flags);
                let actual = h.parent(&p).and_then(|(od, on)| {
                    let (nd, nn) = h.parent(&q)?;
                    h.vfs.rename(od, &on, nd, &nn, flags)
                });
                ("rename", expected, actual)
            }
            10 | 11 => {
                let offset = rng.below(3 * 4096 + 200) as usize;
                let len = rng.below(5000) as usize;
                let byte = rng.next() as u8 | 1;
                let data = std::vec![byte; len];
                let expected = h.model.write(&p, offset, &data).map(|_| ());
                let actual = h
                    .node(&p)
                    .and_then(|id| h.vfs.write_at(id, offset as u64, &data))
                    .map(|n| assert_eq!(n, len));
                ("write", expected, actual)
            }
            _ => {
                let size = rng.below(4 * 4096) as usize;
                let expected = h.model.truncate(&p, size);
                let actual = h.node(&p).and_then(|id| h.vfs.truncate(id, size as u64));
                ("truncate", expected, actual)
            }
        };
        assert_eq!(
            actual,
            expected,
            "step {step}: {name} {:?} {:?}",
            std::string::String::from_utf8_lossy(&slash(&p)),
            std::string::String::from_utf8_lossy(&slash(&q)),
        );
        *outcomes.entry(format!("{name} {expected:?}")).or_insert(0) += 1;
        if step % 50 == 0 {
            h.check(step);
        }
    }
    h.check(steps);
}
