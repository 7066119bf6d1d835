//! The network device: virtio-net on QEMU's microvm (virtio-mmio transports, found when the
//! host asks for networking with `net=virtio-mmio` on the command line), a TCP/IP stack
//! (smoltcp) on it, and the bridge that turns the TCP connections arriving for listening
//! sockets into ordinary connected sockets (`fs::socket::incoming_connection`).
//!
//! Everything runs in ring 0, in one kernel task (`NET_TID`) that sleeps until the device
//! interrupts, a program moves bytes through a bridged connection (the task waits on its
//! pipes too), a program starts listening (`kick`), or the stack's next timer. Programs
//! never touch the device or the stack: a bridged connection is two pipes, like any other,
//! so reads, writes and poll of it run in ring 3 behind the MPK gate as usual.
//!
//! The address is QEMU user networking's: 10.0.2.15/24, gateway 10.0.2.2. Incoming TCP
//! only: programs serve the host (`isounik run -p HOST:GUEST`); connections out to the
//! network are not made yet (ENETUNREACH).

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

use isounik_linux::errno::Errno;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address};
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

use crate::fs::pipe::PipeEnd;
use crate::fs::waiters::Watchable;
use crate::mm;
use crate::sched::{self, Tid};

/// The network task's id (far above the ids of programs' threads).
pub const NET_TID: Tid = 0xffff_fff0;
/// The interrupt vector of the device.
pub const NET_VECTOR: u8 = 0x25;

/// This machine's address on QEMU's user network, and its gateway.
const ADDRESS: [u8; 4] = [10, 0, 2, 15];
const GATEWAY: [u8; 4] = [10, 0, 2, 2];

/// QEMU microvm's virtio-mmio transports: 512 bytes each from this address, interrupt
/// 16 + index on the I/O APIC (with ACPI on and the second I/O APIC off, as isounik
/// starts it; measured: QEMU 7.2 puts the first device on transport 7, GSI 23).
const MMIO_BASE: u64 = 0xfeb0_0000;
const MMIO_SIZE: usize = 0x200;
const MMIO_TRANSPORTS: u64 = 8;
const FIRST_GSI: u8 = 16;
const VIRTIO_MAGIC: u32 = 0x7472_6976;
const VIRTIO_DEVICE_NET: u32 = 1;
/// The transport's interrupt status and acknowledge registers.
const INTERRUPT_STATUS: u64 = 0x60;
const INTERRUPT_ACK: u64 = 0x64;

const QUEUE_SIZE: usize = 16;
/// Each buffer is one page of the direct map: physically contiguous by construction.
const BUFFER: usize = 4096;
/// Pending connections each listening port keeps ready in the stack.
const LISTEN_SLOTS: usize = 16;
/// TCP socket buffers in the stack (the pipes behind a connection hold more).
const TCP_BUFFER: usize = 16 * 1024;
/// The most TCP sockets the stack holds (each has 2 x TCP_BUFFER of libOS heap): programs
/// listening on many ports or connecting out without end get fewer listeners, then
/// ENOBUFS, instead of exhausting the libOS's memory.
const MAX_STACK_SOCKETS: usize = 256;
/// The longest the task sleeps without an interrupt.
const FALLBACK_POLL_NS: u64 = 100_000_000;

static UP: AtomicBool = AtomicBool::new(false);
/// The device's interrupt-status register (virtual), for the interrupt handler, which
/// must not take the stack's lock.
static IRQ_REGISTERS: AtomicU64 = AtomicU64::new(0);

/// Allocations and address translation for the virtio queues and buffers: pages of the
/// direct map (supervisor memory; only this ring-0 driver touches them).
pub struct KernelHal;

