//! Sockets: AF_UNIX stream sockets (paths, the abstract namespace, `socketpair`) and
//! AF_INET/AF_INET6 stream sockets on the loopback network (127.0.0.0/8, `::1`), which is
//! the only network there is until a network device arrives. A connection is two pipes,
//! one each way, so reads, writes, blocking, EOF, EPIPE/SIGPIPE and poll are the pipes'
//! (`fs::pipe`), in either ring: the MPK gate serves every socket call in ring 3.
//!
//! A listening socket keeps a queue of connections already made (the server's ends), at
//! most `backlog` long; `connect` makes the connection and queues it, `accept` takes it.
//! Names: AF_UNIX paths are socket inodes of the file system (found again by inode),
//! abstract names and IP ports are in tables here (`isounik_net::PortTable` for ports).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use isounik_linux::errno::Errno;
use isounik_linux::socket::*;
use isounik_linux::structs::{SocketAddress, Ucred};
use isounik_net::{Binding, PortError, PortTable};
use isounik_vfs::InodeId;

use super::datagram::{Datagram, Inbox};
use super::pipe::{Attachment, Flow, Pipe, PipeEnd};
use super::waiters::{block_until, Waiters, Watchable};
use crate::sched::Tid;
use crate::syscall::Caller;

static NEXT_SOCKET_INO: AtomicU64 = AtomicU64::new(1 << 32);

/// What `SO_SNDBUF`/`SO_RCVBUF` report before a connection exists (Linux's default).
const DEFAULT_BUFFER: i32 = 212_992;

pub struct Socket {
    pub family: u32,
    /// SOCK_STREAM or SOCK_DGRAM.
    pub kind: u32,
    /// A datagram socket's receive queue.
    inbox: Option<Inbox>,
    /// The inode number `fstat` and /proc/self/fd show; also the socket's id in the tables.
    pub ino: u64,
    state: spin::Mutex<State>,
    /// Grows at every change of its state (edge-triggered epoll; with its pipes').
    changes: AtomicU64,
}

struct State {
    /// Where it is bound (`None`: not yet).
    local: Option<SocketAddress>,
    phase: Phase,
    /// Threads waiting for a connection to accept, for room in the queue, or polling.
    waiters: Waiters,
    /// The process that made it (SO_PEERCRED of its peer).
    owner: Ucred,
    /// Where a datagram socket's sends go without an address (connect, socketpair).
    dgram_peer: Option<DgramPeer>,
    options: Options,
}

#[derive(Clone, Copy, Default)]
struct Options {
    reuse_addr: bool,
    v6only: bool,
    /// SO_PASSCRED: recvmsg gives the peer's credentials (SCM_CREDENTIALS).
    pass_cred: bool,
    keepalive: bool,
    nodelay: bool,
    /// SO_RCVTIMEO and SO_SNDTIMEO in nanoseconds (0: none).
    recv_timeout: u64,
    send_timeout: u64,
}

enum Phase {
    Fresh,
    Listening {
        backlog: usize,
        queue: VecDeque<Arc<Socket>>,
    },
    Connected(Link),
    /// Its descriptor is closed (someone still holds it: a waiting `connect`).
    Closed,
}

/// A datagram socket's default destination.
enum DgramPeer {
    /// A socket found at connect (AF_UNIX) or made with it (socketpair).
    Socket(Weak<Socket>, SocketAddress),
    /// An address looked up at each send (UDP: nobody needs to be there yet).
    Address(SocketAddress),
}

/// One end of a connection.
struct Link {
    /// Bytes from the peer (`None` after SHUT_RD).
    rx: Option<PipeEnd>,
    /// Bytes to the peer (`None` after SHUT_WR).
    tx: Option<PipeEnd>,
    peer: SocketAddress,
    peer_cred: Ucred,
}

/// The names sockets are bound to.
struct Names {
    ports: PortTable<u64>,
    udp_ports: PortTable<u64>,
    /// Sockets by inode number, for the port table's answers.
    inet: BTreeMap<u64, Weak<Socket>>,
    unix_paths: BTreeMap<InodeId, Weak<Socket>>,
    unix_abstract: BTreeMap<Vec<u8>, Weak<Socket>>,
    next_autobind: u32,
}

impl Names {
    /// The port table of TCP or UDP.
    fn ports_for(&mut self, kind: u32) -> &mut PortTable<u64> {
        if kind == SOCK_DGRAM {
            &mut self.udp_ports
        } else {
            &mut self.ports
        }
    }
}

static NAMES: spin::Mutex<Names> = spin::Mutex::new(Names {
    ports: PortTable::new(),
    udp_ports: PortTable::new(),
    inet: BTreeMap::new(),
    unix_paths: BTreeMap::new(),
    unix_abstract: BTreeMap::new(),
    next_autobind: 0,
});

/// Checks `socket(2)`'s arguments: the family and type Iso-UniK has.
pub fn check_kind(family: u32, ty: u32, protocol: u32) -> Result<(), Errno> {
    match family {
        AF_UNIX | AF_INET | AF_INET6 => {}
        _ => return Err(Errno::EAFNOSUPPORT),
    }
    match ty {
        SOCK_STREAM | SOCK_DGRAM => {}
        // Sequenced packets and raw sockets: not yet.
        SOCK_SEQPACKET | SOCK_RAW => return Err(Errno::EPROTONOSUPPORT),
        _ => return Err(Errno::EINVAL),
    }
    let protocol_ok = match (family, ty) {
        (AF_UNIX, _) => protocol == 0,
        (_, SOCK_STREAM) => protocol == 0 || protocol == IPPROTO_TCP,
        _ => protocol == 0 || protocol == IPPROTO_UDP,
    };
    if protocol_ok {
        Ok(())
    } else {
        Err(Errno::EPROTONOSUPPORT)
    }
}

/// The credentials of a peer that is no process here (a network peer), and what
/// SO_PEERCRED gives without a peer: pid 0, uid and gid -1, as Linux.
const NOBODY: Ucred = Ucred {
    pid: 0,
    uid: u32::MAX,
    gid: u32::MAX,
};

