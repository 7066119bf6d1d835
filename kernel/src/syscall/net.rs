//! The socket calls (`fs::socket` has the sockets). Every one needs only a `Caller`, so the
//! MPK gate runs them all in ring 3.

use alloc::sync::Arc;
use alloc::vec::Vec;

use isounik_linux::errno::Errno;
use isounik_linux::socket::*;
use isounik_linux::structs::{
    cmsg_bytes, cmsg_space, parse_cmsgs, AddressUse, Msghdr, SocketAddress, CMSG_HDR,
};
use isounik_vfs::{FileType, InodeId};

use super::fs::{install_pair, read_iovecs, transfer_each};
use super::{Args, Caller, SysResult};
use crate::fs::file::{O_NONBLOCK, O_RDWR};
use crate::fs::pipe::{Attachment, Flow};
use crate::fs::socket::{self, Socket, SocketFile};
use crate::fs::{self as vfs, with_vfs, FileKind, Node, OpenFile};

const O_CLOEXEC: u32 = 0o2000000;

/// The type argument of socket/socketpair: (type, SOCK_NONBLOCK/SOCK_CLOEXEC flags).
fn split_type(ty: u32) -> Result<(u32, u32), Errno> {
    let flags = ty & (SOCK_NONBLOCK | SOCK_CLOEXEC);
    let base = ty & !flags;
    if base & !SOCK_TYPE_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    Ok((base, flags))
}

fn open_socket(s: Arc<Socket>, flags: u32) -> Arc<OpenFile> {
    OpenFile::new(
        FileKind::Socket(SocketFile(s)),
        O_RDWR | (flags & O_NONBLOCK),
        Vec::new(),
    )
}

fn install(c: &Caller, s: Arc<Socket>, flags: u32) -> SysResult {
    let limit = c.nofile_limit();
    let fd = c
        .files
        .lock()
        .insert_from(0, open_socket(s, flags), flags & O_CLOEXEC != 0, limit)?;
    Ok(fd as u64)
}

/// The socket behind descriptor argument `i`, with its open file (for O_NONBLOCK).
fn socket_arg(c: &Caller, a: Args, i: usize) -> Result<(Arc<OpenFile>, Arc<Socket>), Errno> {
    let file = c.files.lock().get(a.fd(i)?)?;
    let socket = file.socket()?.clone();
    Ok((file, socket))
}

pub fn sys_socket(c: &Caller, a: Args) -> SysResult {
    let family = a.uint(0);
    let (ty, flags) = split_type(a.uint(1))?;
    socket::check_kind(family, ty, a.uint(2))?;
    install(c, Socket::new(c, family, ty), flags)
}

pub fn sys_socketpair(c: &Caller, a: Args) -> SysResult {
    let family = a.uint(0);
    let (ty, flags) = split_type(a.uint(1))?;
    if family != AF_UNIX {
        // As Linux: only AF_UNIX has pairs.
        return match family {
            AF_INET | AF_INET6 => Err(Errno::EOPNOTSUPP),
            _ => Err(Errno::EAFNOSUPPORT),
        };
    }
    socket::check_kind(family, ty, a.uint(2))?;
    let (one, other) = Socket::pair(c, ty);
    install_pair(
        c,
        [open_socket(one, flags), open_socket(other, flags)],
        flags & O_CLOEXEC != 0,
        a.ptr(3),
    )
}

/// The address a program passed: `len` bytes at `addr` (at most `sockaddr_storage`).
fn address_arg(
    c: &Caller,
    addr: u64,
    len: u32,
    family: u32,
    usage: AddressUse,
) -> Result<SocketAddress, Errno> {
    if len as i32 <= 0 || len as usize > SOCKADDR_STORAGE_SIZE {
        return Err(Errno::EINVAL);
    }
    let mut bytes = alloc::vec![0u8; len as usize];
    c.read(addr, &mut bytes)?;
    SocketAddress::parse(&bytes, family, usage)
}

