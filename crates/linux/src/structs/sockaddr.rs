//! Socket addresses (`sockaddr_un`, `sockaddr_in`, `sockaddr_in6`), `struct msghdr` and
//! `struct ucred`, with the validation rules of Linux's `bind`/`connect`.

use alloc::vec::Vec;

use super::le::{get_u16, get_u32, get_u64, put_u16, put_u32, put_u64};
use crate::errno::Errno;
use crate::socket::{
    AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC, SOCKADDR_IN6_SIZE, SOCKADDR_IN_SIZE, SOCKADDR_UN_SIZE,
};

/// Where a socket is, as a program names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketAddress {
    /// An AF_UNIX socket without a name (a `socketpair` end, a connecting client).
    UnixUnnamed,
    /// An AF_UNIX socket bound to a path of the file system.
    UnixPath(Vec<u8>),
    /// An AF_UNIX socket in the abstract namespace (`sun_path[0] == 0`): the name is the
    /// bytes after the zero, NULs included.
    UnixAbstract(Vec<u8>),
    Inet {
        ip: [u8; 4],
        port: u16,
    },
    Inet6 {
        ip: [u8; 16],
        port: u16,
        flowinfo: u32,
        scope_id: u32,
    },
}

/// What a `bind` or `connect` of the family `family` reads from a program's address.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AddressUse {
    Bind,
    Connect,
}

/// Length of `sockaddr_in6` in RFC 2133 (without `sin6_scope_id`), which Linux accepts.
const SIN6_LEN_RFC2133: usize = 24;

impl SocketAddress {
    /// Parses the `bytes` a program passed (exactly its `addrlen`) for a socket of `family`.
    /// AF_UNIX with only the family (`addrlen == 2`) is an unnamed address: `bind` then
    /// picks an abstract name (autobind), `connect` fails with EINVAL.
    pub fn parse(bytes: &[u8], family: u32, usage: AddressUse) -> Result<SocketAddress, Errno> {
        if bytes.len() < 2 {
            return Err(Errno::EINVAL);
        }
        let given = get_u16(bytes, 0) as u32;
        match family {
            AF_UNIX => {
                if bytes.len() > SOCKADDR_UN_SIZE || given != AF_UNIX {
                    return Err(Errno::EINVAL);
                }
                let path = &bytes[2..];
                if path.is_empty() {
                    return match usage {
                        AddressUse::Bind => Ok(SocketAddress::UnixUnnamed),
                        AddressUse::Connect => Err(Errno::EINVAL),
                    };
                }
                if path[0] == 0 {
                    return Ok(SocketAddress::UnixAbstract(path[1..].to_vec()));
                }
                let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                Ok(SocketAddress::UnixPath(path[..end].to_vec()))
            }
            AF_INET => {
                if bytes.len() < SOCKADDR_IN_SIZE {
                    return Err(Errno::EINVAL);
                }
                let port = u16::from_be_bytes([bytes[2], bytes[3]]);
                let ip = [bytes[4], bytes[5], bytes[6], bytes[7]];
                // Linux lets `bind` name INADDR_ANY as AF_UNSPEC (old programs do).
                let unspec_any = given == AF_UNSPEC && usage == AddressUse::Bind && ip == [0; 4];
                if given != AF_INET && !unspec_any {
                    return Err(Errno::EAFNOSUPPORT);
                }
                Ok(SocketAddress::Inet { ip, port })
            }
            AF_INET6 => {
                if bytes.len() < SIN6_LEN_RFC2133 {
                    return Err(Errno::EINVAL);
                }
                if given != AF_INET6 {
                    return Err(Errno::EAFNOSUPPORT);
                }
                let mut ip = [0u8; 16];
                ip.copy_from_slice(&bytes[8..24]);
                let scope_id = if bytes.len() >= SOCKADDR_IN6_SIZE {
                    get_u32(bytes, 24)
                } else {
                    0
                };
                Ok(SocketAddress::Inet6 {
                    ip,
                    port: u16::from_be_bytes([bytes[2], bytes[3]]),
                    flowinfo: get_u32(bytes, 4),
                    scope_id,
                })
            }
            _ => Err(Errno::EAFNOSUPPORT),
        }
    }