fn cred_of(c: &Caller) -> Ucred {
    Ucred {
        pid: c.pid as i32,
        uid: 0,
        gid: 0,
    }
}

impl Socket {
    fn with_phase(family: u32, phase: Phase, owner: Ucred) -> Arc<Socket> {
        Self::of_kind(family, SOCK_STREAM, phase, owner)
    }

    fn of_kind(family: u32, kind: u32, phase: Phase, owner: Ucred) -> Arc<Socket> {
        Arc::new(Socket {
            family,
            kind,
            inbox: (kind == SOCK_DGRAM).then(Inbox::new),
            ino: NEXT_SOCKET_INO.fetch_add(1, Ordering::Relaxed),
            changes: AtomicU64::new(0),
            state: spin::Mutex::new(State {
                local: None,
                phase,
                waiters: Waiters::new(),
                owner,
                dgram_peer: None,
                options: Options::default(),
            }),
        })
    }

    /// Counts a change and wakes everyone waiting on the socket.
    fn touched(&self, st: &mut State) {
        self.changes.fetch_add(1, Ordering::Relaxed);
        st.waiters.wake_all();
    }

    /// The credentials recvmsg reports (SCM_CREDENTIALS) when SO_PASSCRED is on: the peer's
    /// at connect time (its process for all its messages; Linux has each message's own).
    pub fn passed_credentials(&self) -> Option<Ucred> {
        let st = self.state.lock();
        match &st.phase {
            Phase::Connected(link) if st.options.pass_cred && self.family == AF_UNIX => {
                Some(link.peer_cred)
            }
            _ => None,
        }
    }

    /// The peer has shut down its writing side or closed (EPOLLRDHUP).
    pub fn peer_done_writing(&self) -> bool {
        match &self.state.lock().phase {
            Phase::Connected(link) => link.rx.as_ref().is_none_or(|e| e.pipe.ready().2),
            _ => false,
        }
    }

    /// close(2) of its last descriptor: the socket is gone for everyone else (a waiting
    /// `connect` gets ECONNREFUSED, queued connections end, the names are free again).
    fn close(&self) {
        if let Some(inbox) = &self.inbox {
            inbox.close();
        }
        let mut st = self.state.lock();
        let local = st.local.take();
        let old = core::mem::replace(&mut st.phase, Phase::Closed);
        self.touched(&mut st);
        drop(st);
        self.release_names(local.as_ref());
        // (Outside every lock: queued connections' sockets drop here.)
        drop(old);
    }

    /// Takes the socket's entries out of the name tables.
    fn release_names(&self, local: Option<&SocketAddress>) {
        let me: *const Socket = self;
        let mine = |w: &Weak<Socket>| core::ptr::eq(w.as_ptr(), me);
        let mut names = NAMES.lock();
        match local {
            // (Only if the name is still this socket's.)
            Some(SocketAddress::UnixAbstract(name))
                if names.unix_abstract.get(name).is_some_and(mine) =>
            {
                names.unix_abstract.remove(name);
            }
            // The path stays in the file system (as on Linux) but leads nowhere.
            Some(SocketAddress::UnixPath(_)) => names.unix_paths.retain(|_, w| !mine(w)),
            Some(SocketAddress::Inet { .. } | SocketAddress::Inet6 { .. }) => {
                names.ports.release(self.ino);
                names.udp_ports.release(self.ino);
                names.inet.remove(&self.ino);
            }
            _ => {}
        }
    }

    pub fn new(c: &Caller, family: u32, kind: u32) -> Arc<Socket> {
        Self::of_kind(family, kind, Phase::Fresh, cred_of(c))
    }

    /// Two connected AF_UNIX sockets (`socketpair`).
    pub fn pair(c: &Caller, kind: u32) -> (Arc<Socket>, Arc<Socket>) {
        let cred = cred_of(c);
        if kind == SOCK_DGRAM {
            let a = Self::of_kind(AF_UNIX, kind, Phase::Fresh, cred);
            let b = Self::of_kind(AF_UNIX, kind, Phase::Fresh, cred);
            for (me, other) in [(&a, &b), (&b, &a)] {
                let mut st = me.state.lock();
                st.local = Some(SocketAddress::UnixUnnamed);
                st.dgram_peer = Some(DgramPeer::Socket(
                    Arc::downgrade(other),
                    SocketAddress::UnixUnnamed,
                ));
            }
            return (a, b);
        }
        let (a_link, b_link) = links(
            (SocketAddress::UnixUnnamed, cred),
            (SocketAddress::UnixUnnamed, cred),
        );
        let a = Self::with_phase(AF_UNIX, Phase::Connected(a_link), cred);
        let b = Self::with_phase(AF_UNIX, Phase::Connected(b_link), cred);
        a.state.lock().local = Some(SocketAddress::UnixUnnamed);
        b.state.lock().local = Some(SocketAddress::UnixUnnamed);
        (a, b)
    }

    /// The address `getsockname` shows: the bound one, or the family's "nothing".
    pub fn local_address(&self) -> SocketAddress {
        let bound = self.state.lock().local.clone();
        bound.unwrap_or_else(|| match self.family {
            AF_UNIX => SocketAddress::UnixUnnamed,
            family => SocketAddress::from_ip_port(family, isounik_net::IN6ADDR_ANY, 0),
        })
    }

    pub fn peer_address(&self) -> Result<SocketAddress, Errno> {
        let st = self.state.lock();
        match (&st.phase, &st.dgram_peer) {
            (Phase::Connected(link), _) => Ok(link.peer.clone()),
            (_, Some(DgramPeer::Socket(_, a) | DgramPeer::Address(a))) => Ok(a.clone()),
            _ => Err(Errno::ENOTCONN),
        }
    }