/// The `socklen_t` at `len_addr`, checked (EFAULT, EINVAL when negative).
fn address_room(c: &Caller, len_addr: u64) -> Result<usize, Errno> {
    let mut b = [0u8; 4];
    c.read(len_addr, &mut b)?;
    let len = i32::from_le_bytes(b);
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(len as usize)
}

/// Writes `address` at `addr` (as much as `*len_addr` allows) and its length at
/// `len_addr`, as getsockname and accept do. A NULL `addr` asks for nothing.
fn give_address(c: &Caller, addr: u64, len_addr: u64, address: &SocketAddress) -> SysResult {
    if addr == 0 {
        return Ok(0);
    }
    let room = address_room(c, len_addr)?;
    let bytes = address.to_bytes();
    c.write(addr, &bytes[..bytes.len().min(room)])?;
    c.write(len_addr, &(bytes.len() as u32).to_le_bytes())?;
    Ok(0)
}

/// The inode of a new AF_UNIX socket path (bind): EADDRINUSE if the path exists.
fn make_unix_node(c: &Caller, path: &[u8]) -> Result<InodeId, Errno> {
    let (dir, name, trailing) = vfs::resolve_parent(&c.cwd(), path)?;
    if trailing {
        return Err(Errno::EISDIR);
    }
    let perm = 0o777 & !c.fs.lock().umask;
    with_vfs(|v| v.mknod(dir, &name, FileType::Socket, perm, (0, 0), 0, 0)).map_err(|e| {
        match vfs::errno(e) {
            Errno::EEXIST => Errno::EADDRINUSE,
            other => other,
        }
    })
}

/// The inode an AF_UNIX path names (connect): ECONNREFUSED unless it is a socket.
fn find_unix_node(c: &Caller, path: &[u8]) -> Result<InodeId, Errno> {
    let Node::Inode(id) = vfs::resolve(c, &c.cwd(), path, true)? else {
        return Err(Errno::ECONNREFUSED);
    };
    match with_vfs(|v| v.file_type(id)).map_err(vfs::errno)? {
        FileType::Socket => Ok(id),
        _ => Err(Errno::ECONNREFUSED),
    }
}

pub fn sys_bind(c: &Caller, a: Args) -> SysResult {
    let (_, s) = socket_arg(c, a, 0)?;
    let address = address_arg(c, a.ptr(1), a.uint(2), s.family, AddressUse::Bind)?;
    s.bind(address, |path| make_unix_node(c, path))?;
    Ok(0)
}

pub fn sys_listen(c: &Caller, a: Args) -> SysResult {
    let (_, s) = socket_arg(c, a, 0)?;
    s.listen(c, a.int(1))?;
    Ok(0)
}

fn do_accept(c: &Caller, a: Args, flags: u32) -> SysResult {
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let (file, s) = socket_arg(c, a, 0)?;
    let (addr, len_addr) = (a.ptr(1), a.ptr(2));
    if addr != 0 {
        // Checked before a connection is taken, so that a bad pointer loses none.
        address_room(c, len_addr)?;
    }
    let conn = s.accept(c, s.recv_flow(file.is_nonblocking(), 0))?;
    let peer = conn.peer_address()?;
    let fd = install(c, conn, flags)?;
    if let Err(e) = give_address(c, addr, len_addr, &peer) {
        let _ = c.files.lock().close(fd as usize);
        return Err(e);
    }
    Ok(fd)
}

pub fn sys_accept(c: &Caller, a: Args) -> SysResult {
    do_accept(c, a, 0)
}

pub fn sys_accept4(c: &Caller, a: Args) -> SysResult {
    do_accept(c, a, a.uint(3))
}

pub fn sys_connect(c: &Caller, a: Args) -> SysResult {
    let (file, s) = socket_arg(c, a, 0)?;
    let address = address_arg(c, a.ptr(1), a.uint(2), s.family, AddressUse::Connect)?;
    if s.is_datagram() {
        s.connect_datagram(address, |path| find_unix_node(c, path))?;
        return Ok(0);
    }
    let flow = s.send_flow(file.is_nonblocking(), 0);
    s.connect(c, address, flow, |path| find_unix_node(c, path))?;
    Ok(0)
}

