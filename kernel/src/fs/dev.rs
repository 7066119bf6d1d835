//! Character devices: /dev/null, zero, full, random, urandom, console, tty, and the host's
//! standard streams. Device nodes are ordinary inodes of the root file system; what they do
//! is chosen by their device number.

use isounik_linux::errno::Errno;
use isounik_vfs::{FileType, InodeId, Vfs};

use super::KernelPlatform;
use crate::drivers::{stdio, uart};

/// What a device descriptor does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Null,
    Zero,
    Full,
    Random,
    /// The program's standard input from the host (COM1), not a terminal.
    HostStdin,
    /// The program's standard output to the host, not a terminal.
    HostStdout,
    /// The program's standard error to the host, not a terminal.
    HostStderr,
    /// The console as a terminal (`console=tty`).
    Tty,
}

const MEM_MAJOR: u32 = 1;
const TTY_MAJOR: u32 = 5;

/// The device a node's number names; `None` for numbers nothing implements (ENXIO).
pub fn from_rdev(major: u32, minor: u32) -> Option<Device> {
    match (major, minor) {
        (MEM_MAJOR, 3) => Some(Device::Null),
        (MEM_MAJOR, 5) => Some(Device::Zero),
        (MEM_MAJOR, 7) => Some(Device::Full),
        (MEM_MAJOR, 8) | (MEM_MAJOR, 9) => Some(Device::Random),
        // /dev/tty and /dev/console: the terminal when there is one; without a terminal,
        // /dev/console is the host's standard streams and /dev/tty has no device.
        (TTY_MAJOR, 0) => stdio::is_tty().then_some(Device::Tty),
        (TTY_MAJOR, 1) => Some(if stdio::is_tty() {
            Device::Tty
        } else {
            Device::HostStdin
        }),
        _ => None,
    }
}

/// Creates the device nodes and links of /dev (its directory comes from the initramfs or is
/// made here).
pub fn populate(vfs: &mut Vfs<KernelPlatform>, root: InodeId) -> Result<(), isounik_vfs::FsError> {
    let dev = match vfs.lookup(root, b"dev") {
        Ok(d) => d,
        Err(_) => vfs.mkdir(root, b"dev", 0o755, 0, 0)?,
    };
    let nodes: [(&[u8], u32, u32, u32); 7] = [
        (b"null", MEM_MAJOR, 3, 0o666),
        (b"zero", MEM_MAJOR, 5, 0o666),
        (b"full", MEM_MAJOR, 7, 0o666),
        (b"random", MEM_MAJOR, 8, 0o666),
        (b"urandom", MEM_MAJOR, 9, 0o666),
        (b"tty", TTY_MAJOR, 0, 0o666),
        (b"console", TTY_MAJOR, 1, 0o600),
    ];
    for (name, major, minor, mode) in nodes {
        if vfs.lookup(dev, name).is_err() {
            vfs.mknod(dev, name, FileType::CharDevice, mode, (major, minor), 0, 0)?;
        }
    }
    let links: [(&[u8], &[u8]); 4] = [
        (b"stdin", b"/proc/self/fd/0"),
        (b"stdout", b"/proc/self/fd/1"),
        (b"stderr", b"/proc/self/fd/2"),
        (b"fd", b"/proc/self/fd"),
    ];
    for (name, target) in links {
        if vfs.lookup(dev, name).is_err() {
            vfs.symlink(dev, name, target, 0, 0)?;
        }
    }
    if vfs.lookup(dev, b"shm").is_err() {
        vfs.mkdir(dev, b"shm", 0o1777, 0, 0)?;
    }
    Ok(())
}

impl Device {
    /// Whether it is one of the memory devices (null, zero, full, random), which need no
    /// hardware and no ring-0 state: the MPK gate serves them in ring 3.
    pub fn is_memory(self) -> bool {
        matches!(
            self,
            Device::Null | Device::Zero | Device::Full | Device::Random
        )
    }

    /// Reads into `buf`; `nonblock` gives EAGAIN instead of waiting.
    pub fn read(self, buf: &mut [u8], nonblock: bool) -> Result<usize, Errno> {
        match self {
            Device::Null => Ok(0),
            Device::Zero | Device::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Device::Random => {
                crate::random::fill(buf);
                Ok(buf.len())
            }
            Device::HostStdin | Device::Tty => {
                if buf.is_empty() {
                    return Ok(0);
                }
                let result = if nonblock {
                    uart::try_read(buf)
                } else {
                    uart::read(buf)
                };
                match result {
                    uart::ReadResult::Bytes(n) => Ok(n),
                    uart::ReadResult::Eof => Ok(0),
                    uart::ReadResult::Empty => Err(Errno::EAGAIN),
                }
            }
            Device::HostStdout | Device::HostStderr => Err(Errno::EBADF),
        }
    }

    pub fn write(self, data: &[u8]) -> Result<usize, Errno> {
        match self {
            Device::Null | Device::Zero | Device::Random => Ok(data.len()),
            Device::Full => Err(Errno::ENOSPC),
            Device::HostStdout => {
                stdio::write_stdout(data);
                Ok(data.len())
            }
            Device::HostStderr => {
                stdio::write_stderr(data);
                Ok(data.len())
            }
            Device::Tty => {
                stdio::write_tty(data);
                Ok(data.len())
            }
            // Writing to the console without a terminal goes to standard output.
            Device::HostStdin => {
                stdio::write_stdout(data);
                Ok(data.len())
            }
        }
    }

    pub fn is_tty(self) -> bool {
        self == Device::Tty
    }

    /// Whether a read would not block, and whether a write would not block.
    pub fn ready(self) -> (bool, bool) {
        match self {
            Device::Tty => (crate::drivers::tty::readable(), true),
            Device::HostStdin => (uart::input_ready(), true),
            Device::HostStdout | Device::HostStderr => (false, true),
            _ => (true, true),
        }
    }

    /// Bytes a read would return without waiting (FIONREAD).
    pub fn available(self) -> usize {
        match self {
            Device::Tty => crate::drivers::tty::available(),
            Device::HostStdin => uart::available(),
            _ => 0,
        }
    }
}