    /// bind(2). `unix_inode` makes the file system node of an AF_UNIX path: called with
    /// the path, after the checks, and gives the new inode (EADDRINUSE if it exists).
    pub fn bind(
        self: &Arc<Self>,
        address: SocketAddress,
        unix_inode: impl FnOnce(&[u8]) -> Result<InodeId, Errno>,
    ) -> Result<(), Errno> {
        let mut st = self.state.lock();
        if st.local.is_some() {
            return Err(Errno::EINVAL);
        }
        let bound = match (self.family, address) {
            (AF_UNIX, SocketAddress::UnixPath(path)) => {
                let inode = unix_inode(&path)?;
                NAMES.lock().unix_paths.insert(inode, Arc::downgrade(self));
                SocketAddress::UnixPath(path)
            }
            (AF_UNIX, SocketAddress::UnixAbstract(name)) => self.bind_abstract(Some(name))?,
            (AF_UNIX, _) => self.bind_abstract(None)?,
            (family, address) => {
                let (ip, port) = address.ip_port().ok_or(Errno::EINVAL)?;
                self.bind_ip(family, ip, port, st.options)?
            }
        };
        st.local = Some(bound);
        Ok(())
    }

    /// An abstract name: `name`, or one picked (autobind: five hex digits, as Linux).
    fn bind_abstract(self: &Arc<Self>, name: Option<Vec<u8>>) -> Result<SocketAddress, Errno> {
        let mut names = NAMES.lock();
        let taken = |names: &Names, n: &Vec<u8>| {
            names
                .unix_abstract
                .get(n)
                .is_some_and(|w| w.strong_count() > 0)
        };
        let name = match name {
            Some(n) if taken(&names, &n) => return Err(Errno::EADDRINUSE),
            Some(n) => n,
            None => loop {
                names.next_autobind = (names.next_autobind + 1) & 0xfffff;
                let n = alloc::format!("{:05x}", names.next_autobind).into_bytes();
                if !taken(&names, &n) {
                    break n;
                }
            },
        };
        names
            .unix_abstract
            .insert(name.clone(), Arc::downgrade(self));
        Ok(SocketAddress::UnixAbstract(name))
    }

    fn bind_ip(
        self: &Arc<Self>,
        family: u32,
        ip: [u8; 16],
        port: u16,
        options: Options,
    ) -> Result<SocketAddress, Errno> {
        if !is_local(&ip) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        let mut names = NAMES.lock();
        let port = names
            .ports_for(self.kind)
            .bind(Binding {
                id: self.ino,
                ip,
                port,
                v6only: family == AF_INET6 && options.v6only,
                reuse: options.reuse_addr,
                // A UDP socket receives as soon as it is bound.
                listening: self.kind == SOCK_DGRAM,
            })
            .map_err(port_errno)?;
        names.inet.insert(self.ino, Arc::downgrade(self));
        Ok(SocketAddress::from_ip_port(family, ip, port))
    }

    /// listen(2). The caller's credentials are what its clients see (SO_PEERCRED).
    pub fn listen(self: &Arc<Self>, c: &Caller, backlog: i32) -> Result<(), Errno> {
        if self.is_datagram() {
            return Err(Errno::EOPNOTSUPP);
        }
        let backlog = (backlog.max(0) as u32).min(SOMAXCONN) as usize;
        let mut st = self.state.lock();
        st.owner = cred_of(c);
        match &mut st.phase {
            Phase::Listening { backlog: b, .. } => {
                *b = backlog;
                return Ok(());
            }
            Phase::Connected(_) => return Err(Errno::EINVAL),
            Phase::Closed => return Err(Errno::EBADF),
            Phase::Fresh => {}
        }
        if st.local.is_none() {
            // Linux binds an unbound socket here: an ephemeral port, an abstract name.
            let bound = match self.family {
                AF_UNIX => self.bind_abstract(None)?,
                family => self
                    .bind_ip(family, isounik_net::IN6ADDR_ANY, 0, st.options)
                    .map_err(|_| Errno::EADDRINUSE)?,
            };
            st.local = Some(bound);
        }
        if self.family != AF_UNIX {
            NAMES
                .lock()
                .ports
                .listen(self.ino)
                .map_err(|_| Errno::EADDRINUSE)?;
        }
        st.phase = Phase::Listening {
            backlog,
            queue: VecDeque::new(),
        };
        // The network device starts taking connections for this port.
        crate::drivers::net::kick();
        Ok(())
    }

    /// accept(2): the next connection made to this listening socket.
    pub fn accept(&self, c: &Caller, flow: Flow) -> Result<Arc<Socket>, Errno> {
        if self.is_datagram() {
            return Err(Errno::EOPNOTSUPP);
        }
        block_until(c, flow, |waiter| {
            let mut st = self.state.lock();
            let Phase::Listening { queue, .. } = &mut st.phase else {
                return Some(Err(Errno::EINVAL));
            };
            if let Some(conn) = queue.pop_front() {
                // Room in the queue: a connect waiting for it may go on.
                self.touched(&mut st);
                return Some(Ok(conn));
            }
            st.waiters.add(waiter?);
            None
        })
    }