// SAFETY: `dma_alloc` returns zeroed, page-aligned, physically contiguous memory reached
// through the direct map and owned by the caller until `dma_dealloc`; `share` gives the
// physical address of memory the driver owns, checked to be contiguous.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let Some(phys) = mm::with(|m| m.frames.allocate_contiguous(pages)) else {
            return (0, NonNull::dangling());
        };
        let va = mm::phys_to_virt(phys);
        // SAFETY: the frames were just allocated for us and the direct map covers them.
        unsafe { core::ptr::write_bytes(va as *mut u8, 0, pages * BUFFER) };
        (
            phys,
            NonNull::new(va as *mut u8).expect("direct map is not null"),
        )
    }

    unsafe fn dma_dealloc(paddr: PhysAddr, _vaddr: NonNull<u8>, pages: usize) -> i32 {
        mm::with(|m| {
            for i in 0..pages as u64 {
                isounik_paging::FrameAllocator::deallocate(&mut m.frames, paddr + i * 4096);
            }
        });
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        let page = paddr & !0xfff;
        let va = mm::with(|m| m.map_mmio(page, (paddr - page) + size as u64))
            .expect("mapping a device's registers");
        NonNull::new((va + (paddr - page)) as *mut u8).expect("mapped")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        let start = buffer.as_ptr() as *mut u8 as u64;
        let len = buffer.len().max(1) as u64;
        let first = mm::translate_unlocked(start).expect("a shared buffer is mapped");
        let last = mm::translate_unlocked(start + len - 1).expect("a shared buffer is mapped");
        // The driver shares only its own page buffers and ring memory.
        assert_eq!(
            last.phys - first.phys,
            len - 1,
            "a DMA buffer crosses frames"
        );
        first.phys
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

/// A page of the direct map for one packet.
struct PageBuffer(&'static mut [u8; BUFFER]);

impl PageBuffer {
    fn new() -> Option<PageBuffer> {
        let (phys, _) = KernelHal::dma_alloc(1, BufferDirection::Both);
        if phys == 0 {
            return None;
        }
        // SAFETY: a fresh frame of our own, reached through the direct map, never freed.
        Some(PageBuffer(unsafe {
            &mut *(mm::phys_to_virt(phys) as *mut [u8; BUFFER])
        }))
    }
}

type Nic = VirtIONetRaw<KernelHal, MmioTransport<'static>, QUEUE_SIZE>;

/// The device as smoltcp sees it: receive buffers posted to the device (by descriptor
/// token), transmit buffers in flight or free.
struct NetDevice {
    nic: Nic,
    rx: Vec<PageBuffer>,
    /// Which receive buffer each descriptor token holds.
    rx_token: [Option<usize>; QUEUE_SIZE],
    tx_free: Vec<PageBuffer>,
    tx_busy: Vec<(u16, PageBuffer)>,
}

impl NetDevice {
    fn post_receive(&mut self, index: usize) {
        // SAFETY: the buffer is ours and untouched until its token completes.
        if let Ok(token) = unsafe { self.nic.receive_begin(&mut self.rx[index].0[..]) } {
            self.rx_token[token as usize] = Some(index);
        }
    }

    /// Takes back the transmit buffers the device is done with.
    fn reclaim(&mut self) {
        while let Some(token) = self.nic.poll_transmit() {
            let Some(i) = self.tx_busy.iter().position(|(t, _)| *t == token) else {
                break;
            };
            let (_, buffer) = self.tx_busy.swap_remove(i);
            // SAFETY: the same buffer that `transmit_begin` took with this token.
            let _ = unsafe { self.nic.transmit_complete(token, &buffer.0[..]) };
            self.tx_free.push(buffer);
        }
    }
}

struct Received(Vec<u8>);
struct Transmit<'a>(&'a mut NetDevice);

impl RxToken for Received {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl TxToken for Transmit<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let dev = self.0;
        let buffer = dev
            .tx_free
            .pop()
            .expect("transmit() checked for a free buffer");
        let header = dev.nic.fill_buffer_header(&mut buffer.0[..]).unwrap_or(0);
        let len = len.min(BUFFER - header);
        let r = f(&mut buffer.0[header..header + len]);
        // SAFETY: the buffer stays untouched until `reclaim` completes its token.
        match unsafe { dev.nic.transmit_begin(&buffer.0[..header + len]) } {
            Ok(token) => dev.tx_busy.push((token, buffer)),
            Err(_) => dev.tx_free.push(buffer), // queue full: the packet is dropped
        }
        r
    }
}

impl Device for NetDevice {
    type RxToken<'a> = Received;
    type TxToken<'a> = Transmit<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(Received, Transmit<'_>)> {
        self.reclaim();
        if self.tx_free.is_empty() {
            return None;
        }
        let token = self.nic.poll_receive()?;
        let index = self.rx_token[token as usize].take()?;
        // SAFETY: the buffer `receive_begin` took with this token.
        let done = unsafe { self.nic.receive_complete(token, &mut self.rx[index].0[..]) };
        let packet = done
            .ok()
            .map(|(header, len)| self.rx[index].0[header..header + len].to_vec());
        self.post_receive(index);
        Some((Received(packet?), Transmit(self)))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Transmit<'_>> {
        self.reclaim();
        (!self.tx_free.is_empty()).then_some(Transmit(self))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514;
        caps.max_burst_size = Some(QUEUE_SIZE / 2);
        caps
    }
}