    /// The bytes `getsockname`, `getpeername`, `accept` and `recvfrom` give back (their
    /// length is the `addrlen` reported, even when the program's buffer is shorter).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        match self {
            SocketAddress::UnixUnnamed => {
                b.resize(2, 0);
                put_u16(&mut b, 0, AF_UNIX as u16);
            }
            SocketAddress::UnixPath(path) => {
                b.resize(2 + path.len() + 1, 0);
                put_u16(&mut b, 0, AF_UNIX as u16);
                b[2..2 + path.len()].copy_from_slice(path);
            }
            SocketAddress::UnixAbstract(name) => {
                b.resize(3 + name.len(), 0);
                put_u16(&mut b, 0, AF_UNIX as u16);
                b[3..].copy_from_slice(name);
            }
            SocketAddress::Inet { ip, port } => {
                b.resize(SOCKADDR_IN_SIZE, 0);
                put_u16(&mut b, 0, AF_INET as u16);
                b[2..4].copy_from_slice(&port.to_be_bytes());
                b[4..8].copy_from_slice(ip);
            }
            SocketAddress::Inet6 {
                ip,
                port,
                flowinfo,
                scope_id,
            } => {
                b.resize(SOCKADDR_IN6_SIZE, 0);
                put_u16(&mut b, 0, AF_INET6 as u16);
                b[2..4].copy_from_slice(&port.to_be_bytes());
                put_u32(&mut b, 4, *flowinfo);
                b[8..24].copy_from_slice(ip);
                put_u32(&mut b, 24, *scope_id);
            }
        }
        b
    }

    /// An IP address and port in IPv6 form (IPv4 as `::ffff:a.b.c.d`); `None` for AF_UNIX.
    pub fn ip_port(&self) -> Option<([u8; 16], u16)> {
        match self {
            SocketAddress::Inet { ip, port } => Some((v4_mapped(*ip), *port)),
            SocketAddress::Inet6 { ip, port, .. } => Some((*ip, *port)),
            _ => None,
        }
    }

    /// The address of a socket of `family` at `ip` (IPv6 form) and `port`: an IPv4 socket
    /// sees IPv4 addresses, an IPv6 socket sees IPv4 peers as `::ffff:a.b.c.d`.
    pub fn from_ip_port(family: u32, ip: [u8; 16], port: u16) -> SocketAddress {
        match (family, v4_of_mapped(&ip)) {
            (AF_INET, Some(v4)) => SocketAddress::Inet { ip: v4, port },
            (AF_INET, None) => SocketAddress::Inet { ip: [0; 4], port },
            _ => SocketAddress::Inet6 {
                ip,
                port,
                flowinfo: 0,
                scope_id: 0,
            },
        }
    }
}

/// `::ffff:a.b.c.d`.
pub fn v4_mapped(ip: [u8; 4]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[10] = 0xff;
    out[11] = 0xff;
    out[12..].copy_from_slice(&ip);
    out
}

/// The IPv4 address inside `::ffff:a.b.c.d`.
pub fn v4_of_mapped(ip: &[u8; 16]) -> Option<[u8; 4]> {
    (ip[..10] == [0; 10] && ip[10] == 0xff && ip[11] == 0xff)
        .then(|| [ip[12], ip[13], ip[14], ip[15]])
}

/// `struct msghdr` (56 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Msghdr {
    pub msg_name: u64,
    pub msg_namelen: u32,
    pub msg_iov: u64,
    pub msg_iovlen: u64,
    pub msg_control: u64,
    pub msg_controllen: u64,
    pub msg_flags: u32,
}

impl Msghdr {
    pub const SIZE: usize = 56;
    /// Offsets of the fields `recvmsg` writes back.
    pub const NAMELEN_OFFSET: usize = 8;
    pub const CONTROLLEN_OFFSET: usize = 40;
    pub const FLAGS_OFFSET: usize = 48;

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Msghdr {
            msg_name: get_u64(b, 0),
            msg_namelen: get_u32(b, 8),
            msg_iov: get_u64(b, 16),
            msg_iovlen: get_u64(b, 24),
            msg_control: get_u64(b, 32),
            msg_controllen: get_u64(b, 40),
            msg_flags: get_u32(b, 48),
        })
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, 0, self.msg_name);
        put_u32(&mut b, 8, self.msg_namelen);
        put_u64(&mut b, 16, self.msg_iov);
        put_u64(&mut b, 24, self.msg_iovlen);
        put_u64(&mut b, 32, self.msg_control);
        put_u64(&mut b, 40, self.msg_controllen);
        put_u32(&mut b, 48, self.msg_flags);
        b
    }
}