    /// The listening socket at `address`.
    fn listener_at(
        &self,
        address: &SocketAddress,
        unix_inode: impl FnOnce(&[u8]) -> Result<InodeId, Errno>,
    ) -> Result<(Arc<Socket>, SocketAddress), Errno> {
        let refused = Errno::ECONNREFUSED;
        // An AF_UNIX name of another socket type is EPROTOTYPE, as Linux.
        let same_kind = |s: Arc<Socket>| {
            if s.kind == self.kind {
                Ok((s, address.clone()))
            } else {
                Err(Errno::EPROTOTYPE)
            }
        };
        match address {
            SocketAddress::UnixPath(path) => {
                let inode = unix_inode(path)?;
                let found = NAMES.lock().unix_paths.get(&inode).and_then(Weak::upgrade);
                found.ok_or(refused).and_then(same_kind)
            }
            SocketAddress::UnixAbstract(name) => {
                let found = NAMES.lock().unix_abstract.get(name).and_then(Weak::upgrade);
                found.ok_or(refused).and_then(same_kind)
            }
            SocketAddress::UnixUnnamed => Err(Errno::EINVAL),
            _ => {
                let (ip, port) = address.ip_port().ok_or(Errno::EINVAL)?;
                if !is_local(&ip) {
                    return Err(Errno::ENETUNREACH);
                }
                let target = isounik_net::connect_target(ip);
                if self.family == AF_INET && address_is_v6(address) {
                    return Err(Errno::EAFNOSUPPORT);
                }
                let mut names = NAMES.lock();
                let id = names
                    .ports_for(self.kind)
                    .listener_for(&target, port)
                    .ok_or(refused)?;
                let listener = names.inet.get(&id).and_then(Weak::upgrade).ok_or(refused)?;
                // The server's end is at the address the client reached.
                let local = SocketAddress::from_ip_port(listener.family, target, port);
                Ok((listener, local))
            }
        }
    }

    /// connect(2): a connection to the socket listening at `address`, queued for its
    /// `accept`. Waits while its queue is full (EAGAIN if non-blocking).
    pub fn connect(
        self: &Arc<Self>,
        c: &Caller,
        address: SocketAddress,
        flow: Flow,
        unix_inode: impl FnOnce(&[u8]) -> Result<InodeId, Errno>,
    ) -> Result<(), Errno> {
        match self.state.lock().phase {
            Phase::Fresh => {}
            Phase::Connected(_) => return Err(Errno::EISCONN),
            Phase::Listening { .. } => return Err(Errno::EINVAL),
            Phase::Closed => return Err(Errno::EBADF),
        }
        if let Some((ip, port)) = address.ip_port() {
            if crate::drivers::net::reaches(&ip) {
                return self.connect_out(c, ip, port, flow);
            }
        }
        let (listener, server_address) = self.listener_at(&address, unix_inode)?;
        if listener.family != self.family && (self.family == AF_UNIX || listener.family == AF_UNIX)
        {
            return Err(Errno::ECONNREFUSED);
        }
        // An IP client gets an ephemeral port now (getsockname shows it).
        let client_address = {
            let mut st = self.state.lock();
            if st.local.is_none() && self.family != AF_UNIX {
                let (ip, _) = server_address.ip_port().ok_or(Errno::EINVAL)?;
                let bound = self.bind_ip(self.family, ip, 0, st.options)?;
                st.local = Some(bound);
            }
            st.local.clone().unwrap_or(SocketAddress::UnixUnnamed)
        };
        let client_seen_by_server = match client_address.ip_port() {
            Some((ip, port)) => SocketAddress::from_ip_port(listener.family, ip, port),
            None => client_address.clone(),
        };
        loop {
            {
                let mut mine = self.state.lock();
                if !matches!(mine.phase, Phase::Fresh) {
                    return Err(Errno::EISCONN);
                }
                let mut theirs = listener.state.lock();
                let server_cred = theirs.owner;
                let Phase::Listening { backlog, queue } = &mut theirs.phase else {
                    return Err(Errno::ECONNREFUSED);
                };
                // As Linux: the queue is full when it holds more than `backlog`.
                if queue.len() <= *backlog {
                    let (client_link, server_link) = links(
                        (client_seen_by_server, cred_of(c)),
                        (address.clone(), server_cred),
                    );
                    let server_end = Self::with_phase(
                        listener.family,
                        Phase::Connected(server_link),
                        server_cred,
                    );
                    server_end.state.lock().local = Some(server_address);
                    queue.push_back(server_end);
                    listener.touched(&mut theirs);
                    mine.phase = Phase::Connected(client_link);
                    self.touched(&mut mine);
                    return Ok(());
                }
                if flow.nonblock {
                    return Err(Errno::EAGAIN);
                }
                theirs.waiters.add(c.tid);
            }
            if c.signal_pending() {
                return Err(c.interrupted());
            }
            if !flow.wait() {
                return Err(Errno::ETIMEDOUT);
            }
        }
    }

    /// connect(2) of a datagram socket: its default destination (AF_UNIX: the socket bound
    /// at `address` now; UDP: the address, looked up at each send).
    pub fn connect_datagram(
        self: &Arc<Self>,
        address: SocketAddress,
        unix_inode: impl FnOnce(&[u8]) -> Result<InodeId, Errno>,
    ) -> Result<(), Errno> {
        let peer = if self.family == AF_UNIX {
            let (socket, at) = self.listener_at(&address, unix_inode)?;
            DgramPeer::Socket(Arc::downgrade(&socket), at)
        } else {
            let (ip, _) = address.ip_port().ok_or(Errno::EINVAL)?;
            if !is_local(&ip) {
                return Err(Errno::ENETUNREACH);
            }
            if self.family == AF_INET && address_is_v6(&address) {
                return Err(Errno::EAFNOSUPPORT);
            }
            self.autobind_udp()?;
            DgramPeer::Address(address)
        };
        self.state.lock().dgram_peer = Some(peer);
        Ok(())
    }

    /// A UDP socket that sends unbound gets an ephemeral port, as Linux.
    fn autobind_udp(self: &Arc<Self>) -> Result<(), Errno> {
        let mut st = self.state.lock();
        if st.local.is_none() && self.family != AF_UNIX {
            let bound = self.bind_ip(self.family, isounik_net::IN6ADDR_ANY, 0, st.options)?;
            st.local = Some(bound);
        }
        Ok(())
    }