/// A TCP connection of the stack bridged to a socket's pipes.
struct Bridged {
    handle: SocketHandle,
    /// Bytes from the network, for the program (`None` once the peer has finished).
    to_program: Option<PipeEnd>,
    /// Bytes from the program, for the network.
    from_program: PipeEnd,
    closing: bool,
    /// A connection out that the program's `connect` waits for: its outcome and the
    /// waiting thread.
    connecting: Option<(Arc<AtomicU8>, Tid)>,
}

/// The outcome of a connection out (`Bridged::connecting`).
pub const CONNECTING: u8 = 0;
pub const CONNECTED: u8 = 1;
pub const REFUSED: u8 = 2;

struct Net {
    device: NetDevice,
    iface: Interface,
    sockets: SocketSet<'static>,
    /// Sockets of the stack listening on a port (several per port: each takes one
    /// connection).
    listening: Vec<(u16, SocketHandle)>,
    bridged: Vec<Bridged>,
}

static NET: spin::Mutex<Option<Net>> = spin::Mutex::new(None);

fn now() -> Instant {
    Instant::from_micros((crate::time::uptime_ns() / 1000) as i64)
}

/// Our address in the socket layer's form (`::ffff:10.0.2.15`).
fn own_address() -> [u8; 16] {
    isounik_linux::structs::sockaddr::v4_mapped(ADDRESS)
}

/// Whether `ip` (IPv6 form) is the network device's address.
pub fn owns(ip: &[u8; 16]) -> bool {
    UP.load(Ordering::Relaxed) && *ip == own_address()
}

/// Finds the virtio-net transport of a microvm and brings the network up; a message says
/// why when it cannot.
pub fn init() {
    let Ok(window) = mm::with(|m| m.map_mmio(MMIO_BASE, MMIO_TRANSPORTS * MMIO_SIZE as u64)) else {
        kprintln!("network: cannot map the virtio-mmio registers");
        return;
    };
    let found = (0..MMIO_TRANSPORTS).find(|i| {
        let base = window + i * MMIO_SIZE as u64;
        // SAFETY: the transport's registers are mapped (uncached) at `base`.
        let (magic, device) = unsafe {
            (
                core::ptr::read_volatile(base as *const u32),
                core::ptr::read_volatile((base + 8) as *const u32),
            )
        };
        magic == VIRTIO_MAGIC && device == VIRTIO_DEVICE_NET
    });
    let Some(index) = found else {
        kprintln!("network: no virtio-net device (QEMU -device virtio-net-device on microvm)");
        return;
    };
    let base = window + index * MMIO_SIZE as u64;
    let header = NonNull::new(base as *mut VirtIOHeader).expect("mapped");
    // SAFETY: `header` points at a virtio-mmio transport's registers, mapped for the
    // kernel's lifetime and used only by this driver.
    let transport = match unsafe { MmioTransport::new(header, MMIO_SIZE) } {
        Ok(t) if t.device_type() == DeviceType::Network => t,
        _ => {
            kprintln!("network: the virtio transport at {base:#x} is not usable");
            return;
        }
    };
    let Ok(mut nic) = Nic::new(transport) else {
        kprintln!("network: the virtio-net device did not initialise");
        return;
    };
    nic.enable_interrupts();
    let mac = nic.mac_address();
    let buffers = (0..QUEUE_SIZE * 2)
        .map(|_| PageBuffer::new())
        .collect::<Option<Vec<_>>>();
    let Some(mut buffers) = buffers else {
        kprintln!("network: no memory for packet buffers");
        return;
    };
    let tx_free = buffers.split_off(QUEUE_SIZE);
    let mut device = NetDevice {
        nic,
        rx: buffers,
        rx_token: [None; QUEUE_SIZE],
        tx_free,
        tx_busy: Vec::new(),
    };
    for i in 0..QUEUE_SIZE {
        device.post_receive(i);
    }
    let config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
    let mut iface = Interface::new(config, &mut device, now());
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(IpAddress::Ipv4(Ipv4Address::from(ADDRESS)), 24));
    });
    let _ = iface
        .routes_mut()
        .add_default_ipv4_route(Ipv4Address::from(GATEWAY));
    *NET.lock() = Some(Net {
        device,
        iface,
        sockets: SocketSet::new(Vec::new()),
        listening: Vec::new(),
        bridged: Vec::new(),
    });
    IRQ_REGISTERS.store(base, Ordering::Relaxed);
    crate::arch::x86_64::apic::route_irq(FIRST_GSI + index as u8, NET_VECTOR);
    if let Err(e) = sched::spawn(NET_TID, mm::kernel_root(), net_task, 0) {
        kprintln!("network: no task: {e:?}");
        return;
    }
    UP.store(true, Ordering::Relaxed);
    kdebug!(
        "network: virtio-net at {base:#x}, MAC {:02x?}, address 10.0.2.15/24",
        mac
    );
}

