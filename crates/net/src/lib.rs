//! The port table of Iso-UniK's loopback network: which IPv4/IPv6 socket holds which port,
//! when a `bind` conflicts (EADDRINUSE), which ephemeral port a connecting socket gets, and
//! which listening socket a connection to an address reaches. Addresses are in IPv6 form
//! (IPv4 as `::ffff:a.b.c.d`), so one table serves both families as Linux's does.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;

/// The port range Linux hands out for an unbound socket (`ip_local_port_range`).
pub const EPHEMERAL_PORTS: core::ops::RangeInclusive<u16> = 32768..=60999;

/// `::`.
pub const IN6ADDR_ANY: [u8; 16] = [0; 16];
/// `::ffff:0.0.0.0`: INADDR_ANY of an IPv4 socket.
pub const INADDR_ANY_MAPPED: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0];

fn is_mapped(ip: &[u8; 16]) -> bool {
    ip[..10] == [0; 10] && ip[10] == 0xff && ip[11] == 0xff
}

/// Whether `ip` (IPv6 form) is this machine's, which has only the loopback interface:
/// 127.0.0.0/8, `::1`, or an unspecified address (which means "this host").
pub fn is_local(ip: &[u8; 16]) -> bool {
    let mut loopback6 = [0u8; 16];
    loopback6[15] = 1;
    *ip == IN6ADDR_ANY
        || *ip == INADDR_ANY_MAPPED
        || *ip == loopback6
        || (is_mapped(ip) && ip[12] == 127)
}

/// Where a connection to `ip` goes: an unspecified address means the loopback one.
pub fn connect_target(ip: [u8; 16]) -> [u8; 16] {
    if ip == IN6ADDR_ANY {
        let mut loopback6 = [0u8; 16];
        loopback6[15] = 1;
        loopback6
    } else if ip == INADDR_ANY_MAPPED {
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]
    } else {
        ip
    }
}

/// One bound socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding<Id> {
    pub id: Id,
    /// IPv6 form; `IN6ADDR_ANY` or `INADDR_ANY_MAPPED` for a wildcard bind.
    pub ip: [u8; 16],
    pub port: u16,
    /// An IPv6 socket with IPV6_V6ONLY: its `::` does not take IPv4 connections.
    pub v6only: bool,
    /// SO_REUSEADDR was set when it bound.
    pub reuse: bool,
    pub listening: bool,
}

impl<Id> Binding<Id> {
    /// Whether this binding's addresses include `ip` (a concrete address).
    fn covers(&self, ip: &[u8; 16]) -> bool {
        self.ip == *ip
            || (self.ip == IN6ADDR_ANY && !(self.v6only && is_mapped(ip)))
            || (self.ip == INADDR_ANY_MAPPED && is_mapped(ip))
    }