/// `struct ucred` (`SO_PEERCRED`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ucred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

impl Ucred {
    pub const SIZE: usize = 12;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u32(&mut b, 0, self.pid as u32);
        put_u32(&mut b, 4, self.uid);
        put_u32(&mut b, 8, self.gid);
        b
    }
}

/// `sizeof(struct cmsghdr)`: `cmsg_len` (size_t), `cmsg_level`, `cmsg_type` (int).
pub const CMSG_HDR: usize = 16;

/// `CMSG_SPACE(len)`: a control message's header, data and padding to 8 bytes.
pub fn cmsg_space(len: usize) -> usize {
    CMSG_HDR + len.div_ceil(8) * 8
}

/// One control message of `sendmsg`: (level, type, data).
pub type Cmsg<'a> = (u32, u32, &'a [u8]);

/// The control messages in a `msg_control` buffer, as Linux walks them (`CMSG_NXTHDR`):
/// a `cmsg_len` shorter than the header or past the buffer is EINVAL; a tail shorter than
/// a header ends the walk.
pub fn parse_cmsgs(control: &[u8]) -> Result<Vec<Cmsg<'_>>, Errno> {
    let mut out = Vec::new();
    let mut at = 0;
    while control.len() - at >= CMSG_HDR {
        let len = get_u64(control, at);
        if len < CMSG_HDR as u64 || len > (control.len() - at) as u64 {
            return Err(Errno::EINVAL);
        }
        let len = len as usize;
        out.push((
            get_u32(control, at + 8),
            get_u32(control, at + 12),
            &control[at + CMSG_HDR..at + len],
        ));
        at += cmsg_space(len - CMSG_HDR).min(control.len() - at);
    }
    Ok(out)
}