pub fn sys_getsockname(c: &Caller, a: Args) -> SysResult {
    let (_, s) = socket_arg(c, a, 0)?;
    give_address(c, a.ptr(1), a.ptr(2), &s.local_address())
}

pub fn sys_getpeername(c: &Caller, a: Args) -> SysResult {
    let (_, s) = socket_arg(c, a, 0)?;
    let peer = s.peer_address()?;
    give_address(c, a.ptr(1), a.ptr(2), &peer)
}

pub fn sys_shutdown(c: &Caller, a: Args) -> SysResult {
    let (_, s) = socket_arg(c, a, 0)?;
    s.shutdown(a.uint(1))?;
    Ok(0)
}

/// An address given to a send on a connected stream socket: ignored by TCP, EISCONN
/// for AF_UNIX (as Linux).
fn check_send_address(s: &Socket, addr: u64, len: u32) -> Result<(), Errno> {
    if addr != 0 && len != 0 && s.family == AF_UNIX {
        return Err(match s.peer_address() {
            Ok(_) => Errno::EISCONN,
            Err(_) => Errno::EOPNOTSUPP,
        });
    }
    Ok(())
}

/// Urgent data does not exist here.
fn check_flags(flags: u32) -> Result<(), Errno> {
    if flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    Ok(())
}

/// The destination address of a datagram send (`None`: the connected one).
fn datagram_destination(
    c: &Caller,
    s: &Socket,
    addr: u64,
    len: u32,
) -> Result<Option<SocketAddress>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    address_arg(c, addr, len, s.family, AddressUse::Connect).map(Some)
}

/// A datagram's bytes gathered from the program's buffers (EMSGSIZE past what any
/// datagram may be).
fn gather(c: &Caller, pieces: &[(u64, usize)]) -> Result<Vec<u8>, Errno> {
    let total: usize = pieces.iter().map(|(_, len)| *len).sum();
    if total > crate::fs::datagram::QUEUE_BYTES {
        return Err(Errno::EMSGSIZE);
    }
    let mut data = alloc::vec![0u8; total];
    let mut at = 0;
    for (base, len) in pieces {
        c.read(*base, &mut data[at..at + len])?;
        at += len;
    }
    Ok(data)
}

pub fn sys_sendto(c: &Caller, a: Args) -> SysResult {
    let (file, s) = socket_arg(c, a, 0)?;
    let flags = a.uint(3);
    check_flags(flags)?;
    if s.is_datagram() {
        let to = datagram_destination(c, &s, a.ptr(4), a.uint(5))?;
        let data = gather(c, &[(a.ptr(1), a.usize(2))])?;
        let flow = s.send_flow(file.is_nonblocking(), flags);
        return Ok(s.send_datagram(c, to, data, None, flow, |p| find_unix_node(c, p))? as u64);
    }
    check_send_address(&s, a.ptr(4), a.uint(5))?;
    let flow = s.send_flow(file.is_nonblocking(), flags);
    let len = a.usize(2).min(0x7fff_f000);
    Ok(s.send_from_user(c, a.ptr(1), len, flow, &mut None)? as u64)
}

pub fn sys_recvfrom(c: &Caller, a: Args) -> SysResult {
    let (file, s) = socket_arg(c, a, 0)?;
    let flags = a.uint(3);
    check_flags(flags)?;
    let flow = s.recv_flow(file.is_nonblocking(), flags);
    if s.is_datagram() {
        let pieces = [(a.ptr(1), a.usize(2))];
        let (n, _) = recv_datagram(c, &s, &pieces, flow, flags, a.ptr(4), a.ptr(5))?;
        return Ok(n as u64);
    }
    let len = a.usize(2).min(0x7fff_f000);
    let wait_all = flags & MSG_WAITALL != 0;
    let n = s.recv_to_user(c, a.ptr(1), len, flow, wait_all, &mut Vec::new())?;
    // A stream socket has no per-message source: the length given back is 0.
    if a.ptr(4) != 0 {
        address_room(c, a.ptr(5))?;
        c.write(a.ptr(5), &0u32.to_le_bytes())?;
    }
    Ok(n as u64)
}