    /// Whether two bindings of one port could both receive some connection.
    fn overlaps(&self, other: &Binding<Id>) -> bool {
        self.ip == other.ip
            || self.covers(&other.ip)
            || other.covers(&self.ip)
            || (self.ip == IN6ADDR_ANY && other.ip == INADDR_ANY_MAPPED && !self.v6only)
            || (other.ip == IN6ADDR_ANY && self.ip == INADDR_ANY_MAPPED && !other.v6only)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortError {
    /// EADDRINUSE.
    InUse,
    /// Every ephemeral port is taken (EADDRNOTAVAIL for connect, EADDRINUSE for bind).
    NoPorts,
}

pub struct PortTable<Id> {
    bindings: Vec<Binding<Id>>,
    next_ephemeral: u16,
}

impl<Id: Copy + Eq> Default for PortTable<Id> {
    fn default() -> Self {
        Self::new()
    }
}

impl<Id: Copy + Eq> PortTable<Id> {
    pub const fn new() -> Self {
        PortTable {
            bindings: Vec::new(),
            next_ephemeral: *EPHEMERAL_PORTS.start(),
        }
    }

    fn conflicts(&self, wanted: &Binding<Id>) -> bool {
        // SO_REUSEADDR on both lets sockets share an address while neither listens.
        let shareable = |b: &Binding<Id>| b.reuse && !b.listening;
        self.bindings.iter().any(|b| {
            b.port == wanted.port && b.overlaps(wanted) && !(shareable(b) && shareable(wanted))
        })
    }

    /// Binds `wanted` (port 0: the next free ephemeral port); the port it got.
    pub fn bind(&mut self, mut wanted: Binding<Id>) -> Result<u16, PortError> {
        if wanted.port != 0 {
            if self.conflicts(&wanted) {
                return Err(PortError::InUse);
            }
        } else {
            let range = *EPHEMERAL_PORTS.end() - *EPHEMERAL_PORTS.start() + 1;
            let mut found = None;
            for _ in 0..range {
                let port = self.next_ephemeral;
                self.next_ephemeral = if port == *EPHEMERAL_PORTS.end() {
                    *EPHEMERAL_PORTS.start()
                } else {
                    port + 1
                };
                wanted.port = port;
                if !self.bindings.iter().any(|b| b.port == port) {
                    found = Some(port);
                    break;
                }
            }
            found.ok_or(PortError::NoPorts)?;
        }
        self.bindings.push(wanted);
        Ok(wanted.port)
    }

    /// Marks `id` listening: EADDRINUSE if another socket already listens where it would.
    pub fn listen(&mut self, id: Id) -> Result<(), PortError> {
        let Some(i) = self.bindings.iter().position(|b| b.id == id) else {
            return Ok(());
        };
        let me = self.bindings[i];
        let clash = self
            .bindings
            .iter()
            .any(|b| b.id != id && b.port == me.port && b.listening && b.overlaps(&me));
        if clash {
            return Err(PortError::InUse);
        }
        self.bindings[i].listening = true;
        Ok(())
    }

    /// Forgets `id`'s binding (its socket closed).
    pub fn release(&mut self, id: Id) {
        self.bindings.retain(|b| b.id != id);
    }

    /// The listening socket a connection to `ip` (IPv6 form, concrete) and `port` reaches:
    /// one bound to exactly that address first, else a wildcard one.
    pub fn listener_for(&self, ip: &[u8; 16], port: u16) -> Option<Id> {
        let listening = || {
            self.bindings
                .iter()
                .filter(move |b| b.port == port && b.listening)
        };
        listening()
            .find(|b| b.ip == *ip)
            .or_else(|| listening().find(|b| b.covers(ip)))
            .map(|b| b.id)
    }

    /// The ports on which some listening socket takes connections to `ip` (what a network
    /// device must accept connections for).
    pub fn listening_ports_for(&self, ip: &[u8; 16]) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .bindings
            .iter()
            .filter(|b| b.listening && b.covers(ip))
            .map(|b| b.port)
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4]) -> [u8; 16] {
        let mut ip = INADDR_ANY_MAPPED;
        ip[12..].copy_from_slice(&a);
        ip
    }

    fn loop6() -> [u8; 16] {
        let mut ip = [0u8; 16];
        ip[15] = 1;
        ip
    }

    fn binding(id: u32, ip: [u8; 16], port: u16) -> Binding<u32> {
        Binding {
            id,
            ip,
            port,
            v6only: false,
            reuse: false,
            listening: false,
        }
    }

    #[test]
    fn same_port_same_address_is_in_use() {
        let mut t = PortTable::new();
        assert_eq!(t.bind(binding(1, v4([127, 0, 0, 1]), 80)), Ok(80));
        assert_eq!(
            t.bind(binding(2, v4([127, 0, 0, 1]), 80)),
            Err(PortError::InUse)
        );
        assert_eq!(t.bind(binding(3, v4([127, 0, 0, 2]), 80)), Ok(80));
        assert_eq!(
            t.bind(binding(4, INADDR_ANY_MAPPED, 80)),
            Err(PortError::InUse)
        );
        t.release(1);
        t.release(3);
        assert_eq!(t.bind(binding(4, INADDR_ANY_MAPPED, 80)), Ok(80));
    }

    #[test]
    fn v6_wildcard_takes_v4_unless_v6only() {
        let mut t = PortTable::new();
        t.bind(binding(1, IN6ADDR_ANY, 80)).unwrap();
        assert_eq!(
            t.bind(binding(2, INADDR_ANY_MAPPED, 80)),
            Err(PortError::InUse)
        );
        t.listen(1).unwrap();
        assert_eq!(t.listener_for(&v4([127, 0, 0, 1]), 80), Some(1));
        assert_eq!(t.listener_for(&loop6(), 80), Some(1));

        let mut t = PortTable::new();
        let mut only6 = binding(1, IN6ADDR_ANY, 80);
        only6.v6only = true;
        t.bind(only6).unwrap();
        t.bind(binding(2, INADDR_ANY_MAPPED, 80)).unwrap();
        t.listen(1).unwrap();
        t.listen(2).unwrap();
        assert_eq!(t.listener_for(&v4([127, 0, 0, 1]), 80), Some(2));
        assert_eq!(t.listener_for(&loop6(), 80), Some(1));
    }