/// The device interrupted: acknowledge it (without the stack's lock, which the task may
/// hold) and wake the task.
pub fn on_interrupt() {
    let base = IRQ_REGISTERS.load(Ordering::Relaxed);
    if base == 0 {
        return;
    }
    // SAFETY: the transport's registers stay mapped; reading the status and writing it
    // back to the acknowledge register is the interrupt protocol of virtio-mmio.
    unsafe {
        let status = core::ptr::read_volatile((base + INTERRUPT_STATUS) as *const u32);
        core::ptr::write_volatile((base + INTERRUPT_ACK) as *mut u32, status);
    }
    sched::wake(NET_TID);
}

/// Whether a connection to `ip` (IPv6 form) goes out through the device: an IPv4 address
/// that is not this machine's, while the device is up.
pub fn reaches(ip: &[u8; 16]) -> bool {
    UP.load(Ordering::Relaxed)
        && !isounik_net::is_local(ip)
        && isounik_linux::structs::sockaddr::v4_of_mapped(ip).is_some()
}

/// Our address, for a socket that connects out.
pub fn address() -> [u8; 16] {
    own_address()
}

/// Starts a TCP connection out to `remote` from our `local_port`, whose bytes go through
/// the given pipe ends; the task reports the outcome in the returned flag and wakes
/// `waiter`. Runs in the connecting thread (either ring: it touches the stack's state,
/// never the device).
pub fn connect(
    remote: ([u8; 4], u16),
    local_port: u16,
    to_program: PipeEnd,
    from_program: PipeEnd,
    waiter: Tid,
) -> Result<Arc<AtomicU8>, Errno> {
    let mut guard = NET.lock();
    let net = guard.as_mut().ok_or(Errno::ENETUNREACH)?;
    if net.socket_count() >= MAX_STACK_SOCKETS {
        return Err(Errno::ENOBUFS);
    }
    let mut socket = new_tcp_socket();
    let to = (IpAddress::Ipv4(Ipv4Address::from(remote.0)), remote.1);
    socket
        .connect(net.iface.context(), to, local_port)
        .map_err(|_| Errno::EADDRNOTAVAIL)?;
    let handle = net.sockets.add(socket);
    let outcome = Arc::new(AtomicU8::new(CONNECTING));
    net.bridged.push(Bridged {
        handle,
        to_program: Some(to_program),
        from_program,
        closing: false,
        connecting: Some((outcome.clone(), waiter)),
    });
    drop(guard);
    sched::wake(NET_TID);
    Ok(outcome)
}

/// A TCP socket of the stack with its buffers (TCP_BUFFER each way, libOS heap).
fn new_tcp_socket() -> tcp::Socket<'static> {
    tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
        tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
    )
}

/// Something changed that the task must look at (a program started listening).
pub fn kick() {
    if UP.load(Ordering::Relaxed) {
        sched::wake(NET_TID);
    }
}

extern "C" fn net_task(_: usize) -> ! {
    loop {
        let delay = NET.lock().as_mut().map(Net::run_once).unwrap_or(None);
        // At least every 100 ms, should an interrupt go astray (another QEMU's layout).
        let delay = Some(delay.unwrap_or(FALLBACK_POLL_NS).min(FALLBACK_POLL_NS));
        let deadline = delay.map(|d| crate::time::uptime_ns().saturating_add(d));
        sched::block(deadline);
    }
}

impl Net {
    fn socket_count(&self) -> usize {
        self.listening.len() + self.bridged.len()
    }

    /// One round: the stack, the listeners, the bridges; how long the stack may sleep
    /// (ns), `None` for "until something happens".
    fn run_once(&mut self) -> Option<u64> {
        for _ in 0..8 {
            let t = now();
            let busy = self.iface.poll(t, &mut self.device, &mut self.sockets);
            let moved = self.pump();
            self.keep_listening();
            if !moved && busy == smoltcp::iface::PollResult::None {
                break;
            }
        }
        self.iface
            .poll_delay(now(), &self.sockets)
            .map(|d| d.total_micros() * 1000)
    }