/// Receives one datagram into the program's buffers `pieces`: (the length given back,
/// which is the datagram's whole length with MSG_TRUNC; whether it was cut short; its
/// sender and files).
type Received = (usize, bool, (SocketAddress, Option<Attachment>));

fn recv_datagram_parts(
    c: &Caller,
    s: &Socket,
    pieces: &[(u64, usize)],
    flow: Flow,
    flags: u32,
) -> Result<Received, Errno> {
    let m = s.recv_datagram(c, flow)?;
    let mut at = 0;
    for (base, len) in pieces {
        let n = (*len).min(m.data.len() - at);
        if n == 0 {
            break;
        }
        c.write(*base, &m.data[at..at + n])?;
        at += n;
    }
    let truncated = at < m.data.len();
    let n = if flags & MSG_TRUNC != 0 {
        m.data.len()
    } else {
        at
    };
    Ok((n, truncated, (m.from, m.files)))
}

/// recvfrom of a datagram socket: the sender's address at `addr` if asked (files a
/// message carries are closed: recvfrom has no place for them).
fn recv_datagram(
    c: &Caller,
    s: &Socket,
    pieces: &[(u64, usize)],
    flow: Flow,
    flags: u32,
    addr: u64,
    len_addr: u64,
) -> Result<(usize, bool), Errno> {
    if addr != 0 {
        address_room(c, len_addr)?;
    }
    let (n, truncated, (from, files)) = recv_datagram_parts(c, s, pieces, flow, flags)?;
    drop(files);
    if from == SocketAddress::UnixUnnamed {
        // An unnamed AF_UNIX sender has no address: length 0, as Linux.
        if addr != 0 {
            c.write(len_addr, &0u32.to_le_bytes())?;
        }
    } else {
        give_address(c, addr, len_addr, &from)?;
    }
    Ok((n, truncated))
}

fn msghdr_arg(c: &Caller, addr: u64) -> Result<Msghdr, Errno> {
    let mut b = [0u8; Msghdr::SIZE];
    c.read(addr, &mut b)?;
    let msg = Msghdr::from_bytes(&b).ok_or(Errno::EFAULT)?;
    // More than UIO_MAXIOV pieces: EMSGSIZE (readv says EINVAL for the same).
    if msg.msg_iovlen > 1024 {
        return Err(Errno::EMSGSIZE);
    }
    Ok(msg)
}

pub fn sys_sendmsg(c: &Caller, a: Args) -> SysResult {
    let (file, s) = socket_arg(c, a, 0)?;
    let flags = a.uint(2);
    check_flags(flags)?;
    let msg = msghdr_arg(c, a.ptr(1))?;
    if s.is_datagram() {
        let to = datagram_destination(c, &s, msg.msg_name, msg.msg_namelen)?;
        let files = control_to_send(c, &s, &msg)?;
        let iov = read_iovecs(c, msg.msg_iov, msg.msg_iovlen as usize)?;
        let data = gather(c, &iov)?;
        let flow = s.send_flow(file.is_nonblocking(), flags);
        let sent = s.send_datagram(c, to, data, files, flow, |p| find_unix_node(c, p))?;
        return Ok(sent as u64);
    }
    check_send_address(&s, msg.msg_name, msg.msg_namelen)?;
    let mut attach = control_to_send(c, &s, &msg)?;
    let iov = read_iovecs(c, msg.msg_iov, msg.msg_iovlen as usize)?;
    let flow = s.send_flow(file.is_nonblocking(), flags);
    transfer_each(iov, |base, len, _| {
        s.send_from_user(c, base, len, flow, &mut attach)
            .map(|n| n as u64)
    })
}