    #[test]
    fn reuseaddr_lets_non_listeners_share_but_not_two_listeners() {
        let mut t = PortTable::new();
        let mut a = binding(1, INADDR_ANY_MAPPED, 8080);
        a.reuse = true;
        let mut b = binding(2, INADDR_ANY_MAPPED, 8080);
        b.reuse = true;
        t.bind(a).unwrap();
        t.bind(b).unwrap();
        t.listen(1).unwrap();
        assert_eq!(t.listen(2), Err(PortError::InUse));
        let mut c = binding(3, INADDR_ANY_MAPPED, 8080);
        c.reuse = true;
        assert_eq!(t.bind(c), Err(PortError::InUse), "1 listens now");
    }

    #[test]
    fn exact_listener_wins_over_wildcard() {
        let mut t = PortTable::new();
        let mut any = binding(1, INADDR_ANY_MAPPED, 7);
        any.reuse = true;
        t.bind(any).unwrap();
        t.bind(binding(2, v4([127, 0, 0, 5]), 7)).unwrap_err();
        let mut t = PortTable::new();
        t.bind(binding(2, v4([127, 0, 0, 5]), 7)).unwrap();
        t.bind(binding(3, v4([127, 0, 0, 1]), 7)).unwrap();
        t.listen(2).unwrap();
        t.listen(3).unwrap();
        assert_eq!(t.listener_for(&v4([127, 0, 0, 5]), 7), Some(2));
        assert_eq!(t.listener_for(&v4([127, 0, 0, 1]), 7), Some(3));
        assert_eq!(t.listener_for(&v4([127, 0, 0, 9]), 7), None);
        assert_eq!(t.listener_for(&v4([127, 0, 0, 1]), 8), None);
    }

    #[test]
    fn not_listening_is_not_reachable() {
        let mut t = PortTable::new();
        t.bind(binding(1, INADDR_ANY_MAPPED, 9)).unwrap();
        assert_eq!(t.listener_for(&v4([127, 0, 0, 1]), 9), None);
    }

    #[test]
    fn ephemeral_ports_are_distinct_and_run_out() {
        let mut t = PortTable::new();
        let a = t.bind(binding(1, INADDR_ANY_MAPPED, 0)).unwrap();
        let b = t.bind(binding(2, INADDR_ANY_MAPPED, 0)).unwrap();
        assert_ne!(a, b);
        assert!(EPHEMERAL_PORTS.contains(&a) && EPHEMERAL_PORTS.contains(&b));
        // A port taken explicitly is skipped.
        t.bind(binding(3, v4([127, 0, 0, 1]), b + 1)).unwrap();
        let c = t.bind(binding(4, INADDR_ANY_MAPPED, 0)).unwrap();
        assert_eq!(c, b + 2);
        let count = EPHEMERAL_PORTS.len() as u32;
        let mut got = 0;
        for id in 10..10 + count {
            if t.bind(binding(id, INADDR_ANY_MAPPED, 0)).is_ok() {
                got += 1;
            }
        }
        assert_eq!(got, count - 4);
        assert_eq!(
            t.bind(binding(99, INADDR_ANY_MAPPED, 0)),
            Err(PortError::NoPorts)
        );
    }

    #[test]
    fn listening_ports_for_an_address() {
        let mut t = PortTable::new();
        t.bind(binding(1, INADDR_ANY_MAPPED, 80)).unwrap();
        t.bind(binding(2, v4([127, 0, 0, 1]), 81)).unwrap();
        t.bind(binding(3, IN6ADDR_ANY, 82)).unwrap();
        t.bind(binding(4, INADDR_ANY_MAPPED, 83)).unwrap();
        for id in [1, 2, 3] {
            t.listen(id).unwrap();
        }
        // 83 is bound but not listening; 81 only on loopback.
        assert_eq!(t.listening_ports_for(&v4([10, 0, 2, 15])), [80, 82]);
        assert_eq!(t.listening_ports_for(&v4([127, 0, 0, 1])), [80, 81, 82]);
    }

    #[test]
    fn only_loopback_is_local() {
        assert!(is_local(&v4([127, 1, 2, 3])));
        assert!(is_local(&INADDR_ANY_MAPPED));
        assert!(is_local(&loop6()));
        assert!(is_local(&IN6ADDR_ANY));
        assert!(!is_local(&v4([10, 0, 2, 15])));
        assert_eq!(connect_target(INADDR_ANY_MAPPED), v4([127, 0, 0, 1]));
        assert_eq!(connect_target(IN6ADDR_ANY), loop6());
    }
}