    /// Sends one datagram (`to`, or the connected destination). AF_UNIX waits while the
    /// receiver's queue is full; UDP drops the message then, and when nobody is bound at
    /// the destination, as a network would.
    pub fn send_datagram(
        self: &Arc<Self>,
        c: &Caller,
        to: Option<SocketAddress>,
        data: Vec<u8>,
        files: Option<Attachment>,
        flow: Flow,
        unix_inode: impl FnOnce(&[u8]) -> Result<InodeId, Errno>,
    ) -> Result<usize, Errno> {
        let len = data.len();
        let limit = if self.family == AF_UNIX {
            super::datagram::QUEUE_BYTES
        } else {
            65_507
        };
        if len > limit {
            return Err(Errno::EMSGSIZE);
        }
        let destination = match to {
            Some(address) => Some(address),
            None => match &self.state.lock().dgram_peer {
                Some(DgramPeer::Address(a)) => Some(a.clone()),
                Some(DgramPeer::Socket(..)) => None,
                None if self.family == AF_UNIX => return Err(Errno::ENOTCONN),
                None => return Err(Errno::EDESTADDRREQ),
            },
        };
        let target = match destination {
            Some(address) => {
                if self.family != AF_UNIX {
                    self.autobind_udp()?;
                }
                match self.listener_at(&address, unix_inode) {
                    Ok((socket, _)) => socket,
                    Err(Errno::ECONNREFUSED) if self.family != AF_UNIX => return Ok(len),
                    Err(e) => return Err(e),
                }
            }
            None => match &self.state.lock().dgram_peer {
                Some(DgramPeer::Socket(peer, _)) => peer.upgrade().ok_or(Errno::ECONNREFUSED)?,
                _ => return Err(Errno::ENOTCONN),
            },
        };
        let Some(inbox) = &target.inbox else {
            return Err(Errno::EPROTOTYPE);
        };
        // The sender as the receiver sees it: its name, or for UDP its port at the
        // loopback address (a wildcard bind sends from 127.0.0.1 or ::1).
        let from = match self.local_address().ip_port() {
            Some((ip, port)) => {
                let ip = isounik_net::connect_target(ip);
                SocketAddress::from_ip_port(target.family, ip, port)
            }
            None => self.local_address(),
        };
        let message = Datagram { data, from, files };
        inbox.push(c, message, flow, self.family == AF_UNIX)?;
        Ok(len)
    }

    /// Takes the next datagram (EINVAL for a stream socket).
    pub fn recv_datagram(&self, c: &Caller, flow: Flow) -> Result<Datagram, Errno> {
        self.inbox.as_ref().ok_or(Errno::EINVAL)?.pop(c, flow)
    }

    pub fn is_datagram(&self) -> bool {
        self.inbox.is_some()
    }

    /// connect(2) to an address out on the network: the connection's pipes now (the
    /// network task works their far ends), then the wait for the handshake (EINPROGRESS
    /// if non-blocking, as Linux); ECONNREFUSED leaves the socket unconnected.
    fn connect_out(
        self: &Arc<Self>,
        c: &Caller,
        ip: [u8; 16],
        port: u16,
        flow: Flow,
    ) -> Result<(), Errno> {
        let remote_v4 =
            isounik_linux::structs::sockaddr::v4_of_mapped(&ip).ok_or(Errno::ENETUNREACH)?;
        let local = {
            let mut st = self.state.lock();
            if !matches!(st.phase, Phase::Fresh) {
                return Err(Errno::EISCONN);
            }
            if st.local.is_none() {
                let own = crate::drivers::net::address();
                st.local = Some(self.bind_ip(self.family, own, 0, st.options)?);
            }
            st.local.clone().unwrap_or(SocketAddress::UnixUnnamed)
        };
        let local_port = local.ip_port().map_or(0, |(_, p)| p);
        let remote = SocketAddress::from_ip_port(self.family, ip, port);
        let (client_link, mut network_link) = links((local, cred_of(c)), (remote, NOBODY));
        let (Some(to_program), Some(from_program)) =
            (network_link.tx.take(), network_link.rx.take())
        else {
            return Err(Errno::ENOMEM);
        };
        let outcome = crate::drivers::net::connect(
            (remote_v4, port),
            local_port,
            to_program,
            from_program,
            c.tid,
        )?;
        {
            let mut st = self.state.lock();
            st.phase = Phase::Connected(client_link);
            self.touched(&mut st);
        }
        if flow.nonblock {
            return Err(Errno::EINPROGRESS);
        }
        loop {
            match outcome.load(Ordering::Acquire) {
                crate::drivers::net::CONNECTED => return Ok(()),
                crate::drivers::net::REFUSED => {
                    let mut st = self.state.lock();
                    st.phase = Phase::Fresh;
                    self.touched(&mut st);
                    return Err(Errno::ECONNREFUSED);
                }
                _ => {}
            }
            if c.signal_pending() {
                // The handshake goes on, as Linux's.
                return Err(Errno::EINTR);
            }
            if !flow.wait() {
                return Err(Errno::ETIMEDOUT);
            }
        }
    }

    /// The pipe a read takes from, or why there is none: `Ok(None)` is end of file.
    /// Without a connection: EINVAL for AF_UNIX, ENOTCONN for TCP (as Linux).
    fn rx(&self) -> Result<Option<Arc<Pipe>>, Errno> {
        match &self.state.lock().phase {
            Phase::Connected(link) => Ok(link.rx.as_ref().map(|e| e.pipe.clone())),
            _ if self.family == AF_UNIX => Err(Errno::EINVAL),
            _ => Err(Errno::ENOTCONN),
        }
    }

    /// The pipe a write goes to; EPIPE after SHUT_WR, ENOTCONN (AF_UNIX) or EPIPE (TCP,
    /// as Linux) before a connection.
    fn tx(&self) -> Result<Arc<Pipe>, Errno> {
        match &self.state.lock().phase {
            Phase::Connected(link) => link.tx.as_ref().map(|e| e.pipe.clone()).ok_or(Errno::EPIPE),
            _ if self.family == AF_UNIX => Err(Errno::ENOTCONN),
            _ => Err(Errno::EPIPE),
        }
    }