/// The most control data a sendmsg may pass (Linux's optmem_max is 20 KiB to 128 KiB).
const MAX_CONTROL: u64 = 128 * 1024;
/// The most descriptors one SCM_RIGHTS message carries (Linux's SCM_MAX_FD).
const SCM_MAX_FD: usize = 253;

/// The files a sendmsg's control data passes (SCM_RIGHTS, AF_UNIX only); SCM_CREDENTIALS
/// is checked (it must name the sender) but carries nothing more (receivers with
/// SO_PASSCRED get the peer's credentials).
fn control_to_send(c: &Caller, s: &Socket, msg: &Msghdr) -> Result<Option<Attachment>, Errno> {
    if msg.msg_controllen == 0 {
        return Ok(None);
    }
    if msg.msg_controllen > MAX_CONTROL {
        return Err(Errno::ENOBUFS);
    }
    let mut control = alloc::vec![0u8; msg.msg_controllen as usize];
    c.read(msg.msg_control, &mut control)?;
    let mut files: Vec<Arc<OpenFile>> = Vec::new();
    for (level, kind, data) in parse_cmsgs(&control)? {
        if level != SOL_SOCKET {
            continue; // another protocol's (Linux ignores those it does not know)
        }
        if s.family != AF_UNIX {
            return Err(Errno::EINVAL);
        }
        match kind {
            SCM_RIGHTS => {
                if data.len() % 4 != 0 || files.len() + data.len() / 4 > SCM_MAX_FD {
                    return Err(Errno::EINVAL);
                }
                for fd in data.chunks_exact(4) {
                    let fd = i32::from_le_bytes(fd.try_into().expect("4"));
                    let file = c
                        .files
                        .lock()
                        .get(usize::try_from(fd).map_err(|_| Errno::EBADF)?)?;
                    files.push(file);
                }
            }
            SCM_CREDENTIALS => {
                if data.len() != 12 {
                    return Err(Errno::EINVAL);
                }
                let pid = i32::from_le_bytes(data[..4].try_into().expect("4"));
                if pid != c.pid as i32 {
                    return Err(Errno::EPERM);
                }
            }
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok((!files.is_empty()).then_some(files))
}

/// The control data a recvmsg gives back in `room` bytes: the peer's credentials with
/// SO_PASSCRED, then the files that arrived as new descriptors. What does not fit is
/// dropped (files closed) and sets MSG_CTRUNC, as Linux. Returns (bytes, flags).
fn control_received(
    c: &Caller,
    s: &Socket,
    room: usize,
    attached: Vec<Attachment>,
    cloexec: bool,
) -> (Vec<u8>, u32) {
    let mut out = Vec::new();
    let mut flags = 0;
    if let Some(cred) = s.passed_credentials() {
        let cm = cmsg_bytes(SOL_SOCKET, SCM_CREDENTIALS, &cred.to_bytes());
        if cm.len() <= room {
            out.extend_from_slice(&cm);
        } else {
            flags |= MSG_CTRUNC;
        }
    }
    let files: Vec<Arc<OpenFile>> = attached.into_iter().flatten().collect();
    if files.is_empty() {
        return (out, flags);
    }
    let left = room.saturating_sub(out.len());
    let fit = left.saturating_sub(CMSG_HDR) / 4;
    let limit = c.nofile_limit();
    let mut fds = Vec::new();
    for file in files.iter().take(fit) {
        match c.files.lock().insert_from(0, file.clone(), cloexec, limit) {
            Ok(fd) => fds.extend_from_slice(&(fd as i32).to_le_bytes()),
            Err(_) => break,
        }
    }
    if fds.len() / 4 < files.len() {
        flags |= MSG_CTRUNC;
    }
    if !fds.is_empty() {
        let mut cm = cmsg_bytes(SOL_SOCKET, SCM_RIGHTS, &fds);
        cm.truncate(cmsg_space(fds.len()).min(left));
        out.extend_from_slice(&cm);
    }
    (out, flags)
}

pub fn sys_recvmsg(c: &Caller, a: Args) -> SysResult {
    let (file, s) = socket_arg(c, a, 0)?;
    let flags = a.uint(2);
    check_flags(flags)?;
    let msg_addr = a.ptr(1);
    let msg = msghdr_arg(c, msg_addr)?;
    let iov = read_iovecs(c, msg.msg_iov, msg.msg_iovlen as usize)?;
    let flow = s.recv_flow(file.is_nonblocking(), flags);
    if s.is_datagram() {
        let (name, name_room) = (msg.msg_name, msg.msg_namelen as usize);
        let (n, truncated, (from, files)) = recv_datagram_parts(c, &s, &iov, flow, flags)?;
        let mut out = msg;
        out.msg_namelen = 0;
        if name != 0 && from != SocketAddress::UnixUnnamed {
            let bytes = from.to_bytes();
            c.write(name, &bytes[..bytes.len().min(name_room)])?;
            out.msg_namelen = bytes.len() as u32;
        }
        let room = if msg.msg_control == 0 {
            0
        } else {
            msg.msg_controllen.min(MAX_CONTROL) as usize
        };
        let cloexec = flags & MSG_CMSG_CLOEXEC != 0;
        let (control, control_flags) =
            control_received(c, &s, room, files.into_iter().collect(), cloexec);
        c.write(msg.msg_control, &control)?;
        out.msg_controllen = control.len() as u64;
        out.msg_flags =
            control_flags | (flags & MSG_CMSG_CLOEXEC) | if truncated { MSG_TRUNC } else { 0 };
        c.write(msg_addr, &out.to_bytes())?;
        return Ok(n as u64);
    }
    let wait_all = flags & MSG_WAITALL != 0;
    let peek = flags & MSG_PEEK != 0;
    let mut attached = Vec::new();
    let n = transfer_each(iov, |base, len, total| {
        if total > 0 && (peek || !attached.is_empty()) {
            // A peek shows the same first bytes again, and a message with files ends
            // the read: what came so far is the answer.
            return Err(Errno::EAGAIN);
        }
        let mut step = flow;
        // After some bytes, only what is already there (as readv), unless MSG_WAITALL.
        step.nonblock |= total > 0 && !wait_all;
        s.recv_to_user(c, base, len, step, wait_all, &mut attached)
            .map(|n| n as u64)
    })?;
    let room = if msg.msg_control == 0 {
        0
    } else {
        msg.msg_controllen.min(MAX_CONTROL) as usize
    };
    let cloexec = flags & MSG_CMSG_CLOEXEC != 0;
    let (control, control_flags) = control_received(c, &s, room, attached, cloexec);
    c.write(msg.msg_control, &control)?;
    // No source address (stream).
    let mut out = msg;
    out.msg_namelen = 0;
    out.msg_controllen = control.len() as u64;
    // (Linux echoes MSG_CMSG_CLOEXEC there.)
    out.msg_flags = control_flags | (flags & MSG_CMSG_CLOEXEC);
    c.write(msg_addr, &out.to_bytes())?;
    Ok(n)
}

pub fn sys_setsockopt(c: &Caller, a: Args) -> SysResult {
    let (_, s) = socket_arg(c, a, 0)?;
    let len = a.uint(4) as i32;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let mut value = alloc::vec![0u8; (len as usize).min(256)];
    c.read(a.ptr(3), &mut value)?;
    s.set_option(a.uint(1), a.uint(2), &value)?;
    Ok(0)
}

pub fn sys_getsockopt(c: &Caller, a: Args) -> SysResult {
    let (_, s) = socket_arg(c, a, 0)?;
    let (addr, len_addr) = (a.ptr(3), a.ptr(4));
    let room = address_room(c, len_addr)?;
    let value = s.get_option(a.uint(1), a.uint(2))?;
    let n = value.len().min(room);
    c.write(addr, &value[..n])?;
    c.write(len_addr, &(n as u32).to_le_bytes())?;
    Ok(0)
}