/// A control message for `recvmsg`, padded to `CMSG_SPACE`.
pub fn cmsg_bytes(level: u32, kind: u32, data: &[u8]) -> Vec<u8> {
    let mut b = alloc::vec![0u8; cmsg_space(data.len())];
    put_u64(&mut b, 0, (CMSG_HDR + data.len()) as u64);
    put_u32(&mut b, 8, level);
    put_u32(&mut b, 12, kind);
    b[CMSG_HDR..CMSG_HDR + data.len()].copy_from_slice(data);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn un(path: &[u8]) -> Vec<u8> {
        let mut b = vec![1u8, 0];
        b.extend_from_slice(path);
        b
    }

    #[test]
    fn unix_paths_stop_at_the_first_nul() {
        let a = SocketAddress::parse(&un(b"/tmp/s\0junk"), AF_UNIX, AddressUse::Bind).unwrap();
        assert_eq!(a, SocketAddress::UnixPath(b"/tmp/s".to_vec()));
        assert_eq!(a.to_bytes(), un(b"/tmp/s\0"));
    }

    #[test]
    fn unix_abstract_names_keep_their_nuls() {
        let a = SocketAddress::parse(&un(b"\0ab\0c"), AF_UNIX, AddressUse::Connect).unwrap();
        assert_eq!(a, SocketAddress::UnixAbstract(b"ab\0c".to_vec()));
        assert_eq!(a.to_bytes(), un(b"\0ab\0c"));
    }

    #[test]
    fn unix_family_only_is_autobind_or_einval() {
        let b = un(b"");
        assert_eq!(
            SocketAddress::parse(&b, AF_UNIX, AddressUse::Bind),
            Ok(SocketAddress::UnixUnnamed)
        );
        assert_eq!(
            SocketAddress::parse(&b, AF_UNIX, AddressUse::Connect),
            Err(Errno::EINVAL)
        );
        assert_eq!(SocketAddress::UnixUnnamed.to_bytes(), b);
    }

    #[test]
    fn bad_lengths_and_families() {
        assert_eq!(
            SocketAddress::parse(&[1], AF_UNIX, AddressUse::Bind),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            SocketAddress::parse(&[1u8; 111], AF_UNIX, AddressUse::Bind),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            SocketAddress::parse(&[2, 0, 0, 80, 127, 0, 0], AF_INET, AddressUse::Bind),
            Err(Errno::EINVAL)
        );
        let mut in4 = [0u8; 16];
        in4[0] = 10;
        assert_eq!(
            SocketAddress::parse(&in4, AF_INET, AddressUse::Connect),
            Err(Errno::EAFNOSUPPORT)
        );
        // AF_UNSPEC with INADDR_ANY is accepted by bind only.
        in4[0] = 0;
        assert!(SocketAddress::parse(&in4, AF_INET, AddressUse::Bind).is_ok());
        assert_eq!(
            SocketAddress::parse(&in4, AF_INET, AddressUse::Connect),
            Err(Errno::EAFNOSUPPORT)
        );
        assert_eq!(
            SocketAddress::parse(&[10, 0, 0, 0], 99, AddressUse::Bind),
            Err(Errno::EAFNOSUPPORT)
        );
    }

    #[test]
    fn inet_round_trip_in_network_order() {
        let b = [2u8, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        let a = SocketAddress::parse(&b, AF_INET, AddressUse::Connect).unwrap();
        assert_eq!(
            a,
            SocketAddress::Inet {
                ip: [127, 0, 0, 1],
                port: 8080
            }
        );
        assert_eq!(a.to_bytes(), b.to_vec());
        assert_eq!(a.ip_port(), Some((v4_mapped([127, 0, 0, 1]), 8080)));
    }

    #[test]
    fn inet6_accepts_the_rfc2133_length() {
        let mut b = [0u8; 28];
        b[0] = 10;
        b[3] = 80;
        b[23] = 1; // ::1
        b[24] = 7;
        let full = SocketAddress::parse(&b, AF_INET6, AddressUse::Connect).unwrap();
        assert_eq!(full.to_bytes(), b.to_vec());
        let short = SocketAddress::parse(&b[..24], AF_INET6, AddressUse::Connect).unwrap();
        assert_eq!(short.ip_port(), full.ip_port());
        assert_eq!(
            SocketAddress::parse(&b[..23], AF_INET6, AddressUse::Connect),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn mapped_addresses_show_in_the_socket_family() {
        let ip = v4_mapped([127, 0, 0, 1]);
        assert_eq!(
            SocketAddress::from_ip_port(AF_INET, ip, 9),
            SocketAddress::Inet {
                ip: [127, 0, 0, 1],
                port: 9
            }
        );
        assert!(matches!(
            SocketAddress::from_ip_port(AF_INET6, ip, 9),
            SocketAddress::Inet6 { port: 9, .. }
        ));
        assert_eq!(v4_of_mapped(&ip), Some([127, 0, 0, 1]));
        assert_eq!(v4_of_mapped(&[0; 16]), None);
    }

    #[test]
    fn control_messages_round_trip_and_bad_lengths_fail() {
        let mut control = cmsg_bytes(1, 1, &[3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(control.len(), 32);
        control.extend(cmsg_bytes(1, 2, &[9; 12]));
        let parsed = parse_cmsgs(&control).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].0, 1);
        assert_eq!(parsed[0].1, 1);
        assert_eq!(parsed[0].2.len(), 12);
        assert_eq!(parsed[1].1, 2);
        // A short tail ends the walk; a length past the buffer or below the header fails.
        control.extend([0u8; 8]);
        assert_eq!(parse_cmsgs(&control).unwrap().len(), 2);
        let mut bad = cmsg_bytes(1, 1, &[0; 4]);
        bad[0] = 200;
        assert_eq!(parse_cmsgs(&bad), Err(Errno::EINVAL));
        bad[0] = 8;
        assert_eq!(parse_cmsgs(&bad), Err(Errno::EINVAL));
        assert_eq!(cmsg_space(0), 16);
        assert_eq!(cmsg_space(4), 24);
    }

    #[test]
    fn msghdr_fields_at_linux_offsets() {
        let m = Msghdr {
            msg_name: 1,
            msg_namelen: 2,
            msg_iov: 3,
            msg_iovlen: 4,
            msg_control: 5,
            msg_controllen: 6,
            msg_flags: 7,
        };
        let b = m.to_bytes();
        use crate::structs::testutil::rd;
        assert_eq!(rd(&b, 0, 8), 1);
        assert_eq!(rd(&b, 8, 4), 2);
        assert_eq!(rd(&b, 16, 8), 3);
        assert_eq!(rd(&b, 24, 8), 4);
        assert_eq!(rd(&b, 32, 8), 5);
        assert_eq!(rd(&b, Msghdr::CONTROLLEN_OFFSET, 8), 6);
        assert_eq!(rd(&b, Msghdr::FLAGS_OFFSET, 4), 7);
        assert_eq!(Msghdr::from_bytes(&b), Some(m));
        assert_eq!(Msghdr::from_bytes(&b[..55]), None);
    }
}