    /// The socket's receive flow: its options and the call's flags.
    pub fn recv_flow(&self, nonblock: bool, flags: u32) -> Flow {
        let timeout = self.state.lock().options.recv_timeout;
        Flow {
            nonblock: nonblock || flags & MSG_DONTWAIT != 0,
            peek: flags & MSG_PEEK != 0,
            no_sigpipe: false,
            deadline: (timeout > 0).then(|| crate::time::uptime_ns().saturating_add(timeout)),
        }
    }

    pub fn send_flow(&self, nonblock: bool, flags: u32) -> Flow {
        let timeout = self.state.lock().options.send_timeout;
        Flow {
            nonblock: nonblock || flags & MSG_DONTWAIT != 0,
            peek: false,
            no_sigpipe: flags & MSG_NOSIGNAL != 0,
            deadline: (timeout > 0).then(|| crate::time::uptime_ns().saturating_add(timeout)),
        }
    }

    /// Receives into user memory at `addr`; with MSG_WAITALL, until `len` bytes, the end,
    /// a signal, an error or a message carrying files. Files sent with the bytes read
    /// arrive in `attached` (for recvmsg to install; dropped, hence closed, otherwise).
    pub fn recv_to_user(
        &self,
        c: &Caller,
        addr: u64,
        len: usize,
        flow: Flow,
        wait_all: bool,
        attached: &mut Vec<Attachment>,
    ) -> Result<usize, Errno> {
        if self.is_datagram() {
            let message = self.recv_datagram(c, flow)?;
            let n = message.data.len().min(len);
            c.write(addr, &message.data[..n])?;
            attached.extend(message.files);
            return Ok(n);
        }
        let Some(pipe) = self.rx()? else {
            return Ok(0);
        };
        let mut done = 0;
        loop {
            match pipe.read_to_user_attached(c, addr + done as u64, len - done, flow, attached) {
                Ok(0) => return Ok(done),
                Ok(n) => done += n,
                Err(e) if done == 0 => return Err(e),
                Err(_) => return Ok(done),
            }
            if !wait_all || flow.peek || done == len || !attached.is_empty() {
                return Ok(done);
            }
        }
    }

    /// Receives into libOS memory (sendfile from a socket, ring 0's reads).
    pub fn recv(&self, c: &Caller, buf: &mut [u8], nonblock: bool) -> Result<usize, Errno> {
        if self.is_datagram() {
            let message = self.recv_datagram(c, Flow::waiting(nonblock))?;
            let n = message.data.len().min(buf.len());
            buf[..n].copy_from_slice(&message.data[..n]);
            return Ok(n);
        }
        match self.rx()? {
            Some(pipe) => pipe.read(c, buf, nonblock),
            None => Ok(0),
        }
    }

    /// Sends from user memory at `addr`, with files (`attach`, AF_UNIX's SCM_RIGHTS) that
    /// travel with the first byte.
    pub fn send_from_user(
        self: &Arc<Self>,
        c: &Caller,
        addr: u64,
        len: usize,
        flow: Flow,
        attach: &mut Option<Attachment>,
    ) -> Result<usize, Errno> {
        if self.is_datagram() {
            // (Larger than any datagram: refused before anything is copied.)
            if len > super::datagram::QUEUE_BYTES {
                return Err(Errno::EMSGSIZE);
            }
            let mut data = alloc::vec![0u8; len];
            c.read(addr, &mut data)?;
            return self.send_datagram(c, None, data, attach.take(), flow, |_| Err(Errno::EINVAL));
        }
        match self.tx() {
            Ok(pipe) => pipe.write_from_user_attached(c, addr, len, flow, attach),
            Err(e) => Err(self.send_failed(c, e, flow)),
        }
    }

    /// Sends libOS bytes.
    pub fn send(self: &Arc<Self>, c: &Caller, data: &[u8], nonblock: bool) -> Result<usize, Errno> {
        if self.is_datagram() {
            let flow = Flow::waiting(nonblock);
            return self.send_datagram(c, None, data.to_vec(), None, flow, |_| Err(Errno::EINVAL));
        }
        match self.tx() {
            Ok(pipe) => pipe.write(c, data, nonblock),
            Err(e) => Err(self.send_failed(c, e, Flow::waiting(nonblock))),
        }
    }

    fn send_failed(&self, c: &Caller, e: Errno, flow: Flow) -> Errno {
        if e == Errno::EPIPE && !flow.no_sigpipe {
            super::pipe::send_sigpipe(c);
        }
        e
    }

    /// shutdown(2).
    pub fn shutdown(&self, how: u32) -> Result<(), Errno> {
        if how > SHUT_RDWR {
            return Err(Errno::EINVAL);
        }
        let mut st = self.state.lock();
        let Phase::Connected(link) = &mut st.phase else {
            // Linux's AF_UNIX shutdown asks for no connection (nothing to do without one).
            return if self.family == AF_UNIX {
                Ok(())
            } else {
                Err(Errno::ENOTCONN)
            };
        };
        // Dropping an end tells the peer: EOF for its reads, EPIPE for its writes.
        if how != SHUT_WR {
            link.rx = None;
        }
        if how != SHUT_RD {
            link.tx = None;
        }
        self.touched(&mut st);
        Ok(())
    }

    /// (readable, writable) for poll: a listener is readable with a connection waiting.
    pub fn ready(&self) -> (bool, bool) {
        if let Some(inbox) = &self.inbox {
            return (!inbox.is_empty(), true);
        }
        let st = self.state.lock();
        match &st.phase {
            Phase::Fresh | Phase::Closed => (false, false),
            Phase::Listening { queue, .. } => (!queue.is_empty(), false),
            Phase::Connected(link) => {
                let readable = link.rx.as_ref().is_none_or(|e| e.pipe.ready().0);
                // After SHUT_WR, or with the peer gone, a write fails at once: "ready".
                let writable = link.tx.as_ref().is_none_or(|e| e.pipe.ready().1);
                (readable, writable)
            }
        }
    }