    /// A listening socket of the stack on every port a program listens on (at our address
    /// or any), a few per port; connections they took become bridged sockets.
    fn keep_listening(&mut self) {
        let ports = crate::fs::socket::tcp_ports_listening_at(&own_address());
        // Stack listeners that took a connection: once it is established, hand it to the
        // program's listener; a handshake in progress stays here.
        let mut i = 0;
        while i < self.listening.len() {
            let (port, handle) = self.listening[i];
            let socket = self.sockets.get_mut::<tcp::Socket>(handle);
            match socket.state() {
                tcp::State::Listen if ports.contains(&port) => {
                    i += 1;
                    continue;
                }
                tcp::State::SynReceived => {
                    i += 1;
                    continue;
                }
                tcp::State::Established | tcp::State::CloseWait => {}
                _ => {
                    // Nobody listens on that port any more, or the handshake failed.
                    socket.abort();
                    self.sockets.remove(handle);
                    self.listening.swap_remove(i);
                    continue;
                }
            }
            let bridge = match socket.remote_endpoint() {
                Some(r) => {
                    let IpAddress::Ipv4(ip) = r.addr;
                    let remote_ip = isounik_linux::structs::sockaddr::v4_mapped(ip.octets());
                    let local = (own_address(), port);
                    crate::fs::socket::incoming_connection(local, (remote_ip, r.port))
                }
                None => Err(false),
            };
            if matches!(bridge, Err(true)) {
                // The program's queue is full: the connection waits here for room.
                i += 1;
                continue;
            }
            self.listening.swap_remove(i);
            match bridge {
                Ok((to_program, from_program)) => {
                    from_program.pipe.add_waiter(NET_TID);
                    to_program.pipe.add_waiter(NET_TID);
                    self.bridged.push(Bridged {
                        handle,
                        to_program: Some(to_program),
                        from_program,
                        closing: false,
                        connecting: None,
                    });
                }
                Err(_) => {
                    // Nobody listens there any more: reset.
                    socket.abort();
                }
            }
        }
        for port in ports {
            let sockets = &self.sockets;
            let have = self
                .listening
                .iter()
                .filter(|(p, h)| {
                    *p == port && sockets.get::<tcp::Socket>(*h).state() == tcp::State::Listen
                })
                .count();
            for _ in have..LISTEN_SLOTS {
                if self.socket_count() >= MAX_STACK_SOCKETS {
                    break;
                }
                let mut socket = new_tcp_socket();
                if socket.listen(port).is_err() {
                    break;
                }
                let handle = self.sockets.add(socket);
                self.listening.push((port, handle));
            }
        }
    }

    /// Moves bytes between the stack's connections and their pipes; whether any moved.
    fn pump(&mut self) -> bool {
        let mut moved = false;
        let mut chunk = [0u8; 4096];
        let mut i = 0;
        while i < self.bridged.len() {
            let b = &mut self.bridged[i];
            let socket = self.sockets.get_mut::<tcp::Socket>(b.handle);
            // A connection out: tell the waiting `connect` how it went.
            if let Some((outcome, waiter)) = &b.connecting {
                let result = match socket.state() {
                    tcp::State::SynSent => None,
                    tcp::State::Established | tcp::State::CloseWait => Some(CONNECTED),
                    _ => Some(REFUSED),
                };
                if let Some(r) = result {
                    outcome.store(r, Ordering::Release);
                    sched::wake(*waiter);
                    b.connecting = None;
                    moved = true;
                }
            }
            // Network -> program.
            if let Some(pipe) = &b.to_program {
                while socket.can_recv() {
                    let n = socket
                        .recv(|data| {
                            let n = pipe.pipe.try_write(data);
                            (n, n)
                        })
                        .unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    moved = true;
                }
                // (A connection still in its handshake cannot receive yet either.)
                if b.connecting.is_none() && !socket.may_recv() && socket.recv_queue() == 0 {
                    // The peer finished sending: the program reads the end.
                    b.to_program = None;
                    moved = true;
                }
            }
            // Program -> network.
            while socket.can_send() {
                let room = socket.send_capacity() - socket.send_queue();
                let n = b.from_program.pipe.try_read(&mut chunk[..room.min(4096)]);
                if n == 0 {
                    break;
                }
                let _ = socket.send_slice(&chunk[..n]);
                moved = true;
            }
            if !b.closing && b.from_program.pipe.drained_and_closed() {
                socket.close();
                b.closing = true;
                moved = true;
            }
            // Keep being woken by both pipes.
            b.from_program.pipe.add_waiter(NET_TID);
            if let Some(p) = &b.to_program {
                p.pipe.add_waiter(NET_TID);
            }
            let gone = matches!(socket.state(), tcp::State::Closed | tcp::State::TimeWait)
                || (!socket.is_open() && b.closing);
            if gone {
                let handle = b.handle;
                self.bridged.swap_remove(i);
                self.sockets.remove(handle);
                moved = true;
                continue;
            }
            i += 1;
        }
        moved
    }
}