    /// POLLHUP: both directions are closed (the peer is gone, or shut both ways).
    pub fn hung_up(&self) -> bool {
        let st = self.state.lock();
        let Phase::Connected(link) = &st.phase else {
            return false;
        };
        let in_done = link.rx.as_ref().is_none_or(|e| e.pipe.ready().2);
        let out_done = link
            .tx
            .as_ref()
            .is_none_or(|e| e.pipe.ready().2 || e.pipe.no_readers());
        in_done && out_done
    }

    /// Bytes waiting to be read (FIONREAD).
    pub fn available(&self) -> usize {
        if let Some(inbox) = &self.inbox {
            return inbox.next_len();
        }
        match &self.state.lock().phase {
            Phase::Connected(Link { rx: Some(end), .. }) => end.pipe.available(),
            _ => 0,
        }
    }

    /// getsockopt(2): the option's value as the bytes Linux gives.
    pub fn get_option(&self, level: u32, name: u32) -> Result<Vec<u8>, Errno> {
        let st = self.state.lock();
        let o = st.options;
        let int = |v: i32| Ok(v.to_le_bytes().to_vec());
        let buffer = |rx: bool| -> i32 {
            match &st.phase {
                Phase::Connected(link) => {
                    let end = if rx { &link.rx } else { &link.tx };
                    end.as_ref()
                        .map_or(DEFAULT_BUFFER, |e| (e.pipe.capacity() * 2) as i32)
                }
                _ => DEFAULT_BUFFER,
            }
        };
        match (level, name) {
            (SOL_SOCKET, SO_TYPE) => int(self.kind as i32),
            (SOL_SOCKET, SO_DOMAIN) => int(self.family as i32),
            (SOL_SOCKET, SO_PROTOCOL) => int(match (self.family, self.kind) {
                (AF_UNIX, _) => 0,
                (_, SOCK_DGRAM) => IPPROTO_UDP as i32,
                _ => IPPROTO_TCP as i32,
            }),
            (SOL_SOCKET, SO_ERROR) => int(0),
            (SOL_SOCKET, SO_ACCEPTCONN) => int(matches!(st.phase, Phase::Listening { .. }) as i32),
            (SOL_SOCKET, SO_REUSEADDR) => int(o.reuse_addr as i32),
            (SOL_SOCKET, SO_KEEPALIVE) => int(o.keepalive as i32),
            (SOL_SOCKET, SO_PASSCRED) => int(o.pass_cred as i32),
            (SOL_SOCKET, SO_RCVBUF) => int(buffer(true)),
            (SOL_SOCKET, SO_SNDBUF) => int(buffer(false)),
            (SOL_SOCKET, SO_RCVTIMEO_OLD) => Ok(timeval_bytes(o.recv_timeout)),
            (SOL_SOCKET, SO_SNDTIMEO_OLD) => Ok(timeval_bytes(o.send_timeout)),
            (SOL_SOCKET, SO_PEERCRED) => match &st.phase {
                Phase::Connected(link) if self.family == AF_UNIX => {
                    Ok(link.peer_cred.to_bytes().to_vec())
                }
                _ if self.family == AF_UNIX => Ok(NOBODY.to_bytes().to_vec()),
                _ => Err(Errno::ENOPROTOOPT),
            },
            (IPPROTO_TCP, TCP_NODELAY) if self.family != AF_UNIX => int(o.nodelay as i32),
            (IPPROTO_IPV6, IPV6_V6ONLY) if self.family == AF_INET6 => int(o.v6only as i32),
            (IPPROTO_TCP, _) | (IPPROTO_IPV6, _) if self.family == AF_UNIX => {
                Err(Errno::EOPNOTSUPP)
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    /// setsockopt(2) of the options Iso-UniK keeps (`value`: the program's bytes).
    pub fn set_option(&self, level: u32, name: u32, value: &[u8]) -> Result<(), Errno> {
        let int = || -> Result<i32, Errno> {
            let b: [u8; 4] = value.get(..4).ok_or(Errno::EINVAL)?.try_into().expect("4");
            Ok(i32::from_le_bytes(b))
        };
        let mut st = self.state.lock();
        match (level, name) {
            (SOL_SOCKET, SO_REUSEADDR) => st.options.reuse_addr = int()? != 0,
            (SOL_SOCKET, SO_KEEPALIVE) => st.options.keepalive = int()? != 0,
            (SOL_SOCKET, SO_RCVTIMEO_OLD) => st.options.recv_timeout = timeval_ns(value)?,
            (SOL_SOCKET, SO_SNDTIMEO_OLD) => st.options.send_timeout = timeval_ns(value)?,
            (SOL_SOCKET, SO_RCVBUF | SO_SNDBUF) => {
                let size = int()?.max(0) as usize;
                if let Phase::Connected(link) = &st.phase {
                    let end = if name == SO_RCVBUF {
                        &link.rx
                    } else {
                        &link.tx
                    };
                    if let Some(end) = end {
                        // Too small for what is queued already: keep the current size.
                        let _ = end.pipe.set_capacity(size);
                    }
                }
            }
            (SOL_SOCKET, SO_PASSCRED) => st.options.pass_cred = int()? != 0,
            // Loopback has no segments to delay and no peer to probe: nothing to do.
            (SOL_SOCKET, SO_LINGER | SO_REUSEPORT) => {
                int()?;
            }
            (IPPROTO_TCP, TCP_NODELAY) if self.family != AF_UNIX => {
                st.options.nodelay = int()? != 0
            }
            (IPPROTO_TCP, TCP_KEEPIDLE | TCP_KEEPINTVL | TCP_KEEPCNT) if self.family != AF_UNIX => {
                if int()? < 1 {
                    return Err(Errno::EINVAL);
                }
            }
            (IPPROTO_IPV6, IPV6_V6ONLY) if self.family == AF_INET6 => {
                if st.local.is_some() {
                    return Err(Errno::EINVAL);
                }
                st.options.v6only = int()? != 0;
            }
            (IPPROTO_TCP, _) | (IPPROTO_IPV6, _) if self.family == AF_UNIX => {
                return Err(Errno::EOPNOTSUPP)
            }
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(())
    }
}

fn address_is_v6(a: &SocketAddress) -> bool {
    matches!(a, SocketAddress::Inet6 { .. })
}

/// The ports on which this machine takes TCP connections arriving at `ip` (the network
/// device's address), for the network bridge.
pub fn tcp_ports_listening_at(ip: &[u8; 16]) -> Vec<u16> {
    NAMES.lock().ports.listening_ports_for(ip)
}

/// A TCP connection that arrived from the network at `local` (this machine's address and
/// a port) from `remote`: a connected socket queued on the listener there, and the two
/// pipe ends the network bridge works (bytes for the program, bytes from it). Otherwise
/// whether to try again later (`Err(true)`: the listener's queue is full, as Linux keeps
/// such a connection waiting) or to refuse it (`Err(false)`: nobody listens there).
pub fn incoming_connection(
    local: ([u8; 16], u16),
    remote: ([u8; 16], u16),
) -> Result<(PipeEnd, PipeEnd), bool> {
    let listener = {
        let names = NAMES.lock();
        let id = names.ports.listener_for(&local.0, local.1).ok_or(false)?;
        names.inet.get(&id).and_then(Weak::upgrade).ok_or(false)?
    };
    let mut theirs = listener.state.lock();
    let server_cred = theirs.owner;
    let Phase::Listening { backlog, queue } = &mut theirs.phase else {
        return Err(false);
    };
    if queue.len() > *backlog {
        return Err(true);
    }
    let family = listener.family;
    let remote_address = SocketAddress::from_ip_port(family, remote.0, remote.1);
    let local_address = SocketAddress::from_ip_port(family, local.0, local.1);
    let (mut network_link, server_link) = links(
        (remote_address, NOBODY),
        (local_address.clone(), server_cred),
    );
    let server_end = Socket::with_phase(family, Phase::Connected(server_link), server_cred);
    server_end.state.lock().local = Some(local_address);
    queue.push_back(server_end);
    listener.touched(&mut theirs);
    match (network_link.tx.take(), network_link.rx.take()) {
        (Some(to_program), Some(from_program)) => Ok((to_program, from_program)),
        _ => Err(false),
    }
}

/// Whether `ip` is this machine's: loopback, unspecified, or the network device's.
fn is_local(ip: &[u8; 16]) -> bool {
    isounik_net::is_local(ip) || crate::drivers::net::owns(ip)
}

/// `struct timeval` of a timeout in nanoseconds.
fn timeval_bytes(ns: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(16);
    b.extend_from_slice(&((ns / 1_000_000_000) as i64).to_le_bytes());
    b.extend_from_slice(&((ns % 1_000_000_000 / 1000) as i64).to_le_bytes());
    b
}

fn timeval_ns(value: &[u8]) -> Result<u64, Errno> {
    if value.len() < 16 {
        return Err(Errno::EINVAL);
    }
    let sec = i64::from_le_bytes(value[..8].try_into().expect("8"));
    let usec = i64::from_le_bytes(value[8..16].try_into().expect("8"));
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno::EDOM);
    }
    // A negative timeout means none, as Linux.
    Ok(if sec < 0 {
        0
    } else {
        (sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(usec as u64 * 1000)
    })
}

/// The two ends of a new connection: `(address, credentials)` of each side as the other
/// sees it.
fn links(a: (SocketAddress, Ucred), b: (SocketAddress, Ucred)) -> (Link, Link) {
    let a_to_b = Pipe::new();
    let b_to_a = Pipe::new();
    let a_link = Link {
        rx: Some(PipeEnd::new(b_to_a.clone(), false)),
        tx: Some(PipeEnd::new(a_to_b.clone(), true)),
        peer: b.0,
        peer_cred: b.1,
    };
    let b_link = Link {
        rx: Some(PipeEnd::new(a_to_b, false)),
        tx: Some(PipeEnd::new(b_to_a, true)),
        peer: a.0,
        peer_cred: a.1,
    };
    (a_link, b_link)
}

impl Drop for Socket {
    fn drop(&mut self) {
        let st = self.state.get_mut();
        let local = st.local.take();
        // Connections nobody accepted close with the listener (their clients see EOF).
        let old = core::mem::replace(&mut st.phase, Phase::Closed);
        st.waiters.wake_all();
        self.release_names(local.as_ref());
        drop(old);
    }
}

/// A socket held by an open file. Closing the file closes the socket at once (its names,
/// its connections, its queue), even while a `connect` waiting for room in its queue
/// still holds it.
pub struct SocketFile(pub Arc<Socket>);

impl core::ops::Deref for SocketFile {
    type Target = Arc<Socket>;
    fn deref(&self) -> &Arc<Socket> {
        &self.0
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl Watchable for Socket {
    /// Wakes `tid` at the socket's next change (or of its connection's pipes).
    fn add_waiter(&self, tid: Tid) {
        if let Some(inbox) = &self.inbox {
            inbox.add_waiter(tid);
        }
        let mut st = self.state.lock();
        if let Phase::Connected(link) = &st.phase {
            for end in [&link.rx, &link.tx].into_iter().flatten() {
                end.pipe.add_waiter(tid);
            }
        }
        st.waiters.add(tid);
    }

    /// A count that grows at every change of the socket or of its connection's pipes.
    fn changes(&self) -> u64 {
        let own =
            self.changes.load(Ordering::Relaxed) + self.inbox.as_ref().map_or(0, |i| i.changes());
        match &self.state.lock().phase {
            Phase::Connected(link) => [&link.rx, &link.tx]
                .into_iter()
                .flatten()
                .fold(own, |sum, end| sum.wrapping_add(end.pipe.changes())),
            _ => own,
        }
    }
}

/// What a `PortError` is for the program.
fn port_errno(e: PortError) -> Errno {
    match e {
        PortError::InUse => Errno::EADDRINUSE,
        PortError::NoPorts => Errno::EADDRNOTAVAIL,
    }
}
